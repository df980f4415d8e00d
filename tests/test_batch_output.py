"""What batch writes (issue 15): booleans as true/false and nested values as JSON in CSV, --replace to re-score a
scored file, and --per-sentence for one row per sentence with its offsets."""
import csv
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from overclaim import batch
from overclaim.batch import ADDED_COLUMNS, SENTENCE_COLUMNS
from overclaim.cli import main
from overclaim.scorer import MAX_CHARS

ROWS = [
    {"sku": "007", "title": "Zinc cures colds. Take one capsule daily.\nStore cool.", "vegan": True,
     "tags": ["a", 1], "meta": {"k": None, "n": [1.5]}},
    {"sku": "008", "title": "", "vegan": None, "tags": None, "meta": {"x": "é"}},
    {"sku": "009", "title": "Berberine works like metformin. " * (MAX_CHARS // 30), "vegan": False, "tags": [],
     "meta": None},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def csv_rows(path):
    """The CSV's cells exactly as written."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def cli(capsys, *argv):
    code = main(["batch", *map(str, argv), "--quiet"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_csv_booleans_are_written_true_false_not_python_repr(tmp_path, suffix):
    """Regression: overclaim_truncated and boolean input columns were written False/True (pandas' repr)."""
    source, out = tmp_path / "in.jsonl", tmp_path / f"out{suffix}"
    write_jsonl(source, ROWS)

    batch.run(source, out, "title", chunk_rows=2)

    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ","))
    assert [r["overclaim_truncated"] for r in rows] == ["false", "false", "true"]
    assert [r["vegan"] for r in rows] == ["true", "", "false"]


def test_csv_nested_jsonl_values_are_json_text_not_python_repr(tmp_path):
    """Regression: lists and objects were written as Python's repr (['a', 1], {'k': None}), which no JSON parser
    reads back."""
    source, out = tmp_path / "in.jsonl", tmp_path / "out.csv"
    write_jsonl(source, ROWS)

    batch.run(source, out, "title", chunk_rows=2)

    rows = csv_rows(out)
    assert [json.loads(r["tags"]) if r["tags"] else None for r in rows] == [row["tags"] for row in ROWS]
    assert [json.loads(r["meta"]) if r["meta"] else None for r in rows] == [row["meta"] for row in ROWS]
    assert rows[1]["meta"] == '{"x": "é"}'  # UTF-8, not \u escapes


def test_csv_from_parquet_writes_lists_as_json_and_booleans_true_false(tmp_path):
    source, out = tmp_path / "in.parquet", tmp_path / "out.csv"
    pq.write_table(pa.table({"title": ["Zinc cures colds.", "Store cool."],
                             "tags": pa.array([["a", "b"], None], pa.list_(pa.string())),
                             "vegan": pa.array([True, None], pa.bool_())}), source)

    batch.run(source, out, "title")

    rows = csv_rows(out)
    assert [(r["tags"], r["vegan"]) for r in rows] == [('["a", "b"]', "true"), ("", "")]


def test_parquet_output_of_nested_or_mixed_jsonl_values_is_json_text(tmp_path):
    """Regression: a JSON lines key holding lists of mixed items or objects could not be written as Parquet (one-line
    error); such keys are now string columns of JSON text, the same schema whatever the chunk."""
    source, out = tmp_path / "in.jsonl", tmp_path / "out.parquet"
    write_jsonl(source, [*ROWS, {"sku": 10, "title": "Store cool.", "tags": "plain"}])

    batch.run(source, out, "title", chunk_rows=1)

    table = pq.read_table(out)
    assert {table.schema.field(name).type for name in ("sku", "tags", "meta")} <= {pa.string(), pa.large_string()}
    assert table.schema.field("vegan").type == pa.bool_()
    assert [None if t is None else json.loads(t) for t in table.column("tags").to_pylist()] == \
        [["a", 1], None, [], "plain"]
    assert table.column("sku").to_pylist() == ['"007"', '"008"', '"009"', "10"]


def test_parquet_list_columns_keep_their_arrow_type(tmp_path):
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    tags = pa.array([["a"], None, ["b", "c"]], pa.list_(pa.string()))
    pq.write_table(pa.table({"title": ["Zinc cures colds.", "", "x"], "tags": tags}), source)

    batch.run(source, out, "title", chunk_rows=1)

    table = pq.read_table(out)
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert table.column("tags").to_pylist() == [["a"], None, ["b", "c"]]


def test_dask_csv_output_writes_booleans_true_false_and_lists_as_json(capsys, tmp_path):
    source, out = tmp_path / "in.parquet", tmp_path / "out.csv"
    pq.write_table(pa.table({"title": ["Zinc cures colds.", "Store cool."],
                             "tags": pa.array([["a", "b"], []], pa.list_(pa.string())),
                             "vegan": pa.array([True, False], pa.bool_())}), source)

    code, err = cli(capsys, source, "-o", out, "--text-column", "title", "--engine", "dask", "--jobs", "1")

    assert code == 0, err
    rows = [row for part in sorted(out.iterdir()) for row in csv_rows(part)]
    assert [(r["tags"], r["vegan"], r["overclaim_truncated"]) for r in rows] == \
        [('["a", "b"]', "true", "false"), ("[]", "false", "false")]


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_rescoring_a_scored_file_is_an_error_that_names_replace(capsys, tmp_path, engine):
    """Regression: the error said only 'rename them'; it now names --replace."""
    source, scored = tmp_path / "in.csv", tmp_path / "scored.csv"
    source.write_text("sku,title\n1,Zinc cures colds.\n")
    assert cli(capsys, source, "-o", scored, "--text-column", "title")[0] == 0

    code, err = cli(capsys, scored, "-o", tmp_path / "again.csv", "--text-column", "title", "--engine", engine,
                    *(["--jobs", "1"] if engine == "dask" else []))

    assert code == 2 and err.count("\n") == 1
    assert "already has column(s) overclaim_risk" in err and "pass --replace" in err


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_replace_drops_the_old_overclaim_columns_and_writes_fresh_ones_at_the_end(capsys, tmp_path, engine):
    source, scored, stale, again = (tmp_path / name for name in ("in.csv", "scored.csv", "stale.csv", "again.csv"))
    source.write_text("sku,title\n1,Zinc cures colds.\n2,\n3,Take one capsule daily.\n")
    assert cli(capsys, source, "-o", scored, "--text-column", "title")[0] == 0
    first = pd.read_csv(scored, dtype=str, keep_default_na=False)
    # A scored file edited since: stale scores, a column added after them.
    edited = first.assign(overclaim_decision="stale", overclaim_risk="9", note=["n1", "n2", "n3"])
    edited.to_csv(stale, index=False)

    code, err = cli(capsys, stale, "-o", again, "--text-column", "title", "--replace", "--engine", engine,
                    *(["--jobs", "1"] if engine == "dask" else []))

    assert code == 0, err
    paths = sorted(again.iterdir()) if engine == "dask" else [again]
    got = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths], ignore_index=True)
    assert list(got.columns) == ["sku", "title", "note", *ADDED_COLUMNS]
    pd.testing.assert_frame_equal(got.drop(columns="note"), first)


