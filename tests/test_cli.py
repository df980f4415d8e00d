"""The overclaim command, in-process through main(argv) and once through the real console script."""
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from overclaim.cli import main

BIN = Path(sys.executable).parent / "overclaim"


def run(argv, capsys, monkeypatch, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_score_prints_decision_and_risky_sentences(capsys, monkeypatch):
    code, out, _ = run(["score", "Elderberry knocks out the flu overnight.", "Store in a cool place."], capsys, monkeypatch)
    assert code == 0
    assert out.splitlines()[0].startswith(("BLOCK", "REVIEW"))
    assert "knocks out the flu" in out and "Store in a cool place" not in out


@pytest.mark.parametrize("argv", [["score", "--json"], ["score", "--json", "-"]])
def test_score_reads_stdin_when_no_text_or_dash(capsys, monkeypatch, argv):
    code, out, _ = run(argv, capsys, monkeypatch, stdin="Zinc cures colds.")
    assert code == 0 and json.loads(out)["sentences"][0]["text"] == "Zinc cures colds."


def test_score_reads_a_file(capsys, monkeypatch, tmp_path):
    path = tmp_path / "listing.txt"
    path.write_text("CBD oil replaces your anxiety medication.", encoding="utf-8")
    code, out, _ = run(["score", "--json", "--file", str(path)], capsys, monkeypatch)
    assert code == 0 and json.loads(out)["decision"] in ("review", "block")


def test_usage_errors_are_one_line_with_exit_2(capsys, monkeypatch, tmp_path):
    code, _, err = run(["score", "--file", str(tmp_path / "missing.txt")], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and "missing.txt" in err
    code, _, err = run(["score", "x", "--model", str(tmp_path)], capsys, monkeypatch)
    assert code == 2 and "is not a model directory" in err
    code, _, err = run(["score", "x", "--review", "0.9", "--block", "0.2"], capsys, monkeypatch)
    assert code == 2 and "review <= block" in err


def test_moderate_echoes_ids_in_order_and_reports_bad_lines(capsys, monkeypatch):
    lines = [
        json.dumps({"id": "a", "text": "Turmeric cures cancer."}),
        "{not json",
        json.dumps({"id": 7, "body": "no text field"}),
        json.dumps({"id": "b", "text": 42}),
        json.dumps("A bare string may help some people."),
        json.dumps([1, 2]),
        json.dumps({"id": "c", "text": ""}),
    ]
    code, out, _ = run(["moderate"], capsys, monkeypatch, stdin="\n".join(lines) + "\n")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["id"] for r in records] == ["a", 2, 7, "b", 5, 6, "c"]
    assert [("error" in r) for r in records] == [False, True, True, True, False, True, False]
    assert records[0]["decision"] in ("review", "block") and records[6]["decision"] == "allow"


def test_moderate_gives_the_same_records_as_the_api(capsys, monkeypatch, scorer):
    texts = ["Berberine works like metformin.", "Magnesium is a mineral."]
    stdin = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
    _, out, _ = run(["moderate"], capsys, monkeypatch, stdin=stdin)
    got = [json.loads(line) for line in out.splitlines()]
    assert got == [{"id": i, **scorer.score(t).to_dict()} for i, t in enumerate(texts)]


def test_moderate_echoes_an_id_with_a_lone_surrogate_without_dying():
    """Regression: the id "\\ud800" could not be written as UTF-8 and stopped the stream."""
    lines = '{"id": "a\\ud800", "text": "Zinc cures colds."}\n{"id": "b", "text": "ok"}\n'
    done = subprocess.run([str(BIN), "moderate"], input=lines, capture_output=True, text=True, timeout=60)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and [r["id"] for r in records] == ["a\ufffd", "b"]


def test_moderate_streams_through_a_real_pipe():
    """Through the installed console script: the first answer arrives before the input is closed."""
    process = subprocess.Popen([str(BIN), "moderate"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    process.stdin.write(json.dumps({"id": 1, "text": "Zinc cures colds."}) + "\n")
    process.stdin.flush()
    first = json.loads(process.stdout.readline())
    process.stdin.write(b"\xff\xfe broken\n".decode("latin-1") + "\n")
    process.stdin.close()
    rest = process.stdout.read()
    assert process.wait(timeout=60) == 0
    assert first["id"] == 1 and first["decision"] in ("review", "block")
    assert json.loads(rest.splitlines()[0])["error"]



def test_moderate_stream_line_buffer_is_not_quadratic_and_caps_a_40_mb_line():
    """Regression: each read was added to a growing bytes object (a 40 MB line took 12 s) and every line was kept
    whole. A line over the stream's limit now gets an error record under its line number, and the stream goes on;
    one under it, read in many pieces, is scored as usual."""
    from overclaim.stream import MAX_LINE_BYTES

    huge = json.dumps({"id": "huge", "text": "Zinc cures colds. " * (MAX_LINE_BYTES // 18 + 1_000)})
    long = json.dumps({"id": "long", "text": "Zinc cures colds. " * 100_000})
    lines = "\n".join([huge, long, json.dumps({"id": "next", "text": "Take one capsule daily."})]) + "\n"
    done = subprocess.run([str(BIN), "moderate"], input=lines, capture_output=True, text=True, timeout=120)
    first, second, third = map(json.loads, done.stdout.splitlines())
    assert done.returncode == 0 and done.stderr == ""
    assert first["id"] == 1 and f"over the limit of {MAX_LINE_BYTES:,}" in first["error"]
    assert second["id"] == "long" and second["truncated"] and second["decision"] == "block"
    assert third["id"] == "next" and "error" not in third

@pytest.fixture
def listings(tmp_path):
    frame = pd.DataFrame({
        "sku": ["007", "008", "009", "010"],
        "title": ["Turmeric cures arthritis, guaranteed.", "", "Take one capsule daily.\nStore cool.", "NA"],
        "price": ["9.99", "NA", "", "1,000"],
    })
    path = tmp_path / "listings.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_batch_keeps_every_row_and_column_and_adds_the_scores(capsys, monkeypatch, listings, tmp_path):
    path, frame = listings
    out = tmp_path / "scored.csv"
    code, _, err = run(["batch", str(path), "-o", str(out), "--text-column", "title", "--quiet"], capsys, monkeypatch)
    assert code == 0 and "scored 4 rows" in err
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(scored.columns[:3]) == ["sku", "title", "price"]
    pd.testing.assert_frame_equal(scored[["sku", "title", "price"]], frame)
    assert list(scored.columns[3:]) == ["overclaim_risk", "overclaim_decision", "overclaim_rule", "overclaim_citation",
                                        "overclaim_reasons", "overclaim_claim_types", "overclaim_top_sentence",
                                        "overclaim_truncated"]
    assert scored.overclaim_decision.tolist()[:2] == ["block", "allow"]
    assert scored.overclaim_risk[1] == "0.0"
    assert not list(tmp_path.glob(".*partial*"))


def test_batch_with_two_jobs_gives_the_same_file(capsys, monkeypatch, listings, tmp_path):
    path, _ = listings
    one, two = tmp_path / "one.csv", tmp_path / "two.jsonl"
    run(["batch", str(path), "-o", str(one), "--text-column", "title", "--quiet"], capsys, monkeypatch)
    code, _, _ = run(["batch", str(path), "-o", str(two), "--text-column", "title", "--quiet", "--jobs", "2"],
                     capsys, monkeypatch)
    assert code == 0
    a = pd.read_csv(one, dtype=str, keep_default_na=False)
    b = pd.read_json(two, lines=True, dtype=False)
    assert a.overclaim_decision.tolist() == b.overclaim_decision.tolist()
    assert a.sku.tolist() == b.sku.tolist()


def test_batch_reads_and_writes_parquet(capsys, monkeypatch, listings, tmp_path):
    path, frame = listings
    source = tmp_path / "in.parquet"
    frame.to_parquet(source)
    out = tmp_path / "out.parquet"
    code, _, _ = run(["batch", str(source), "-o", str(out), "--text-column", "title", "--quiet"], capsys, monkeypatch)
    assert code == 0
    assert pd.read_parquet(out).sku.tolist() == frame.sku.tolist()


def test_batch_refuses_to_overwrite_without_force(capsys, monkeypatch, listings, tmp_path):
    path, _ = listings
    out = tmp_path / "scored.csv"
    out.write_text("precious")
    code, _, err = run(["batch", str(path), "-o", str(out), "--text-column", "title"], capsys, monkeypatch)
    assert code == 2 and "--force" in err and out.read_text() == "precious"
    code, _, _ = run(["batch", str(path), "-o", str(out), "--text-column", "title", "--force", "--quiet"],
                     capsys, monkeypatch)
    assert code == 0 and out.read_text() != "precious"


@pytest.mark.parametrize("content, column, message", [
    (None, "title", "no such file"),
    (b"sku,title\n1,fine\n", "body", "no column 'body'; columns are: sku, title"),
    (b"sku,title\n1,ok\n2,caf\xe9 \xff\n", "title", "line 3"),
    (b'sku,title\n1,"unclosed\n', "title", "cannot parse as csv"),
    (b"", "title", "cannot parse as csv"),
])
def test_batch_errors_are_one_line_with_exit_2(capsys, monkeypatch, tmp_path, content, column, message):
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out.csv"
    code, _, err = run(["batch", str(path), "-o", str(out), "--text-column", column, "--quiet"], capsys, monkeypatch)
    assert code == 2
    assert message in err and err.strip().count("\n") == 0
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


def test_batch_decodes_other_encodings_when_told(capsys, monkeypatch, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("sku,title\n1,Café au lait cures nothing.\n".encode("latin-1"))
    out = tmp_path / "out.csv"
    code, _, _ = run(["batch", str(path), "-o", str(out), "--text-column", "title", "--encoding", "latin-1",
                      "--quiet"], capsys, monkeypatch)
    assert code == 0 and "Café" in out.read_text(encoding="utf-8")


def test_batch_keeps_a_parquet_files_named_index_as_a_column(capsys, monkeypatch, tmp_path):
    """Regression: pandas restored the stored index, and the writer dropped it with the 'sku' values."""
    source, out = tmp_path / "indexed.parquet", tmp_path / "out.parquet"
    pd.DataFrame({"sku": ["a1", "b2"], "title": ["Zinc cures colds.", "Take with food."]}).set_index("sku").to_parquet(source)
    code, _, _ = run(["batch", str(source), "-o", str(out), "--text-column", "title", "--quiet"], capsys, monkeypatch)
    scored = pd.read_parquet(out)
    assert code == 0 and scored.sku.tolist() == ["a1", "b2"] and scored.title.tolist()[1] == "Take with food."


@pytest.mark.parametrize("size", ["0", "-1"])
def test_moderate_batch_size_below_one_is_a_usage_error_not_silence_or_a_traceback(capsys, monkeypatch, size):
    code, out, err = run(["moderate", "--batch-size", size], capsys, monkeypatch, stdin='"Zinc cures colds."\n')
    assert code == 2 and out == ""
    assert err == f"overclaim: error: --batch-size must be at least 1, got {size}\n"


def test_version_is_the_installed_package_version():
    """Regression: there was no --version; the version is read from the installed package's metadata."""
    from importlib.metadata import version

    done = subprocess.run([str(BIN), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"overclaim {version('overclaim')}"


def test_info_reports_the_model_that_loads(capsys, monkeypatch):
    meta = json.loads((Path(__file__).resolve().parent.parent / "model" / "meta.json").read_text())
    code, out, _ = run(["info", "--json"], capsys, monkeypatch)
    info = json.loads(out)
    assert code == 0
    assert (info["model_version"], info["sha256"], info["corpus_sha256"], info["thresholds"]) == (
        meta["model_version"], meta["sha256"], meta["corpus_sha256"], meta["thresholds"])
    assert "us-dshea" in info["policies"] and info["heads"] == meta["targets"]
    code, out, _ = run(["info"], capsys, monkeypatch)
    assert code == 0 and meta["sha256"] in out and f"model {meta['model_version']}" in out


@pytest.mark.parametrize("fail_on, text, expected", [
    (None, "Turmeric cures arthritis.", 0), ("block", "Turmeric cures arthritis.", 1),
    ("review", "Take one capsule daily with water.", 0), ("review", "Turmeric cures arthritis.", 1),
])
def test_score_fail_on_sets_the_exit_code(capsys, monkeypatch, fail_on, text, expected):
    """Regression: score exited 0 even on block, so a script could not gate on it."""
    code, _, _ = run(["score", text] + (["--fail-on", fail_on] if fail_on else []), capsys, monkeypatch)
    assert code == expected
