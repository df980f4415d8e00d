"""Score a file of texts in chunks: CSV, Parquet or JSON lines in and out, every input row and column kept (or, with
``per_sentence``, one row per sentence).

Memory stays flat whatever the file size: rows are read, scored and written one chunk at a time, with at most
two chunks per worker in flight, and no CSV field or JSON line longer than ``MAX_FIELD_CHARS`` is held. Output
goes to a temporary file beside ``OUT`` that is renamed when complete, so an interrupted run never leaves a
partial file under the output's name; SIGINT and SIGTERM (under :func:`stop_on_signals`) kill the workers and
delete it, and the next run deletes one left by a run killed outright.
"""
from __future__ import annotations

import codecs
import io
import csv
import ctypes
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import sys
import time
from collections import Counter, deque
from typing import cast
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from glob import escape
from pathlib import Path

import numpy as np
import pandas as pd

from overclaim.scorer import load

CHUNK_ROWS = 5_000
# The longest CSV field or JSON line read: a longer one stops the run naming its line, where holding it would take
# several times its size in memory (a 1 GB field took 8.6 GB). The scorer reads only its first MAX_CHARS anyway.
MAX_FIELD_CHARS = 10_000_000
ADDED_COLUMNS = ("overclaim_risk", "overclaim_decision", "overclaim_rule", "overclaim_citation", "overclaim_reasons",
                 "overclaim_claim_types", "overclaim_top_sentence", "overclaim_truncated")
# With --per-sentence, one row per sentence: the input's columns but the text, then these (name: dtype, so that a
# chunk without sentences writes the same Parquet schema as the others).
SENTENCE_COLUMNS = {"overclaim_row": "int64", "overclaim_sentence": "int64", "overclaim_start": "int64",
                    "overclaim_end": "int64", "overclaim_text": "str", "overclaim_risk": "float64",
                    "overclaim_decision": "str", "overclaim_rule": "str", "overclaim_citation": "str",
                    "overclaim_reasons": "str", "overclaim_claim_types": "str", "overclaim_hedging": "float64"}
# What --replace drops from an input scored before, in either mode.
OVERCLAIM_COLUMNS = frozenset(ADDED_COLUMNS) | frozenset(SENTENCE_COLUMNS)
FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
           ".ndjson": "jsonl"}


def partial_path(out_path: Path) -> Path:
    """The hidden temporary output of this process beside ``out_path``, renamed to it when complete."""
    return out_path.with_name(f".{out_path.name}.partial-{os.getpid()}")


def remove_stale_partials(out_path: Path) -> None:
    """Delete the temporary outputs beside ``out_path`` left by runs whose process is gone: SIGKILL (or a power
    cut) gives a run no chance to delete its own. A live process's, another run into the same output, stays."""
    for stale in out_path.parent.glob(f".{escape(out_path.name)}.partial-*"):
        pid = stale.name.rpartition("-")[2]
        if not pid.isdigit() or _running(int(pid)):
            continue
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a batch ran; raised in the main thread, so that the run stops its workers
    and deletes its temporary output on the way out."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}; no output written")
        self.exit_code = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


@contextmanager
def stop_on_signals():
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while the block runs (SIGTERM would otherwise end the
    process on the spot, leaving the temporary output and the workers behind); a second signal is ignored, so
    that it cannot cut the clean-up short."""
    def interrupt(signum, frame):
        for number in previous:
            signal.signal(number, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def signals_held():
    """Hold SIGINT and SIGTERM while the block runs and deliver one that arrived when it ends, for steps that an
    exception half-way through would leave in a state nothing can clean up (a Dask cluster starting)."""
    arrived = []
    previous = {number: signal.signal(number, lambda signum, frame: arrived.append(signum))
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if arrived:
            signal.raise_signal(arrived[0])


class BatchError(ValueError):
    """A batch that cannot run; the message says what is wrong and what to do, in one line."""


@dataclass
class Summary:
    """What a batch run did."""

    rows: int = 0
    decisions: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    output: str = ""
    sentences: int | None = None  # rows written with --per-sentence

    def line(self) -> str:
        """One line for people."""
        rate = self.rows / self.seconds if self.seconds else 0.0
        counts = ", ".join(f"{d} {self.decisions.get(d, 0)}" for d in ("allow", "review", "block"))
        written = "" if self.sentences is None else f" into {self.sentences} sentence rows"
        return (f"scored {self.rows} rows{written} in {self.seconds:.1f} s ({rate:,.0f} rows/s): {counts} -> "
                f"{self.output}")


def file_format(path: Path) -> str:
    """``csv``, ``parquet`` or ``jsonl``, from the file name's extension."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BatchError(f"{path}: unknown extension {suffix!r}; use one of {', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


