"""Score CSV or Parquet files on a Dask cluster: ``overclaim batch --engine dask``.

The input (a file, a glob or a directory) is read as a Dask dataframe; each partition is scored by
:func:`overclaim.batch.score_texts`, the function the local engine uses, so every row gets the same added
columns, and written as one file of a partitioned output directory. The client, every worker and the files must
share one filesystem (the same paths everywhere): the client lists the input and renames the output into place.

A partition's file is written under a temporary name and renamed when complete, and is named by the partition's
number, so when a worker dies and Dask runs its partitions again elsewhere, each row still lands in the output
once. The output directory is built beside ``OUT`` under a hidden name and renamed into place when every
partition is written.
"""
from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from functools import lru_cache
from glob import glob
from pathlib import Path

import pandas as pd

from overclaim.batch import ADDED_COLUMNS, CHUNK_ROWS, BatchError, Summary, columns_to_drop, csv_cells, \
    nullable_dtype, partial_path, remove_stale_partials, score_texts, signals_held
from overclaim.loader import ModelError
from overclaim.policy import DECISIONS
from overclaim.scorer import load

try:
    import dask
    import dask.dataframe as dd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from dask.utils import parse_bytes
    from distributed import Client, KilledWorker, LocalCluster, as_completed
except ImportError:  # the dask extra is optional; run() says how to install it
    dd = None  # type: ignore[assignment]

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# Scoring is slow per byte (about 0.5 MB/s of listings per worker), so partitions are smaller than Dask's usual
# 64MB: 16MB is about 46,000 rows of 350 bytes, some 30 s for one worker, so partitions balance across workers
# and one run again after a worker dies costs little.
DEFAULT_PARTITION_SIZE = "16MB"
WHOLE_FILE = "file"
_SUMMARY_META = pd.DataFrame({"partition": pd.Series(dtype="int64"), "rows": pd.Series(dtype="int64"),
                              **{d: pd.Series(dtype="int64") for d in DECISIONS}})


