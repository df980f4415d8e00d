"""overclaim batch --engine dask, end to end on real LocalClusters of worker processes."""
import os
import signal
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

from overclaim import dask_engine
from overclaim.batch import ADDED_COLUMNS
from overclaim.cli import main
from overclaim.loader import BUNDLED_DIR

TEXTS = [
    "Turmeric cures arthritis, guaranteed.",
    "",
    "Take one capsule daily.\nStore cool.",
    "NA",
    "Berberine works like metformin, with no side effects.",
    "Zinc may shorten colds a little in some adults (Hemila 2017, doi:10.1093/ofid/ofx059).",
    "Studies show magnesium melts away stress.",
    "Vitamin D is made in the skin.",
]


def listings(rows: int, start: int = 0, line_breaks: bool = True) -> pd.DataFrame:
    """Rows of text columns only, as a CSV reads them: ids with leading zeros, "NA", empty strings."""
    texts = TEXTS if line_breaks else [t.replace("\n", " ") for t in TEXTS]
    return pd.DataFrame({
        "sku": [f"{i:05d}" for i in range(start, start + rows)],
        "title": [texts[i % len(texts)] for i in range(start, start + rows)],
        "price": ["NA" if i % 5 == 0 else f"{i % 97}.99" for i in range(start, start + rows)],
    })


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, shared by the tests that do not kill workers."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        with Client(local) as client:
            yield client


def run_cli(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err


def local_engine(source, out, capsys, *options):
    code, err = run_cli(["batch", str(source), "-o", str(out), "--text-column", "title", "--quiet", *options], capsys)
    assert code == 0, err


def test_csv_glob_on_a_started_local_cluster_equals_the_local_engine(capsys, tmp_path):
    parts = [listings(30, 0), listings(0, 30), listings(25, 30)]  # the middle file has only a header
    for number, frame in enumerate(parts):
        frame.to_csv(tmp_path / f"listings-{number}.csv", index=False)
    pd.concat(parts).to_csv(tmp_path / "all.csv", index=False)
    local_engine(tmp_path / "all.csv", tmp_path / "local.csv", capsys)

    out = tmp_path / "scored.csv"
    code, err = run_cli(["batch", str(tmp_path / "listings-*.csv"), "-o", str(out), "--text-column", "title",
                         "--engine", "dask", "--jobs", "1", "--quiet"], capsys)

    assert code == 0, err
    assert "scored 55 rows" in err and str(out) in err
    assert sorted(p.name for p in out.iterdir()) == ["part.0.csv", "part.1.csv", "part.2.csv"]
    assert not list(tmp_path.glob(".*"))
    got = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(out.iterdir())])
    expected = pd.read_csv(tmp_path / "local.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_parquet_directory_keeps_types_and_equals_the_local_engine_with_the_same_model_options(capsys, tmp_path, cluster):
    source = tmp_path / "listings"
    source.mkdir()
    parts = [listings(40, 0), listings(35, 40)]
    for number, frame in enumerate(parts):
        frame.assign(stock=range(len(frame)), title=frame.title.where(frame.index % 7 != 3, None)) \
            .to_parquet(source / f"part-{number}.parquet", index=False)
    whole = pd.concat([pd.read_parquet(p) for p in sorted(source.iterdir())], ignore_index=True)
    whole.to_parquet(tmp_path / "whole.parquet", index=False)
    model = ["--model", str(BUNDLED_DIR), "--review", "0.05", "--block", "0.99"]
    local_engine(tmp_path / "whole.parquet", tmp_path / "local.parquet", capsys, *model)

    out = tmp_path / "scored.parquet"
    code, err = run_cli(["batch", str(source), "-o", str(out), "--text-column", "title", "--engine", "dask",
                         "--scheduler", cluster.scheduler.address, "--quiet", *model], capsys)

    assert code == 0, err
    got, expected = pd.read_parquet(out), pd.read_parquet(tmp_path / "local.parquet")
    pd.testing.assert_frame_equal(got.sort_values("sku", ignore_index=True), expected)
    assert ((got.overclaim_risk >= 0.99) == (got.overclaim_decision == "block")).all()
    assert ((got.overclaim_risk < 0.05) == (got.overclaim_decision == "allow")).all()
    assert list(got.columns) == ["sku", "title", "price", "stock", *ADDED_COLUMNS]
    assert pq.read_schema(out / "part.0.parquet").remove_metadata() == \
        pq.read_schema(tmp_path / "local.parquet").remove_metadata()


def test_each_worker_loads_the_model_once_for_all_its_partitions(tmp_path, cluster):
    listings(400, line_breaks=False).to_csv(tmp_path / "listings.csv", index=False)
    cluster.run(dask_engine._worker_scorer.cache_clear)

    summary = dask_engine.run(tmp_path / "listings.csv", tmp_path / "scored.parquet", "title",
                              scheduler=cluster, partition_size="2kB")

    loads = cluster.run(lambda: dask_engine._worker_scorer.cache_info())
    assert summary.rows == 400 and len(list((tmp_path / "scored.parquet").iterdir())) > 4
    assert sum(info.hits + info.misses for info in loads.values()) == len(list((tmp_path / "scored.parquet").iterdir()))
    assert all(info.misses <= 1 for info in loads.values())


def test_a_worker_killed_mid_run_loses_and_duplicates_no_row(tmp_path):
    source = listings(3000, line_breaks=False)
    source.to_csv(tmp_path / "listings.csv", index=False)
    killed = []

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local, \
            Client(local) as client:
        def kill_a_busy_worker(done, total, rows):
            if killed:
                return
            busy = next(address for address, keys in client.processing().items() if keys)
            pid = client.run(os.getpid, workers=[busy])[busy]
            os.kill(pid, signal.SIGKILL)
            killed.append((done, total))

        summary = dask_engine.run(tmp_path / "listings.csv", tmp_path / "scored.csv", "title", scheduler=client,
                                  partition_size="8kB", progress=kill_a_busy_worker)

    done, total = killed[0]
    assert total > 10 and done < total
    scored = pd.concat(pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((tmp_path / "scored.csv").iterdir()))
    assert scored.sku.tolist() == source.sku.tolist()
    assert summary.rows == 3000 and sum(summary.decisions.values()) == 3000


@pytest.mark.parametrize("make, argv, message", [
    (lambda d: None, ["nothing-*.csv", "-o", "out.parquet"], "no CSV or Parquet files matched"),
    (lambda d: listings(2).to_csv(d / "in.csv", index=False), ["in.csv", "-o", "out.parquet", "--text-column", "body"],
     "no column 'body'; columns are: sku, title, price"),
    (lambda d: [listings(2).to_csv(d / "in" / "a.csv", index=False), listings(2).to_parquet(d / "in" / "b.parquet")],
     ["in", "-o", "out.parquet"], "matches both CSV and Parquet files"),
    (lambda d: (d / "in.csv").write_bytes(b""), ["in.csv", "-o", "out.parquet"], "in.csv: cannot parse as csv"),
    (lambda d: listings(2).to_csv(d / "in.csv", index=False), ["in.csv", "-o", "out.jsonl"], "name it *.parquet or *.csv"),
    (lambda d: listings(200).to_csv(d / "in.csv", index=False), ["in.csv", "-o", "out.csv", "--partition-size", "1kB"],
     "pass --partition-size file"),
    (lambda d: listings(2).to_csv(d / "in.csv", index=False), ["in.csv", "-o", "out.csv", "--partition-size", "big"],
     "--partition-size must be a size such as 16MB"),
    (lambda d: listings(2).to_csv(d / "in.csv", index=False), ["in.csv", "-o", "out.csv", "--scheduler", "tcp://x:1",
                                                               "--jobs", "2"], "--jobs sizes the local cluster"),
])
def test_dask_usage_errors_are_one_line_with_exit_2_before_any_cluster_starts(capsys, monkeypatch, tmp_path, make,
                                                                             argv, message):
    (tmp_path / "in").mkdir()
    make(tmp_path)
    monkeypatch.chdir(tmp_path)
    argv = ["batch", *argv, "--engine", "dask", "--quiet"]
    code, err = run_cli(argv + ([] if "--text-column" in argv else ["--text-column", "title"]), capsys)
    assert code == 2
    assert message in err and err.strip().count("\n") == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("out", "."))]