def test_replace_keeps_a_text_column_that_overclaim_wrote(capsys, tmp_path):
    """Scoring a per-sentence output's sentences again, at one row per sentence: its overclaim_text is the text."""
    source, sentences, again = tmp_path / "in.csv", tmp_path / "sentences.csv", tmp_path / "again.csv"
    source.write_text("sku,title\n1,Zinc cures colds. Store cool.\n")
    assert cli(capsys, source, "-o", sentences, "--text-column", "title", "--per-sentence")[0] == 0

    code, err = cli(capsys, sentences, "-o", again, "--text-column", "overclaim_text", "--replace")

    got = pd.read_csv(again, dtype=str, keep_default_na=False)
    assert code == 0, err
    assert list(got.columns) == ["sku", "overclaim_text", *ADDED_COLUMNS]
    assert got.overclaim_text.tolist() == ["Zinc cures colds.", "Store cool."]


def sentence_listing(tmp_path):
    texts = ["", "Zinc cures colds. Take one capsule daily.", None, "Store cool.\n\n  Berberine works like metformin!",
             "   "]
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"sku": f"{i:03d}", "title": t, "price": i * 1.5} for i, t in enumerate(texts)])
    return source, texts


@pytest.mark.parametrize("jobs", [1, 2])
def test_per_sentence_writes_one_row_per_sentence_with_offsets_into_the_text(capsys, tmp_path, scorer, jobs):
    source, texts = sentence_listing(tmp_path)
    out = tmp_path / "out.jsonl"

    summary = batch.run(source, out, "title", chunk_rows=2, per_sentence=True, jobs=jobs)

    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary.rows == 5 and summary.sentences == len(rows) == 4
    assert [list(row) for row in rows] == [["sku", "price", *SENTENCE_COLUMNS]] * 4
    assert [(r["sku"], r["overclaim_row"], r["overclaim_sentence"]) for r in rows] == \
        [("001", 1, 0), ("001", 1, 1), ("003", 3, 0), ("003", 3, 1)]
    for row in rows:
        text = texts[row["overclaim_row"]]
        assert text[row["overclaim_start"]:row["overclaim_end"]] == row["overclaim_text"]
        sentence = scorer.score(text).sentences[row["overclaim_sentence"]]
        assert (row["overclaim_risk"], row["overclaim_decision"], row["overclaim_rule"], row["overclaim_citation"],
                row["overclaim_reasons"], row["overclaim_claim_types"], row["overclaim_hedging"]) == \
            (sentence["risk"], sentence["decision"], sentence["rule"], sentence["citation"],
             ";".join(sentence["reasons"]), ";".join(sentence["claim_types"]), sentence["hedging"])
    assert rows[0]["overclaim_decision"] == "block" and rows[1]["overclaim_decision"] == "allow"
    assert summary.decisions == {"allow": 3, "block": 2}


