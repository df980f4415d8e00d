"""Rows/s of `overclaim batch --engine dask` on a LocalCluster of 1 worker, then of 2 (one thread each).

Usage: python bench/dask_scaling.py [--rows 200000] [--partition-size 4MB] [--workdir DIR]
The CSV is bench/batch.py's (an id, a price and 1-5 corpus sentences per row). Each run gets a fresh cluster,
started before the clock starts; the time counts reading, each worker's first model load, scoring and writing
the Parquet partitions. 4MB partitions cut the 69 MB file into 18, enough to share evenly between two
workers (the engine's 16MB default would give 5).
Beside each rate: the workers' CPU seconds, and the CPU seconds the rest of the machine used meanwhile (from
/proc/stat, so Linux only), which says whether other processes took cores from the workers.
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

from batch import generate  # bench/batch.py, beside this script
from distributed import Client, LocalCluster

from overclaim import dask_engine


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


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
            before = sum(client.run(time.process_time).values()), time.process_time(), machine_cpu_seconds()
            started = time.perf_counter()
            summary = dask_engine.run(source, workdir / "scored.parquet", "text", scheduler=client,
                                      partition_size=args.partition_size, force=True)
            seconds = time.perf_counter() - started
            after = sum(client.run(time.process_time).values()), time.process_time(), machine_cpu_seconds()
        assert summary.rows == args.rows, summary.rows
        workers_cpu, own_cpu, machine_cpu = (b - a for a, b in zip(before, after))
        rates[workers] = args.rows / seconds
        print(f"{workers} worker(s): {args.rows:,} rows in {seconds:.0f} s = {rates[workers]:,.0f} rows/s; workers' "
              f"CPU {workers_cpu:.0f} s ({args.rows / workers_cpu:,.0f} rows per CPU-second), other processes "
              f"{max(0.0, machine_cpu - workers_cpu - own_cpu):.0f} CPU-s")
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
