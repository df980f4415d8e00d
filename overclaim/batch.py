"""Score a file of texts in chunks: CSV, Parquet or JSON lines in and out, every input row and column kept.

Memory stays flat whatever the file size: rows are read, scored and written one chunk at a time, with at most
two chunks per worker in flight. Output goes to a temporary file beside ``OUT`` that is renamed when complete,
so an interrupted run never leaves a partial file under the output's name.
"""
from __future__ import annotations

import codecs
import os
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from overclaim.scorer import load

CHUNK_ROWS = 5_000
ADDED_COLUMNS = ("overclaim_risk", "overclaim_decision", "overclaim_rule", "overclaim_citation", "overclaim_reasons",
                 "overclaim_claim_types", "overclaim_top_sentence", "overclaim_truncated")
FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
           ".ndjson": "jsonl"}


class BatchError(ValueError):
    """A batch that cannot run; the message says what is wrong and what to do, in one line."""


@dataclass
class Summary:
    """What a batch run did."""

    rows: int = 0
    decisions: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    output: str = ""

    def line(self) -> str:
        """One line for people."""
        rate = self.rows / self.seconds if self.seconds else 0.0
        counts = ", ".join(f"{d} {self.decisions.get(d, 0)}" for d in ("allow", "review", "block"))
        return f"scored {self.rows} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s): {counts} -> {self.output}"


