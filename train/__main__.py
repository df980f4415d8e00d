"""``python -m train --output DIR``: validate the corpus, train, evaluate and write the model artifacts."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from train import corpus
from train.build import build
from train.model import BLAS_THREADS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("model"), help="model directory to write (default: model/)")
    parser.add_argument("--corpus", type=Path, default=corpus.CORPUS, help="labeled corpus CSV")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        with threadpool_limits(BLAS_THREADS):
            build(args.output, args.corpus)
    except corpus.CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
