"""Seconds to load the bundled model with overclaim's checks, beside the same pipeline as a joblib pickle.

Usage: python bench/model_load.py [--repeats N]
Each load runs in a fresh process (the loader caches per process). Prints the best of N for each, and the
sizes of the two files. The pickle is written to a temporary folder for comparison only: overclaim never loads one.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import joblib

from overclaim.loader import ARTIFACT, BUNDLED_DIR, load_model

# Modules imported before the clock starts, so both times are the load alone.
IMPORTS = "import sys, time, joblib, overclaim.features, overclaim.masking; from overclaim.loader import load_model;"
SKOPS = IMPORTS + "t = time.perf_counter(); load_model(); print(time.perf_counter() - t)"
JOBLIB = IMPORTS + "t = time.perf_counter(); joblib.load(sys.argv[1]); print(time.perf_counter() - t)"


def best_of(repeats, code, *args):
    return min(float(subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True,
                                    text=True).stdout) for _ in range(repeats))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pickled = Path(folder) / "overclaim.joblib"
        # compress=3 is what 'python -m train' wrote before the model moved to skops.
        joblib.dump(load_model().pipeline, pickled, compress=3)
        print(f"skops  (hash, checks, trusted-type audit, build): {best_of(args.repeats, SKOPS):.3f} s, "
              f"{(BUNDLED_DIR / ARTIFACT).stat().st_size / 1e6:.2f} MB")
        print(f"joblib (unpickle only, for comparison):            {best_of(args.repeats, JOBLIB, str(pickled)):.3f} s, "
              f"{pickled.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