def file_format(path: Path) -> str:
    """``csv``, ``parquet`` or ``jsonl``, from the file name's extension."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BatchError(f"{path}: unknown extension {suffix!r}; use one of {', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


class _CountingReader:
    """A binary file wrapper that counts the bytes read, for the progress bar."""

    def __init__(self, handle):
        self.handle, self.count = handle, 0

    def read(self, size=-1):
        data = self.handle.read(size)
        self.count += len(data)
        return data

    def readable(self):
        return True

    def __getattr__(self, name):
        return getattr(self.handle, name)


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


def read_chunks(path: Path, text_column: str, encoding: str = "utf-8", chunk_rows: int = CHUNK_ROWS):
    """Yield ``(frame, bytes_read)`` chunks with every column as read (CSV and JSON lines as text, so nothing
    is reformatted); checks the text column on the first chunk."""
    kind = file_format(path)
    if kind == "parquet":
        chunks = _parquet_chunks(path, chunk_rows)
    else:
        chunks = _text_chunks(path, kind, encoding, chunk_rows)
    first = True
    try:
        for frame, done in chunks:
            if first and text_column not in frame.columns:
                raise BatchError(f"{path}: no column {text_column!r}; columns are: {', '.join(map(str, frame.columns))}")
            clash = [c for c in ADDED_COLUMNS if first and c in frame.columns]
            if clash:
                raise BatchError(f"{path}: already has column(s) {', '.join(clash)}, which overclaim adds; rename them")
            first = False
            yield frame, done
    except BatchError:
        raise
    except UnicodeDecodeError:
        line, offset = _first_undecodable_line(path, encoding)
        raise BatchError(f"{path}: line {line} (byte {offset}) is not valid {encoding}; "
                         f"pass --encoding (for example latin-1)") from None
    except (pd.errors.ParserError, ValueError) as error:
        message = " ".join(str(error).split())
        raise BatchError(f"{path}: cannot parse as {kind}: {message}") from None


def _text_chunks(path: Path, kind: str, encoding: str, chunk_rows: int):
    with open(path, "rb") as raw:
        counted = _CountingReader(raw)
        if kind == "csv":
            reader = pd.read_csv(counted, dtype=str, keep_default_na=False, chunksize=chunk_rows, encoding=encoding,
                                 sep="\t" if path.suffix.lower() == ".tsv" else ",")
        else:
            reader = pd.read_json(counted, lines=True, chunksize=chunk_rows, dtype=False, encoding=encoding)
        with reader:
            for frame in reader:
                yield frame, counted.count


def _parquet_chunks(path: Path, chunk_rows: int):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BatchError("reading Parquet needs pyarrow: pip install 'overclaim[parquet]'") from None
    parquet = pq.ParquetFile(path)
    done, total_rows, size = 0, max(1, parquet.metadata.num_rows), path.stat().st_size
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        done += batch.num_rows
        # Index columns stay columns, as the Dask engine reads them: a named index is data, never dropped.
        yield batch.to_pandas(ignore_metadata=True), int(size * done / total_rows)


class _Writer:
    """Appends scored chunks to a temporary file beside ``path``; :meth:`commit` renames it into place."""

    def __init__(self, path: Path):
        self.path, self.kind = path, file_format(path)
        self.temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
        self.started = False
        self._parquet = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "csv":
            frame.to_csv(self.temporary, mode="a" if self.started else "w", header=not self.started, index=False,
                         sep="\t" if self.path.suffix.lower() == ".tsv" else ",")
        elif self.kind == "jsonl":
            with open(self.temporary, "a" if self.started else "w", encoding="utf-8") as handle:
                frame.to_json(handle, orient="records", lines=True, force_ascii=False)
        else:
            self._write_parquet(frame)
        self.started = True

    def _write_parquet(self, frame):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise BatchError("writing Parquet needs pyarrow: pip install 'overclaim[parquet]'") from None
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.temporary, table.schema)
        self._parquet.write_table(table.cast(self._parquet.schema))

    def commit(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if not self.started:
            self.write(pd.DataFrame(columns=list(ADDED_COLUMNS)))
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        self.temporary.unlink(missing_ok=True)


# Each worker process loads the model once, in its initializer, and keeps it.
_WORKER_SCORER = None


def _init_worker(model_path, thresholds, policy, sha256) -> None:
    global _WORKER_SCORER
    _WORKER_SCORER = load(model_path, thresholds=thresholds, policy=policy, sha256=sha256)


def score_texts(scorer, texts) -> dict[str, list]:
    """The added columns for a list of texts (missing or empty text: risk 0, allow)."""
    cleaned = ["" if t is None or (isinstance(t, float) and t != t) else str(t) for t in texts]
    columns = {name: [] for name in ADDED_COLUMNS}
    for result in scorer.score_many(cleaned):
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


def _score_in_worker(texts) -> dict[str, list]:
    return score_texts(_WORKER_SCORER, texts)


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
        force=False, encoding="utf-8", chunk_rows: int = CHUNK_ROWS, progress=None, model_sha256=None) -> Summary:
    """Score ``in_path`` into ``out_path`` under ``policy`` (``default`` when ``None``);
    ``progress(bytes_read, rows_done)`` is called after each chunk; ``model_sha256`` pins the model's digest."""
    preflight(in_path, out_path, force, jobs)
    in_path, out_path = Path(in_path), Path(out_path)
    started, summary = time.perf_counter(), Summary(output=str(out_path))
    chunks = read_chunks(in_path, text_column, encoding, chunk_rows)
    writer = _Writer(out_path)
    try:
        # Loaded before the workers fork, so they share the model's memory instead of each loading a copy.
        scorer = load(model_path, thresholds=thresholds, policy=policy, sha256=model_sha256)
        if jobs == 1:
            scored = ((frame, done, score_texts(scorer, frame[text_column].tolist())) for frame, done in chunks)
            _drain(scored, writer, summary, progress)
        else:
            with ProcessPoolExecutor(jobs - 1, initializer=_init_worker,
                                     initargs=(model_path, thresholds, scorer.policy,
                                               scorer.model.meta["sha256"])) as pool:
                _drain(_parallel(pool, scorer, chunks, text_column, jobs), writer, summary, progress)
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    summary.seconds = time.perf_counter() - started
    return summary


def _parallel(pool, scorer, chunks, text_column: str, jobs: int):
    """Chunks with their scores, in input order: ``jobs - 1`` workers take their turns and this process takes
    every ``jobs``-th chunk itself, with at most two chunks per process in flight."""
    queue = deque()
    for number, (frame, done) in enumerate(chunks):
        texts = frame[text_column].tolist()
        mine = number % jobs == jobs - 1
        queue.append((frame, done, score_texts(scorer, texts) if mine else pool.submit(_score_in_worker, texts)))
        while len(queue) > 2 * jobs:
            yield _resolved(queue.popleft())
    while queue:
        yield _resolved(queue.popleft())


def _resolved(item):
    frame, done, columns = item
    return frame, done, columns if isinstance(columns, dict) else columns.result()


def _drain(scored, writer: _Writer, summary: Summary, progress) -> None:
    for frame, done, columns in scored:
        for name in ADDED_COLUMNS:
            frame[name] = columns[name]
        writer.write(frame)
        summary.rows += len(frame)
        summary.decisions.update(columns["overclaim_decision"])
        if progress is not None:
            progress(done, summary.rows)
