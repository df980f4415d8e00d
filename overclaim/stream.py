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

BATCH_SIZE = 256
READ_BYTES = 1 << 16


def parse_line(raw: bytes | str, number: int) -> tuple[object, str | None, str | None]:
    """``(id, text, error)`` of one input line; ``id`` defaults to the 1-based line number."""
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
    pending = b""
    while True:
        data = os.read(fd, READ_BYTES)
        if data:
            *complete, pending = (pending + data).split(b"\n")
        else:
            complete, pending = [pending], b""
        lines = [line for line in complete if line.strip()]
        for start in range(0, len(lines), batch_size):
            yield lines[start : start + batch_size]
        if not data:
            return


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
