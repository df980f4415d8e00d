"""The Python hook overclaim.moderate: the same records as the CLI stream and the HTTP service."""
import json

import pytest

import overclaim
from overclaim import stream


def test_a_text_gives_one_record(scorer):
    assert overclaim.moderate("Turmeric cures arthritis.") == scorer.score("Turmeric cures arthritis.").to_dict()


def test_items_give_records_in_order_with_ids_echoed_or_numbered():
    records = overclaim.moderate([{"id": "a", "text": "Zinc cures colds."}, "Take with food.", {"text": "Hi."}])
    assert [r["id"] for r in records] == ["a", 2, 3]
    assert records[0]["decision"] in ("review", "block") and records[1]["decision"] == "allow"


def test_bad_items_give_error_records_and_the_others_are_scored():
    records = overclaim.moderate([{"id": 1}, {"id": 2, "text": 42}, 3.5, {"id": 4, "text": "Fine."}])
    assert [r.get("error") is not None for r in records] == [True, True, True, False]
    assert "missing field 'text'" in records[0]["error"] and records[3]["decision"] == "allow"


def test_items_match_the_json_lines_stream(scorer):
    items = [{"id": i, "text": t} for i, t in enumerate(["Berberine works like metformin.", "", "Kava may calm."])]
    lines = [json.dumps(item) for item in items]
    [streamed] = list(stream.moderate([lines], scorer))
    assert overclaim.moderate(items) == streamed


def test_thresholds_override_for_the_call():
    assert overclaim.moderate("Kava may calm some people.", {"review": 0.0, "block": 0.0})["decision"] == "block"
    with pytest.raises(ValueError, match="review <= block"):
        overclaim.moderate("x", {"review": 0.9, "block": 0.1})


@pytest.mark.parametrize("bad", [None, 42, b"bytes", {"text": "a dict alone"}])
def test_what_is_neither_a_text_nor_items_is_a_type_error(bad):
    with pytest.raises(TypeError, match="a text or a list of items"):
        overclaim.moderate(bad)


def test_a_generator_of_items_is_read_once():
    records = overclaim.moderate(item for item in ["Zinc cures colds.", "Take with food."])
    assert len(records) == 2


def test_the_documented_consumer_loop_runs():
    """The README's queue-consumer example, on messages that arrive as JSON strings."""
    messages = [json.dumps({"id": "m1", "text": "Ashwagandha cures anxiety."}), json.dumps({"id": "m2", "text": "Hi."})]
    held = []
    for message in messages:
        [record] = overclaim.moderate([json.loads(message)])
        if record.get("decision") != "allow":
            held.append(record["id"])
    assert held == ["m1"]


def test_nan_and_infinity_ids_are_echoed_as_strict_json_not_bare_nan(scorer):
    lines = ['{"id": NaN, "text": "Zinc cures colds."}', '{"id": [Infinity, -Infinity], "text": "Hi."}']
    [records] = list(stream.moderate([lines], scorer))

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    echoed = [json.loads(stream.to_json(r), parse_constant=refuse)["id"] for r in records]
    assert echoed == ["NaN", ["Infinity", "-Infinity"]]


def test_moderate_takes_another_model(tmp_path):
    """Regression: overclaim.moderate() could only use the bundled model."""
    import shutil

    from overclaim.loader import BUNDLED_DIR

    copy = shutil.copytree(BUNDLED_DIR, tmp_path / "model")
    record = overclaim.moderate("Turmeric cures arthritis.", model=copy)
    assert record == overclaim.moderate("Turmeric cures arthritis.")
    with pytest.raises(overclaim.ModelError, match="does not exist"):
        overclaim.moderate("Turmeric cures arthritis.", model=tmp_path / "missing")
