"""Batch output holds every input row under its own column, with its own type, whatever the chunking (issue 12,
item 4). Chunks of two rows stand in for the 5,000-row chunks of real files."""
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from overclaim import batch
from overclaim.batch import ADDED_COLUMNS, MAX_FIELD_CHARS
from overclaim.cli import main

BIG = 9007199254740993  # 2**53 + 1: the first integer a float64 cannot hold

# Keys change order in the second chunk, one is missing in the third, and one appears only in the fourth.
DRIFTING = [
    {"id": 1, "title": "Zinc cures colds.", "price": "9.99"},
    {"id": 2, "title": "Take with food.", "price": "4.50"},
    {"price": "1.00", "title": "Turmeric cures arthritis, guaranteed.", "id": 3},
    {"title": "Store cool.", "price": "2.00", "id": 4},
    {"id": 5, "title": "Vitamin D is made in the skin."},
    {"id": 6, "title": "Magnesium melts away stress.", "price": "3.00"},
    {"id": 7, "title": "Berberine works like metformin.", "price": "7.00", "colour": "red"},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def read_back(path):
    """The output as plain Python values: the JSON lines as parsed, CSV as text, Parquet as Arrow gives them."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_jsonl_key_drift_across_chunks_lands_every_value_under_its_own_column(tmp_path, suffix):
    """Regression: later chunks were written under the first chunk's CSV header (values shifted, exit 0), Parquet
    output was a traceback, and JSON lines rows kept whatever keys they had."""
    source, out = tmp_path / "in.jsonl", tmp_path / f"out{suffix}"
    write_jsonl(source, DRIFTING)

    summary = batch.run(source, out, "title", chunk_rows=2)

    rows = read_back(out)
    assert summary.rows == len(DRIFTING) == len(rows)
    assert [list(row) for row in rows] == [["id", "title", "price", "colour", *ADDED_COLUMNS]] * len(DRIFTING)
    missing = "" if suffix == ".csv" else None
    for row, given in zip(rows, DRIFTING):
        expected = {key: given.get(key, missing) for key in ("id", "title", "price", "colour")}
        if suffix == ".csv":
            expected["id"] = str(expected["id"])
        assert {key: row[key] for key in expected} == expected
    assert [row["overclaim_decision"] for row in rows][2] != "allow"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_csv_rows_short_of_the_header_are_filled_not_shifted(tmp_path, suffix):
    source, out = tmp_path / "in.csv", tmp_path / f"out{suffix}"
    source.write_text("sku,title,price\n007,Zinc cures colds.,1\n008,Take with food.\n009,Store cool.,3\n")

    batch.run(source, out, "title", chunk_rows=1)

    rows = read_back(out)
    assert [(r["sku"], r["title"], r["price"]) for r in rows] == \
        [("007", "Zinc cures colds.", "1"), ("008", "Take with food.", "" if suffix == ".csv" else None),
         ("009", "Store cool.", "3")]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
@pytest.mark.parametrize("source_kind", ["jsonl", "parquet"])
def test_nullable_integer_ids_survive_exactly(tmp_path, suffix, source_kind):
    """Regression: an integer column with nulls became float64, so 9007199254740993 came out as
    9007199254740992.0; a chunk where the column is all null must not change the Parquet schema either."""
    ids = [BIG, None, None, None, 5]
    source, out = tmp_path / f"in.{source_kind}", tmp_path / f"out{suffix}"
    texts = ["Zinc cures colds.", "Take with food.", "Store cool.", "", "Vitamin D is made in the skin."]
    if source_kind == "jsonl":
        write_jsonl(source, [{"id": i, "title": t} for i, t in zip(ids, texts)])
    else:
        pq.write_table(pa.table({"id": pa.array(ids, pa.int64()), "title": texts}), source)

    batch.run(source, out, "title", chunk_rows=2)

    got = [row["id"] for row in read_back(out)]
    assert got == (["9007199254740993", "", "", "", "5"] if suffix == ".csv" else ids)
    if suffix == ".parquet":
        assert pq.read_schema(out).field("id").type == pa.int64()


def test_parquet_integer_ids_with_nulls_survive_exactly_on_the_dask_engine(tmp_path):
    """Regression: Dask read them as float64 too, and wrote 9007199254740992.0."""
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.table({"id": pa.array([BIG, None, 5], pa.int64()), "title": ["Zinc cures colds.", "", "x"]}),
                   source)

    assert main(["batch", str(source), "-o", str(out), "--text-column", "title", "--engine", "dask", "--jobs", "1",
                 "--quiet"]) == 0

    table = pq.read_table(out)
    assert table.schema.field("id").type == pa.int64() and table.column("id").to_pylist() == [BIG, None, 5]


def test_jsonl_floats_booleans_and_nested_values_come_back_as_read(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [{"title": "Zinc cures colds.", "weight": 0.1234567890123456789, "vegan": True, "tags": ["a", 1]},
            {"title": "Store cool.", "weight": None, "vegan": None, "tags": {"k": None}}]
    write_jsonl(source, rows)

    batch.run(source, out, "title", chunk_rows=1)

    assert [{key: row[key] for key in rows[0]} for row in read_back(out)] == rows


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_huge_field_is_a_one_line_error_naming_the_line_not_gigabytes_of_memory(capsys, tmp_path, suffix):
    """Regression: a 1 GB CSV field took 8.6 GB of memory; now a field (CSV) or a line (JSON lines) longer than
    MAX_FIELD_CHARS stops the run before it is held whole."""
    source, out = tmp_path / f"in{suffix}", tmp_path / "out.csv"
    huge = "x" * (5 * MAX_FIELD_CHARS)
    if suffix == ".csv":
        source.write_text(f"sku,title\n1,Zinc cures colds.\n2,{huge}\n")
    else:
        write_jsonl(source, [{"sku": 1, "title": "Zinc cures colds."}, {"sku": 2, "title": huge}])
    del huge

    code = main(["batch", str(source), "-o", str(out), "--text-column", "title", "--quiet"])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "line 3" in err if suffix == ".csv" else "line 2" in err
    assert f"{MAX_FIELD_CHARS:,}" in err
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("content, message", [
    ('{"title": "ok"}\n[1, 2]\n', "line 2 is a JSON array, not an object"),
    ('{"title": "ok"}\n{"title": \n', "line 2 is not valid JSON"),
    ("sku,title\n1,ok\n2,ok,extra\n", "line 3 has 3 fields, the header 2"),
    ("sku,title,sku\n1,ok,2\n", "column 'sku' appears twice"),
])
def test_malformed_rows_are_one_line_errors_naming_the_line(capsys, tmp_path, content, message):
    source = tmp_path / ("in.jsonl" if content.startswith("{") else "in.csv")
    source.write_text(content)
    code = main(["batch", str(source), "-o", str(tmp_path / "out.csv"), "--text-column", "title", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_the_readme_states_the_field_limit_the_code_enforces():
    readme = (Path(batch.__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"`MAX_FIELD_CHARS` ({MAX_FIELD_CHARS:,} characters" in readme
