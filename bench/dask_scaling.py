"""Rows/s of `overclaim batch --engine dask` on a LocalCluster of 1 worker, then of 2 (one thread each).

Usage: python bench/dask_scaling.py [--rows 200000] [--partition-size 4MB] [--workdir DIR]
The CSV is bench/batch.py's (an id, a price and 1-5 corpus sentences per row). Each run gets a fresh cluster,
started before the clock starts; the time counts reading, each worker's first model load, scoring and writing
the Parquet partitions. The partition size is small enough that both workers stay busy to the end.
The workers' CPU seconds and the load average show whether other processes took cores during a run: on an
otherwise idle machine each worker's CPU time is close to the wall time.
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

from batch import generate
from distributed import Client, LocalCluster

from overclaim import dask_engine


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--partition-size", default="4MB")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="overclaim-bench-"))
    source = workdir / f"listings-{args.rows}.csv"
    if not source.exists():
        generate(source, args.rows)
    print(f"{source} ({source.stat().st_size / 1e6:,.0f} MB), partitions of {args.partition_size}")

    rates = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
                Client(cluster) as client:
            started = time.perf_counter()
            summary = dask_engine.run(source, workdir / "scored.parquet", "text", scheduler=client,
                                      partition_size=args.partition_size, force=True)
            seconds = time.perf_counter() - started
            cpu = sum(client.run(time.process_time).values())
        assert summary.rows == args.rows, summary.rows
        rates[workers] = args.rows / seconds
        print(f"{workers} worker(s): {args.rows:,} rows in {seconds:.0f} s = {rates[workers]:,.0f} rows/s "
              f"(workers' CPU {cpu:.0f} s = {args.rows / cpu:,.0f} rows per CPU-second; "
              f"load average {os.getloadavg()[0]:.1f})")
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
