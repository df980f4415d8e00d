"""Rows/s and peak memory of `overclaim batch` on a generated CSV, beside the bare pipeline on the same rows.

Usage: python bench/batch.py [--rows 1000000] [--jobs 2] [--workdir DIR]
The CSV has an id, a price and a text of 1-5 corpus sentences per row. Memory of the batch process and its
workers is sampled every 0.2 s: peak PSS (each shared page counted once, split between the processes sharing
it - the memory the run really takes) and peak RSS summed over processes (shared pages counted in each). The bare reference runs the same
fitted pipeline's predict_proba on the pre-split sentences of the first 100,000 rows, on one core.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "overclaim"


def generate(path: Path, rows: int, seed: int = 0) -> None:
    sentences = pd.read_csv(ROOT / "data" / "corpus.csv").text.tolist()
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("id,price,text\n")
        for start in range(0, rows, 100_000):
            frame = pd.DataFrame({
                "id": range(start, min(rows, start + 100_000)),
                "price": [f"{rng.uniform(3, 80):.2f}" for _ in range(min(rows, start + 100_000) - start)],
            })
            frame["text"] = [" ".join(rng.choices(sentences, k=rng.randint(1, 5))) for _ in range(len(frame))]
            frame.to_csv(handle, header=False, index=False)


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """(PSS, RSS) in MB, summed over ``pid`` and its descendants."""
    pss = rss = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as children:
                pids += [int(c) for c in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return pss / 1024, rss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="overclaim-bench-"))
    source, out = workdir / f"listings-{args.rows}.csv", workdir / "scored.csv"
    if not source.exists():
        started = time.perf_counter()
        generate(source, args.rows)
        print(f"generated {source} ({source.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.0f} s")

    started, peak_pss, peak_rss = time.perf_counter(), 0.0, 0.0
    process = subprocess.Popen([str(BIN), "batch", str(source), "-o", str(out), "--text-column", "text",
                                "--jobs", str(args.jobs), "--force", "--quiet"])
    while process.poll() is None:
        pss, rss = tree_memory_mb(process.pid)
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    assert process.returncode == 0, process.returncode
    print(f"overclaim batch --jobs {args.jobs}: {args.rows:,} rows in {seconds:.0f} s = {args.rows / seconds:,.0f} rows/s, "
          f"peak memory {peak_pss:,.0f} MB PSS, {peak_rss:,.0f} MB RSS summed (targets: >= 5,000 rows/s, < 500 MB)")

    import overclaim
    from overclaim.sentences import sentence_spans

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    texts = pd.read_csv(source, nrows=100_000).text.tolist()
    sentences = [t[s:e] for t in texts for s, e in sentence_spans(t)]
    pipeline = overclaim.load().model.pipeline
    started = time.perf_counter()
    for i in range(0, len(sentences), 4096):
        pipeline.predict_proba(sentences[i : i + 4096])
    bare = time.perf_counter() - started
    print(f"bare reference, one core: {len(texts) / bare:,.0f} rows/s ({len(sentences) / bare:,.0f} sentences/s, "
          f"{len(sentences) / len(texts):.1f} sentences/row)")


if __name__ == "__main__":
    main()
