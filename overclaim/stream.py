"""JSON-lines moderation stream: one record out per line in, same order, ids echoed, bad lines reported.

A line is ``{"id": ..., "text": "..."}`` or a bare JSON string. A line that is not valid JSON, has no text, or has
a text that is not a string gives ``{"id": ..., "error": "..."}`` and the stream goes on. Lines are scored in
batches of what has arrived (at most ``batch_size``), and each batch is flushed, so the filter works in a pipe.
"""
from __future__ import annotations

import io
import json
import os
from typing import IO, Iterable, Iterator

from overclaim.moderation import parse_item, records, to_json
from overclaim.scorer import MAX_CHARS

BATCH_SIZE = 256
READ_BYTES = 1 << 16
# A text may have MAX_CHARS characters; even with every one JSON-escaped its line is far shorter than this.
MAX_LINE_BYTES = 16 << 20


def parse_line(raw: bytes | str, number: int) -> tuple[object, str | None, str | None]:
    """``(id, text, error)`` of one input line; ``id`` defaults to the 1-based line number."""
    if isinstance(raw, TooLong):
        return number, None, (f"line is {raw:,} bytes, over the limit of {MAX_LINE_BYTES:,}; a text may have at "
                              f"most {MAX_CHARS:,} characters")
    try:
        line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        return number, None, "line is not valid UTF-8"
    try:
        item = json.loads(line)
    except ValueError as error:
        return number, None, f"invalid JSON: {error}"
    return parse_item(item, number)


def line_batches(stream: IO, batch_size: int = BATCH_SIZE) -> Iterator[list]:
    """Lists of at most ``batch_size`` non-blank lines, each as soon as the lines in it have arrived."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None
    if fd is None:  # an in-memory stream: everything has arrived already
        batch = []
        for line in stream:
            if line.strip():
                batch.append(line)
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    for lines in _arrivals(fd):
        for start in range(0, len(lines), batch_size):
            yield lines[start : start + batch_size]


class TooLong(int):
    """A line of more than ``MAX_LINE_BYTES`` (its length in bytes), which was counted but not kept."""


def _arrivals(fd: int) -> Iterator[list]:
    """After each read from ``fd``, the non-blank lines it completed (at the end of input, the last line too).

    A line's pieces are kept in a list and joined once, so a long line costs time linear in its length (adding each
    read to a growing bytes object was quadratic: 12 s for a 40 MB line); a line over ``MAX_LINE_BYTES`` is not
    kept, only measured, and arrives as :class:`TooLong`."""
    pieces: list[bytes] = []
    size = 0  # bytes of the line being read, kept or not
    while data := os.read(fd, READ_BYTES):
        *ends, rest = data.split(b"\n")
        complete = []
        for end in ends:
            size += len(end)
            complete.append(TooLong(size) if size > MAX_LINE_BYTES else b"".join([*pieces, end]))
            pieces, size = [], 0
        size += len(rest)
        if size <= MAX_LINE_BYTES:
            pieces.append(rest)
        else:
            pieces.clear()
        yield [line for line in complete if isinstance(line, TooLong) or line.strip()]
    last = TooLong(size) if size > MAX_LINE_BYTES else b"".join(pieces)
    yield [last] if isinstance(last, TooLong) or last.strip() else []


def moderate(lines: Iterable[list], scorer, thresholds=None) -> Iterator[list[dict]]:
    """Score batches of raw lines; yields, per batch, one record per line in the same order."""
    number = 0
    for batch in lines:
        parsed = [parse_line(raw, number + i) for i, raw in enumerate(batch, start=1)]
        number += len(batch)
        yield records(scorer, parsed, thresholds)


def write_records(batches: Iterable[list[dict]], out: IO) -> int:
    """Write each batch as JSON lines and flush it; returns the number of records written."""
    count = 0
    for batch in batches:
        out.write("".join(to_json(r) + "\n" for r in batch))
        out.flush()
        count += len(batch)
    return count