def _first_undecodable_line(path: Path, encoding: str) -> tuple[int, int]:
    """(line number, byte offset) of the first bytes ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line, offset = 1, 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                return line + block[: error.start].count(b"\n"), offset + error.start
            line += block.count(b"\n")
            offset += len(block)
    return line, offset


def columns_to_drop(path, columns, text_column: str, added, replace: bool) -> list[str]:
    """The input ``columns`` that ``replace`` drops (those overclaim writes, but the text); without ``replace``,
    an input column of the ``added`` ones is an error, as is a missing text column."""
    if text_column not in columns:
        raise BatchError(f"{path}: no column {text_column!r}; columns are: {', '.join(map(str, columns))}")
    clash = [c for c in columns if c in added]
    if clash and not replace:
        raise BatchError(f"{path}: already has column(s) {', '.join(clash)}, which overclaim adds; pass --replace "
                         f"to drop and write them afresh, or rename them")
    if text_column in added:
        raise BatchError(f"{path}: the text column {text_column!r} is one overclaim writes; rename it")
    return [c for c in columns if c in OVERCLAIM_COLUMNS and c != text_column] if replace else []


def read_chunks(path: Path, text_column: str, encoding: str = "utf-8", chunk_rows: int = CHUNK_ROWS,
                added=ADDED_COLUMNS, replace: bool = False):
    """Yield ``(frame, bytes_read)`` chunks (at least one, maybe empty), all with the same columns in the input's
    order and the same dtypes, so that every chunk lands under the output's one header and schema. An input column
    among ``added`` is an error, or with ``replace`` dropped with the others overclaim writes.

    CSV values stay text, so nothing is reformatted ("007", "NA"). JSON lines are read twice: first for the keys
    and the JSON types of their values over the whole file (in order of first appearance; a row without a key
    gets a null), then in chunks, so a key that first appears late is still a column and integers with nulls stay
    integers (``Int64``). Parquet keeps its types, integers and booleans with nulls as nullable dtypes.
    """
    kind = file_format(path)
    chunks = {"csv": _csv_chunks, "jsonl": _jsonl_chunks, "parquet": _parquet_chunks}[kind](path, encoding, chunk_rows)
    drop = None
    try:
        for frame, done in chunks:
            if drop is None:
                drop = columns_to_drop(path, frame.columns, text_column, added, replace)
            yield frame.drop(columns=drop), done
    except BatchError:
        raise
    except UnicodeDecodeError:
        line, offset = _first_undecodable_line(path, encoding)
        raise BatchError(f"{path}: line {line} (byte {offset}) is not valid {encoding}; "
                         f"pass --encoding (for example latin-1)") from None
    except ValueError as error:  # pyarrow's errors on a broken Parquet file
        message = " ".join(str(error).split())
        raise BatchError(f"{path}: cannot parse as {kind}: {message}") from None


def _lines(handle, path: Path):
    """``(line number, line)`` of a text file; a line longer than :data:`MAX_FIELD_CHARS` is an error, raised
    before more than that is held in memory."""
    number = 0
    while line := handle.readline(MAX_FIELD_CHARS + 1):
        number += 1
        if len(line) > MAX_FIELD_CHARS:
            raise BatchError(f"{path}: line {number} is longer than {MAX_FIELD_CHARS:,} characters, the most "
                             f"batch reads in one line or field; shorten or drop that row")
        yield number, line


def _csv_chunks(path: Path, encoding: str, chunk_rows: int):
    # The csv module stops at a field longer than its limit, where pandas' parser grows buffers to ~8x the field.
    limit = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        with open(path, encoding=encoding, newline="") as handle:
            lines = _lines(handle, path)
            rows = csv.reader((line for _, line in lines), strict=True,
                              delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            try:
                header = next((row for row in rows if row), None)
                if header is None:
                    raise BatchError(f"{path}: cannot parse as csv: the file has no header row")
                header[0] = header[0].removeprefix("\ufeff")
                twice = next((name for i, name in enumerate(header) if name in header[:i]), None)
                if twice is not None:
                    raise BatchError(f"{path}: column {twice!r} appears twice in the header; rename one")
                chunk, sent = [], False
                for row in rows:
                    if not row:
                        continue  # a blank line, as pandas skips it
                    if len(row) > len(header):
                        raise BatchError(f"{path}: cannot parse as csv: line {rows.line_num} has {len(row)} fields, "
                                         f"the header {len(header)}")
                    chunk.append(row)
                    if len(chunk) == chunk_rows:
                        yield _csv_frame(header, chunk), _bytes_read(handle)
                        chunk, sent = [], True
                if chunk or not sent:
                    yield _csv_frame(header, chunk), _bytes_read(handle)
            except csv.Error as error:
                if "field limit" in str(error):
                    raise BatchError(f"{path}: line {rows.line_num} holds a field longer than {MAX_FIELD_CHARS:,} "
                                     f"characters, the most batch reads in one line or field; shorten or drop that "
                                     f"row") from None
                raise BatchError(f"{path}: cannot parse as csv: line {rows.line_num}: {error}") from None
    finally:
        csv.field_size_limit(limit)


def _csv_frame(header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """Text columns; a row shorter than the header gets missing values (NaN), as pandas reads it."""
    return pd.DataFrame({name: pd.Series([row[i] if i < len(row) else None for row in rows], dtype="str")
                         for i, name in enumerate(header)})


# The dtype of a JSON key from the kinds of value it holds over the whole file (nulls aside); anything else, such
# as mixed kinds, lists or objects, stays as parsed in an object column.
_JSON_DTYPES = {frozenset({"int"}): "Int64", frozenset({"int", "float"}): "Float64", frozenset({"float"}): "Float64",
                frozenset({"bool"}): "boolean", frozenset({"str"}): "str"}
_INT64 = range(-(2**63), 2**63)


def _json_kind(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if value in _INT64 else "bigint"
    return {float: "float", str: "str"}.get(type(value), "other")


def _bytes_read(handle: io.TextIOWrapper) -> int:
    """Bytes of the file read so far, for the progress bar."""
    return cast(io.BufferedReader, handle.buffer).tell()


def _json_objects(path: Path, encoding: str):
    """``(line number, object, bytes read)`` of each non-blank line."""
    with open(path, encoding=encoding) as handle:
        for number, line in _lines(handle, path):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise BatchError(f"{path}: line {number} is not valid JSON: {error.msg} "
                                 f"(column {error.colno})") from None
            if not isinstance(value, dict):
                kind = {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
                raise BatchError(f"{path}: line {number} is a JSON {kind}, not an object; each line must be one row "
                                 f"as an object")
            yield number, value, _bytes_read(handle)


def _jsonl_chunks(path: Path, encoding: str, chunk_rows: int):
    kinds: dict[str, set[str]] = {}  # a key's kinds of value, nulls aside
    for _, row, _ in _json_objects(path, encoding):
        for key, value in row.items():
            found = kinds.setdefault(key, set())
            if (kind := _json_kind(value)) is not None:
                found.add(kind)
    dtypes = {key: _JSON_DTYPES.get(frozenset(found), object) for key, found in kinds.items()}
    chunk, sent, done = [], False, 0
    for _, row, done in _json_objects(path, encoding):
        chunk.append(row)
        if len(chunk) == chunk_rows:
            yield _json_frame(dtypes, chunk), done
            chunk, sent = [], True
    if chunk or not sent:
        yield _json_frame(dtypes, chunk), done


def _json_frame(dtypes: dict, rows: list[dict]) -> pd.DataFrame:
    # Series, not pd.array: a DataFrame turns an object array of strings alone into a str column, so a chunk
    # whose mixed-kind key held only strings would change dtype.
    return pd.DataFrame({key: pd.Series([row.get(key) for row in rows], dtype=dtype, index=range(len(rows)))
                         for key, dtype in dtypes.items()}, index=range(len(rows)))


def _parquet_chunks(path: Path, encoding: str, chunk_rows: int):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BatchError("reading Parquet needs pyarrow: pip install 'overclaim[parquet]'") from None
    parquet = pq.ParquetFile(path)
    done, total_rows, size = 0, max(1, parquet.metadata.num_rows), path.stat().st_size
    # Index columns stay columns, as the Dask engine reads them: a named index is data, never dropped.
    batches = parquet.iter_batches(batch_size=chunk_rows)
    first = next(batches, None) or parquet.schema_arrow.empty_table()
    for batch in itertools.chain([first], batches):
        done += batch.num_rows
        yield batch.to_pandas(ignore_metadata=True, types_mapper=nullable_dtype), int(size * done / total_rows)


def nullable_dtype(arrow_type):
    """The pandas dtype for a Parquet column of ``arrow_type``: nullable for integers and booleans, which would
    become float64 and object when they hold nulls (2**53 + 1 would come out as 2**53); ``None`` (pandas'
    default) for the others."""
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):  # int64 -> Int64, uint8 -> UInt8
        return pd.api.types.pandas_dtype(str(arrow_type).capitalize().replace("Ui", "UI"))
    return pd.BooleanDtype() if pa.types.is_boolean(arrow_type) else None


def csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as it should read in CSV: booleans as ``true``/``false`` and lists and objects as JSON text, where
    pandas would write ``True`` and Python's repr (``['a', 1]``, ``{'k': None}``)."""
    cells = frame.copy(deep=False)
    for name, column in frame.items():
        if column.dtype == object or pd.api.types.is_bool_dtype(column.dtype):
            cells[name] = column.astype(object).map(_csv_cell, na_action="ignore")
    return cells