def input_files(in_path) -> tuple[list[Path], str]:
    """The files ``in_path`` names (a file, a glob, or a directory's ``*.csv`` or ``*.parquet``) and their
    format, ``csv`` or ``parquet``."""
    text = str(in_path)
    if Path(text).is_dir():
        files = sorted(p for p in Path(text).iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    else:
        files = sorted(Path(p) for p in glob(text) if Path(p).is_file())
    if not files:
        raise BatchError(f"{in_path}: no CSV or Parquet files matched")
    unknown = [p.name for p in files if p.suffix.lower() not in SUFFIXES]
    if unknown:
        raise BatchError(f"{in_path}: {unknown[0]} is neither .csv nor .parquet; the dask engine reads only those")
    kinds = {SUFFIXES[p.suffix.lower()] for p in files}
    if len(kinds) > 1:
        raise BatchError(f"{in_path}: matches both CSV and Parquet files; score each format on its own")
    return [p.resolve() for p in files], kinds.pop()


def output_format(out_path) -> str:
    """``csv`` or ``parquet``: the format of the partitions written into the directory ``out_path``."""
    suffix = Path(out_path).suffix.lower()
    if suffix not in SUFFIXES:
        raise BatchError(f"{out_path}: the dask engine writes a directory of partitions; "
                         f"name it *.parquet or *.csv to choose their format")
    return SUFFIXES[suffix]


def partition_bytes(partition_size) -> int | None:
    """Bytes of input per partition from ``--partition-size`` (``None``: one partition per file)."""
    if partition_size == WHOLE_FILE:
        return None
    try:
        size = parse_bytes(DEFAULT_PARTITION_SIZE if partition_size is None else partition_size)
    except (ValueError, TypeError):
        size = 0
    if size < 1:
        raise BatchError(f"--partition-size must be a size such as 16MB, or 'file', got {partition_size!r}")
    return size


def _has_line_breaks_in_fields(path: Path, encoding: str, sample: int = 256_000) -> bool:
    with open(path, "rb") as handle:
        text = handle.read(sample).decode(encoding, errors="replace")
    return any("\n" in field or "\r" in field for row in csv.reader(io.StringIO(text)) for field in row)


def read_frame(files: list[Path], kind: str, text_column: str, block: int | None, encoding: str = "utf-8",
               replace: bool = False):
    """The input as a lazy Dask dataframe, checked for the text column; CSV columns are read as text. Columns
    overclaim adds are an error, or with ``replace`` dropped."""
    paths = [str(p) for p in files]
    # Dask would turn text columns into pyarrow strings whose missing values are pd.NA; pandas' own dtypes, as
    # the local engine reads them, keep missing text NaN, which scores as empty text.
    if kind == "csv":
        big = next((p for p in files if block is not None and p.stat().st_size > block), None)
        if big is not None and _has_line_breaks_in_fields(big, encoding):
            raise BatchError(f"{big}: text fields hold line breaks, so the file cannot be split into "
                             f"partitions at line ends; pass --partition-size file (one partition per file)")
    try:
        with dask.config.set({"dataframe.convert-string": False}):
            if kind == "csv":
                frame = dd.read_csv(paths, dtype=str, keep_default_na=False, blocksize=block, encoding=encoding)
            else:
                frame = dd.read_parquet(paths, index=False, split_row_groups="infer" if block else False,
                                        blocksize=block or "default",
                                        arrow_to_pandas={"types_mapper": nullable_dtype})
    except ValueError as error:  # pandas' and pyarrow's parse errors, UnicodeDecodeError
        message = " ".join(str(error).split())
        raise BatchError(f"{files[0]}: cannot parse as {kind}: {message}") from None
    drop = columns_to_drop(files[0], frame.columns, text_column, ADDED_COLUMNS, replace)
    return frame.drop(columns=drop) if drop else frame


def score_partition(frame: pd.DataFrame, text_column: str, scorer) -> pd.DataFrame:
    """``frame`` with the added columns, scored in chunks of the local engine's size so memory stays bounded."""
    texts = frame[text_column].tolist()
    columns: dict[str, list] = {name: [] for name in ADDED_COLUMNS}
    for start in range(0, len(texts), CHUNK_ROWS):
        for name, values in score_texts(scorer, texts[start : start + CHUNK_ROWS]).items():
            columns[name] += values
    scored = frame.copy()
    for name in ADDED_COLUMNS:
        scored[name] = columns[name]
    return scored


@lru_cache(maxsize=4)
def _worker_scorer(model_path, review: float, block: float, sha256: str, policy):
    """The scorer of this worker process, loaded on its first partition and kept for the next ones.

    Tasks carry only the model's path, thresholds, sha256 and policy, never the pipeline: each worker loads the
    model once from its own disk (the bundled model, or ``--model`` on the shared filesystem). A cache in the
    worker process rather than a ``distributed`` WorkerPlugin works on any cluster without registering anything,
    loads the model only on workers that get partitions, and a restarted worker reloads it by itself. The client's
    sha256 pins the worker's model, before it is parsed: a worker with another overclaim version, whose scores would
    differ, or with a rewritten model directory, fails with a one-line ModelError.
    """
    return load(model_path, thresholds={"review": review, "block": block}, policy=policy, sha256=sha256)


def _score_and_write(frame, text_column, model, out_dir, kind, width, schema, partition_info=None):
    """Score one partition, write it as ``part.<number>``, and return its row and decision counts."""
    number = partition_info["number"]
    scored = score_partition(frame, text_column, _worker_scorer(*model))
    final = Path(out_dir) / f"part.{number:0{width}d}.{kind}"
    temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}")
    if kind == "csv":
        csv_cells(scored).to_csv(temporary, index=False)
    else:
        # The schema of the whole output, so a partition with no rows or only missing values matches the others.
        pq.write_table(pa.Table.from_pandas(scored, schema=schema, preserve_index=False), temporary)
    os.replace(temporary, final)
    counts = Counter(scored["overclaim_decision"])
    return pd.DataFrame({"partition": [number], "rows": [len(scored)], **{d: [counts[d]] for d in DECISIONS}})


@contextmanager
def _client(scheduler, workers):
    if isinstance(scheduler, Client):
        yield scheduler
        return
    cluster = client = None
    try:
        # SIGINT and SIGTERM wait while the cluster starts and stops: a cluster stopped half-way through starting
        # fails distributed's exit-time clean-up with a traceback.
        with signals_held():
            if scheduler is None:
                # One thread per worker: scoring holds the GIL, so processes, not threads, give parallelism.
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
            client = Client(scheduler if cluster is None else cluster)
        yield client
    finally:
        with signals_held():
            for started in (client, cluster):
                if started is not None:
                    started.close()


