"""Sentences/s of Scorer.score_many on one core, beside the bare pipeline on pre-split sentences.

Usage: python bench/score_many.py [--sentences N]
Prints both rates, their ratio, and where the time goes per featurization step.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

import overclaim  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus.csv"


def best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    texts = pd.read_csv(CORPUS).text.tolist()
    sentences = (texts * (args.sentences // len(texts) + 1))[: args.sentences]
    scorer = overclaim.load()
    pipeline = scorer.model.pipeline
    scorer.score_many(sentences[:100])
    bare = best_of(args.repeats, lambda: pipeline.predict_proba(sentences))
    full = best_of(args.repeats, lambda: scorer.score_many(sentences))
    n = len(sentences)
    print(f"sentences: {n} (corpus sentences, repeated), one core, best of {args.repeats}")
    print(f"bare pipeline.predict_proba on pre-split sentences: {n / bare:,.0f} sentences/s")
    print(f"Scorer.score_many (split, score, reasons, terms, records): {n / full:,.0f} sentences/s")
    print(f"score_many time / bare time: {full / bare:.2f} (target <= 1.5; target >= 10,000 sentences/s)")
    masked = pipeline.named_steps["mask"].transform(sentences)
    steps = [("mask", lambda: pipeline.named_steps["mask"].transform(sentences))]
    steps += [(name, lambda t=t: t.transform(masked)) for name, t in pipeline.named_steps["features"].transformer_list]
    for name, fn in steps:
        print(f"  {name:6s} {best_of(args.repeats, fn) / n * 1e6:6.1f} us/sentence")


if __name__ == "__main__":
    main()