def _csv_cell(value):
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (list, dict, np.ndarray)):
        return _json_text(value)
    return value


def _json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


class _Writer:
    """Appends scored chunks to a temporary file beside ``path``; :meth:`commit` renames it into place. Every chunk
    has the first one's columns and dtypes (:func:`read_chunks` sees to it).

    ``json_objects``: write object columns (JSON lines keys holding lists, objects or mixed kinds) as JSON text in
    Parquet, where Arrow would type them by the first chunk's values and refuse a later chunk's."""

    def __init__(self, path: Path, json_objects: bool = False):
        self.path, self.kind, self.json_objects = path, file_format(path), json_objects
        self.temporary = partial_path(path)
        self.started = False
        self._parquet = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "csv":
            csv_cells(frame).to_csv(self.temporary, mode="a" if self.started else "w", header=not self.started,
                                    index=False, sep="\t" if self.path.suffix.lower() == ".tsv" else ",")
        elif self.kind == "jsonl":
            with open(self.temporary, "a" if self.started else "w", encoding="utf-8") as handle:
                # json.dumps, not pandas' to_json: it keeps every float's digits (to_json keeps 10) and any integer.
                for row in frame.to_dict("records"):
                    handle.write(json.dumps({k: _none_if_missing(v) for k, v in row.items()}, ensure_ascii=False,
                                            default=_json_default) + "\n")
        else:
            self._write_parquet(frame)
        self.started = True

    def _write_parquet(self, frame):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise BatchError("writing Parquet needs pyarrow: pip install 'overclaim[parquet]'") from None
        if self.json_objects:
            frame = frame.copy(deep=False)
            for name in frame.columns[frame.dtypes == object]:
                frame[name] = frame[name].map(_json_text, na_action="ignore").astype("str")
        try:
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.temporary, pa.Schema.from_pandas(frame, preserve_index=False))
            self._parquet.write_table(pa.Table.from_pandas(frame, schema=self._parquet.schema, preserve_index=False))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
            message = " ".join(str(error).split())
            raise BatchError(f"{self.path}: cannot write this input as Parquet ({message}); a column whose values "
                             f"mix types fits only CSV or JSON lines output") from None

    def commit(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        self.temporary.unlink(missing_ok=True)


def _none_if_missing(value):
    """A missing value as ``None`` (pandas holds it as NaN, NA or NaT, which json.dumps would write as NaN)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value


def _json_default(value):
    """What json.dumps cannot write by itself: NumPy values and arrays (Parquet lists) as theirs, others as text."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# Each worker process loads the model once, in its initializer, and keeps it.
_WORKER_SCORER = None


def _init_worker(model_path, thresholds, policy, sha256: str | None, parent: int) -> None:
    global _WORKER_SCORER
    # Ctrl-C reaches every process of the terminal's group: the parent stops the run and ends its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited through fork
    if sys.platform == "linux":
        # The kernel kills this worker when the parent ends, even by SIGKILL, which gives the parent no chance to
        # stop its pool: an orphan would hold its copy of the model (~210 MB) for ever.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent ended before prctl took effect
            os._exit(0)
    _WORKER_SCORER = load(model_path, thresholds=thresholds, policy=policy, sha256=sha256)


def _cleaned(texts) -> list[str]:
    return ["" if _none_if_missing(t) is None else str(t) for t in texts]


def score_texts(scorer, texts) -> dict[str, list]:
    """The added columns for a list of texts (missing or empty text: risk 0, allow)."""
    columns: dict[str, list] = {name: [] for name in ADDED_COLUMNS}
    for result in scorer.score_many(_cleaned(texts)):
        top = max(result.sentences, key=lambda s: s["risk"], default=None)
        columns["overclaim_risk"].append(result.risk)
        columns["overclaim_decision"].append(result.decision)
        columns["overclaim_rule"].append(result.rule)
        columns["overclaim_citation"].append(result.citation)
        columns["overclaim_reasons"].append(";".join(result.reasons))
        columns["overclaim_claim_types"].append(";".join(result.claim_types))
        columns["overclaim_top_sentence"].append(top["text"] if top else "")
        columns["overclaim_truncated"].append(result.truncated)
    return columns


def score_sentences(scorer, texts) -> tuple[dict[str, list], list[str]]:
    """The :data:`SENTENCE_COLUMNS` of a list of texts, ``overclaim_row`` counting the texts from 0, and each text's
    decision. A text without sentences (empty or missing) gives no row; offsets are in characters of the text."""
    columns: dict[str, list] = {name: [] for name in SENTENCE_COLUMNS}
    decisions = []
    for row, result in enumerate(scorer.score_many(_cleaned(texts))):
        decisions.append(result.decision)
        for number, sentence in enumerate(result.sentences):
            for name, value in (("overclaim_row", row), ("overclaim_sentence", number),
                                ("overclaim_start", sentence["start"]), ("overclaim_end", sentence["end"]),
                                ("overclaim_text", sentence["text"]), ("overclaim_risk", sentence["risk"]),
                                ("overclaim_decision", sentence["decision"]), ("overclaim_rule", sentence["rule"]),
                                ("overclaim_citation", sentence["citation"]),
                                ("overclaim_reasons", ";".join(sentence["reasons"])),
                                ("overclaim_claim_types", ";".join(sentence["claim_types"])),
                                ("overclaim_hedging", sentence["hedging"])):
                columns[name].append(value)
    return columns, decisions


def _scored(scorer, texts, per_sentence: bool) -> tuple[dict[str, list], list[str]]:
    """The columns to add (or the sentence rows' columns) and each text's decision."""
    if per_sentence:
        return score_sentences(scorer, texts)
    columns = score_texts(scorer, texts)
    return columns, columns["overclaim_decision"]


def _score_in_worker(texts, per_sentence: bool):
    return _scored(_WORKER_SCORER, texts, per_sentence)


def preflight(in_path, out_path, force: bool = False, jobs: int = 1) -> None:
    """The checks that need no reading: formats known, input present, output free (or ``force``), jobs >= 1."""
    in_path, out_path = Path(in_path), Path(out_path)
    file_format(in_path)
    file_format(out_path)
    if not in_path.is_file():
        raise BatchError(f"{in_path}: no such file")
    if out_path.exists() and not force:
        raise BatchError(f"{out_path} exists; pass --force to overwrite it")
    if jobs < 1:
        raise BatchError(f"--jobs must be at least 1, got {jobs}")


def run(in_path, out_path, text_column: str, *, model_path=None, thresholds=None, policy=None, jobs: int = 1,
        force=False, encoding="utf-8", chunk_rows: int = CHUNK_ROWS, progress=None, model_sha256=None,
        replace: bool = False, per_sentence: bool = False) -> Summary:
    """Score ``in_path`` into ``out_path`` under ``policy`` (``default`` when ``None``);
    ``progress(bytes_read, rows_done)`` is called after each chunk; ``model_sha256`` pins the model's digest.
    ``replace`` drops the input's columns that overclaim writes (else they are an error); ``per_sentence`` writes
    one row per sentence (:data:`SENTENCE_COLUMNS`) instead of one per input row."""
    preflight(in_path, out_path, force, jobs)
    in_path, out_path = Path(in_path), Path(out_path)
    remove_stale_partials(out_path)
    started = time.perf_counter()
    summary = Summary(output=str(out_path), sentences=0 if per_sentence else None)
    chunks = read_chunks(in_path, text_column, encoding, chunk_rows,
                         SENTENCE_COLUMNS if per_sentence else ADDED_COLUMNS, replace)
    writer = _Writer(out_path, json_objects=file_format(in_path) == "jsonl")
    try:
        # Loaded before the workers fork, so they share the model's memory instead of each loading a copy.
        scorer = load(model_path, thresholds=thresholds, policy=policy, sha256=model_sha256)
        if jobs == 1:
            scored = ((frame, done, _scored(scorer, frame[text_column].tolist(), per_sentence))
                      for frame, done in chunks)
            _drain(scored, writer, summary, progress, text_column)
        else:
            # fork on Linux (Python 3.14 defaults to forkserver): the workers share the model loaded above, and each
            # worker's parent is this process, whose end it follows.
            context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
            pool = ProcessPoolExecutor(jobs - 1, mp_context=context, initializer=_init_worker,
                                       initargs=(model_path, thresholds, scorer.policy, model_sha256, os.getpid()))
            try:
                _drain(_parallel(pool, scorer, chunks, text_column, jobs, per_sentence), writer, summary, progress,
                       text_column)
            except BaseException:
                _kill_workers(pool)
                raise
            pool.shutdown()
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    summary.seconds = time.perf_counter() - started
    return summary


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """End ``pool`` at once: its queued chunks are of no use to a run that stopped, and shutdown() would wait for
    them. (ProcessPoolExecutor has no public way to kill its processes before Python 3.14.)"""
    for process in list((pool._processes or {}).values()):
        process.kill()
    # A worker killed while sending a result leaves the pool's reader thread waiting for the rest of the message
    # for ever, since this process holds the pipe's other write end: closing it ends the wait (seen under load).
    pool._result_queue._writer.close()  # type: ignore[attr-defined]
    pool.shutdown(wait=True, cancel_futures=True)


def _parallel(pool, scorer, chunks, text_column: str, jobs: int, per_sentence: bool):
    """Chunks with their scores, in input order: ``jobs - 1`` workers take their turns and this process takes
    every ``jobs``-th chunk itself, with at most two chunks per process in flight."""
    queue: deque = deque()
    for number, (frame, done) in enumerate(chunks):
        texts = frame[text_column].tolist()
        mine = number % jobs == jobs - 1
        queue.append((frame, done, _scored(scorer, texts, per_sentence) if mine
                      else pool.submit(_score_in_worker, texts, per_sentence)))
        while len(queue) > 2 * jobs:
            yield _resolved(queue.popleft())
    while queue:
        yield _resolved(queue.popleft())


def _resolved(item):
    frame, done, columns = item
    return frame, done, columns if isinstance(columns, tuple) else columns.result()


def _drain(scored, writer: _Writer, summary: Summary, progress, text_column: str) -> None:
    for frame, done, (columns, decisions) in scored:
        if summary.sentences is None:
            for name in ADDED_COLUMNS:
                frame[name] = columns[name]
            writer.write(frame)
        else:
            rows = sentence_rows(frame, text_column, columns, first_row=summary.rows)
            writer.write(rows)
            summary.sentences += len(rows)
        summary.rows += len(frame)
        summary.decisions.update(decisions)
        if progress is not None:
            progress(done, summary.rows)


def sentence_rows(frame: pd.DataFrame, text_column: str, columns: dict[str, list], first_row: int) -> pd.DataFrame:
    """One row per sentence: its input row's columns but the text, then :data:`SENTENCE_COLUMNS` from
    :func:`score_sentences`, whose ``overclaim_row`` counts from the chunk's ``first_row`` in the input."""
    rows = frame.drop(columns=text_column).iloc[columns["overclaim_row"]].reset_index(drop=True)
    for name, dtype in SENTENCE_COLUMNS.items():
        rows[name] = pd.Series(columns[name], dtype=dtype)
    rows["overclaim_row"] += first_row
    return rows