def test_per_sentence_parquet_keeps_one_schema_when_a_chunk_has_no_sentences(capsys, tmp_path):
    source, _ = sentence_listing(tmp_path)
    out = tmp_path / "out.parquet"

    code, err = cli(capsys, source, "-o", out, "--text-column", "title", "--per-sentence")

    assert code == 0, err
    assert "scored 5 rows into 4 sentence rows" in err
    table = pq.read_table(out)
    assert table.num_rows == 4 and table.column_names == ["sku", "price", *SENTENCE_COLUMNS]
    assert table.schema.field("overclaim_start").type == pa.int64()
    assert table.schema.field("overclaim_hedging").type == pa.float64()

    first_empty = tmp_path / "chunked.parquet"
    batch.run(source, first_empty, "title", chunk_rows=1, per_sentence=True)
    assert pq.read_table(first_empty).equals(table)


def test_per_sentence_on_the_dask_engine_is_a_one_line_error(capsys, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("sku,title\n1,Zinc cures colds.\n")

    code, err = cli(capsys, source, "-o", tmp_path / "out.csv", "--text-column", "title", "--engine", "dask",
                    "--per-sentence")

    assert code == 2 and err == "overclaim: error: --per-sentence needs --engine local\n"


def test_replace_refuses_a_text_column_it_would_overwrite(capsys, tmp_path):
    source, scored = tmp_path / "in.csv", tmp_path / "scored.csv"
    source.write_text("sku,title\n1,Zinc cures colds.\n")
    assert cli(capsys, source, "-o", scored, "--text-column", "title")[0] == 0

    code, err = cli(capsys, scored, "-o", tmp_path / "again.csv", "--text-column", "overclaim_top_sentence",
                    "--replace")

    assert code == 2 and err.count("\n") == 1 and "text column 'overclaim_top_sentence' is one overclaim writes" in err
    assert not (tmp_path / "again.csv").exists()