def run(in_path, out_path, text_column: str, *, model_path=None, thresholds=None, policy=None, scheduler=None,
        workers: int | None = None, partition_size=None, force: bool = False, encoding: str = "utf-8",
        progress=None, model_sha256=None, replace: bool = False) -> Summary:
    """Score ``in_path`` into the directory ``out_path`` on Dask and return what was done.

    ``policy`` decides as in :func:`overclaim.batch.run`. ``scheduler`` is a scheduler address, a ``distributed.Client``, or ``None`` to start a ``LocalCluster`` of
    ``workers`` processes (default: one per core). ``partition_size`` is bytes of input per partition (such as
    ``"16MB"``, the default) or ``"file"`` for one partition per file. ``progress(partitions_done,
    partitions, rows_done)`` is called as partitions complete. ``model_sha256`` pins the model's digest, here and
    on every worker. ``replace`` drops the input's columns that overclaim writes, as :func:`overclaim.batch.run`
    does.
    """
    if dd is None:
        raise BatchError("--engine dask needs Dask: pip install 'overclaim[dask]'")
    if workers is not None and scheduler is not None:
        raise BatchError("--jobs sizes the local cluster; with --scheduler the cluster's own workers score")
    if workers is not None and workers < 1:
        raise BatchError(f"--jobs must be at least 1, got {workers}")
    started = time.perf_counter()
    out_path, kind = Path(out_path).resolve(), output_format(out_path)
    if out_path.exists() and not force:
        raise BatchError(f"{out_path} exists; pass --force to overwrite it")
    files, in_kind = input_files(in_path)
    # Optimized now, so the partition count that names the output files is the one that will run.
    frame = read_frame(files, in_kind, text_column, partition_bytes(partition_size), encoding, replace).optimize()
    scorer = load(model_path, thresholds=thresholds, policy=policy, sha256=model_sha256)
    model = (None if model_path is None else str(Path(model_path).resolve()), scorer.thresholds["review"],
             scorer.thresholds["block"], scorer.model.meta["sha256"], scorer.policy)
    # One made-up row scored here gives the output's dtypes exactly as the workers will produce them.
    meta = score_partition(frame._meta_nonempty.head(1), text_column, scorer).head(0)
    schema = pa.Schema.from_pandas(meta, preserve_index=False)
    remove_stale_partials(out_path)
    temporary = partial_path(out_path)
    temporary.mkdir()
    try:
        width = len(str(frame.npartitions - 1))
        counts = frame.map_partitions(_score_and_write, text_column, model, str(temporary), kind, width, schema,
                                      meta=_SUMMARY_META)
        with _client(scheduler, workers) as client:
            done = _compute(client, counts.to_delayed(), progress, encoding)
        # Left by writes cut short on a worker that died; the partition was written again under its own name.
        for stray in temporary.glob(".*"):
            stray.unlink()
        if out_path.is_dir():
            shutil.rmtree(out_path)
        elif out_path.exists():
            out_path.unlink()
        os.replace(temporary, out_path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    summary = Summary(rows=int(done.rows.sum()), output=str(out_path), seconds=time.perf_counter() - started)
    summary.decisions.update({d: int(done[d].sum()) for d in DECISIONS})
    return summary


def _compute(client, parts, progress, encoding: str) -> pd.DataFrame:
    """The counts of every partition, one row each, computed on ``client``.

    A finished partition's future is dropped as soon as its counts arrive, so that losing the worker that holds
    them does not make the scheduler score the partition again.
    """
    remaining = dict(enumerate(client.compute(parts)))
    numbers = {future.key: number for number, future in remaining.items()}
    done, rows = {}, 0
    try:
        for future, counts in as_completed(list(remaining.values()), with_results=True):
            number = numbers[future.key]
            del remaining[number]
            done[number], rows = counts, rows + int(counts.rows.sum())
            if progress is not None:
                progress(len(done), len(numbers), rows)
    except Exception as error:
        client.cancel(list(remaining.values()))
        raise _as_batch_error(error, encoding) from None
    except BaseException:  # interrupted
        if client.cluster is not None:
            # A local cluster's processes write to this terminal, and their warnings as the run stops (tasks
            # cancelled, workers killed) would bury the one line that says what happened.
            client.run(_quiet_logs)
            _quiet_logs()
        client.cancel(list(remaining.values()))
        raise
    return pd.concat([done[number] for number in sorted(done)], ignore_index=True)


def _quiet_logs() -> None:
    logging.getLogger("distributed").setLevel(logging.ERROR)


def _as_batch_error(error: Exception, encoding: str) -> Exception:
    """A one-line :class:`BatchError` for the failures people can fix; others as they are."""
    message = " ".join(str(error).split())
    if isinstance(error, KilledWorker):
        return BatchError(f"workers kept dying while scoring a partition (out of memory?); try a smaller "
                          f"--partition-size: {message}")
    if isinstance(error, UnicodeDecodeError):
        return BatchError(f"the input is not valid {encoding}: {message}; pass --encoding (for example latin-1)")
    if isinstance(error, pd.errors.ParserError):
        return BatchError(f"cannot parse the input as csv: {message} (if text fields hold line breaks, pass "
                          f"--partition-size file)")
    if isinstance(error, ValueError):  # also pyarrow's, and Dask's when files' columns differ
        return BatchError(f"a partition failed: {type(error).__name__}: {message}")
    return error