def test_dask_refuses_to_overwrite_its_output_without_force(capsys, tmp_path, cluster):
    listings(3).to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "scored.parquet"
    out.mkdir()
    (out / "precious.txt").write_text("keep")
    argv = ["batch", str(tmp_path / "in.csv"), "-o", str(out), "--text-column", "title", "--engine", "dask",
            "--scheduler", cluster.scheduler.address, "--quiet"]

    code, err = run_cli(argv, capsys)
    assert code == 2 and "exists; pass --force" in err and (out / "precious.txt").read_text() == "keep"

    code, err = run_cli(argv + ["--force"], capsys)
    assert code == 0 and [p.name for p in out.iterdir()] == ["part.0.parquet"]


@pytest.mark.parametrize("flag", [["--scheduler", "tcp://localhost:8786"], ["--partition-size", "64MB"]])
def test_local_engine_rejects_dask_options(capsys, tmp_path, flag):
    listings(2).to_csv(tmp_path / "in.csv", index=False)
    code, err = run_cli(["batch", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv"), "--text-column", "title",
                         *flag], capsys)
    assert code == 2 and f"{flag[0]} applies only to --engine dask" in err


def test_without_the_dask_extra_the_error_says_what_to_install(tmp_path):
    listings(2).to_csv(tmp_path / "in.csv", index=False)
    hide = "import sys; sys.modules.update(dask=None, distributed=None); from overclaim.cli import main; " \
           "sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", hide, "batch", "in.csv", "-o", "out.parquet", "--text-column",
                           "title", "--engine", "dask"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "overclaim: error: --engine dask needs Dask: pip install 'overclaim[dask]'\n"
