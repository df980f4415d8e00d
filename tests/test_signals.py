"""Signals sent to a real ``overclaim batch`` process mid-run (issue 12, item 5): SIGINT and SIGTERM end it with
one line and exit 130 or 143, SIGKILL leaves no worker behind, and no run leaves a partial output for good."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

BIN = Path(sys.executable).parent / "overclaim"
TEXTS = ["Turmeric cures arthritis, guaranteed.", "Take one capsule daily with food.",
         "Berberine works like metformin, with no side effects.", "Vitamin D is made in the skin."]


def children_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(c) for c in handle.read().split()]


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent to reap it is not running)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(condition, timeout: float = 120.0, what: str = "") -> None:
    """Poll ``condition``; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """Enough rows to keep two processes scoring for a minute or so."""
    path = tmp_path_factory.mktemp("big") / "listings.csv"
    rows = 150_000
    pd.DataFrame({"sku": [f"{i:06d}" for i in range(rows)],
                  "title": [TEXTS[i % len(TEXTS)] for i in range(rows)]}).to_csv(path, index=False)
    return path


def start_batch(source: Path, out: Path, *options) -> subprocess.Popen:
    return subprocess.Popen([str(BIN), "batch", str(source), "-o", str(out), "--text-column", "title", "--quiet",
                             *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def partials(out: Path) -> list[Path]:
    return list(out.parent.glob(f".{out.name}.partial-*"))


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_of_batch_jobs_2_exit_with_one_line_no_partial_and_no_worker(tmp_path, big_csv, signum,
                                                                                         code):
    """Regression: SIGTERM left .OUT.partial-<pid> and an orphaned worker for ever; SIGINT printed a 74-line
    traceback."""
    out = tmp_path / "scored.csv"
    process = start_batch(big_csv, out, "--jobs", "2")
    # The partial file exists once the first chunk is written, so the worker is up and scoring by then.
    wait_until(lambda: partials(out) or process.poll() is not None, what="the first chunk")
    workers = children_of(process.pid)
    assert workers, "batch --jobs 2 should run a worker process"

    process.send_signal(signum)
    _, err = process.communicate(timeout=120)

    assert process.returncode == code
    assert err == f"overclaim: interrupted by {signal.Signals(signum).name}; no output written\n"
    assert not out.exists() and not partials(out)
    assert not [pid for pid in workers if alive(pid)]


def test_sigkill_of_batch_leaves_no_worker_and_the_next_run_removes_the_partial_file(tmp_path, big_csv):
    """Regression: a worker outlived its killed parent for ever (~210 MB), and .OUT.partial-<pid> stayed."""
    out = tmp_path / "scored.csv"
    process = start_batch(big_csv, out, "--jobs", "2")
    wait_until(lambda: partials(out) or process.poll() is not None, what="the first chunk")
    workers = children_of(process.pid)
    assert workers

    process.kill()
    process.wait(timeout=60)

    wait_until(lambda: not [pid for pid in workers if alive(pid)], timeout=60, what="the orphaned worker to exit")
    stale = partials(out)
    assert stale == [out.with_name(f".{out.name}.partial-{process.pid}")]
    small = tmp_path / "small.csv"
    small.write_text("sku,title\n1,Zinc cures colds.\n")
    done = subprocess.run([str(BIN), "batch", str(small), "-o", str(out), "--text-column", "title", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not partials(out) and len(pd.read_csv(out)) == 1


HALF_SENT = """
import multiprocessing, os, struct, time
from concurrent.futures import ProcessPoolExecutor
from overclaim import batch

def send_half_a_result():
    # What a worker killed while sending its result leaves in the pipe: a message announced, not all there.
    os.write(pool._result_queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 1000)
    time.sleep(600)

pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
pool.submit(send_half_a_result)
time.sleep(1)
batch._kill_workers(pool)
print("stopped")
"""


def test_stopping_the_pool_does_not_hang_on_a_worker_killed_halfway_through_sending_a_result():
    """Regression: under load, a SIGTERM that killed the worker while it sent a chunk's scores left the parent
    waiting for the rest of the message for ever (found by this file's SIGTERM test, once in a full run)."""
    done = subprocess.run([sys.executable, "-c", HALF_SENT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "stopped\n", done.stderr


def test_a_partial_file_of_a_live_process_is_left_alone(tmp_path):
    """Two runs into one output: the next run removes only the partial files of processes that are gone."""
    out = tmp_path / "scored.csv"
    mine = out.with_name(f".{out.name}.partial-{os.getpid()}")
    mine.write_text("another run's rows")
    small = tmp_path / "small.csv"
    small.write_text("sku,title\n1,Zinc cures colds.\n")
    done = subprocess.run([str(BIN), "batch", str(small), "-o", str(out), "--text-column", "title", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and mine.read_text() == "another run's rows"


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("when", ["starting", "scoring"])
def test_sigint_and_sigterm_of_the_dask_engine_remove_its_temporary_directory(tmp_path, big_csv, signum, code, when):
    """Regression: the Dask engine left its hidden .OUT.partial-<pid> directory behind (SIGTERM), and a signal
    while the local cluster started or stopped printed distributed's tracebacks and warnings."""
    out = tmp_path / "scored.csv"
    process = start_batch(big_csv, out, "--engine", "dask", "--jobs", "1", "--partition-size", "512kB")
    # The directory is made just before the cluster starts; its first part is written once a worker scores.
    started = (lambda: partials(out)) if when == "starting" else \
        (lambda: any(any(p.glob("part.*")) for p in partials(out)))
    wait_until(lambda: started() or process.poll() is not None, what=f"the run {when}")

    process.send_signal(signum)
    _, err = process.communicate(timeout=120)

    assert process.returncode == code
    assert err == f"overclaim: interrupted by {signal.Signals(signum).name}; no output written\n"
    assert not out.exists() and not partials(out)


def test_the_next_dask_run_removes_the_temporary_directory_of_a_killed_one(tmp_path, big_csv):
    out = tmp_path / "scored.csv"
    process = start_batch(big_csv, out, "--engine", "dask", "--jobs", "1", "--partition-size", "512kB")
    wait_until(lambda: any(any(p.glob("part.*")) for p in partials(out)) or process.poll() is not None,
               what="the first partition")
    process.kill()
    process.wait(timeout=60)
    assert partials(out)

    small = tmp_path / "small.csv"
    small.write_text("sku,title\n1,Zinc cures colds.\n")
    done = subprocess.run([str(BIN), "batch", str(small), "-o", str(out), "--text-column", "title", "--quiet",
                           "--engine", "dask", "--jobs", "1"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not partials(out) and [p.name for p in out.iterdir()] == ["part.0.csv"]
