"""The Python API and the result record, on the real model, including bad input."""
import json

import pytest

import overclaim

SEED_PARAGRAPH = ("Kratom and magnesium naturally emerge as powerful allies in addiction recovery, offering a potential "
                  "path to long-term sobriety. Take time to evaluate your own experience.")


def test_record_has_every_field_in_plain_json_types(scorer):
    record = scorer.score(SEED_PARAGRAPH).to_dict()
    assert json.loads(json.dumps(record)) == record
    assert set(record) >= {"risk", "decision", "rule", "policy", "citation", "reasons", "claim_types", "sentences",
                           "model"}
    sentence = record["sentences"][0]
    assert set(sentence) == {"text", "start", "end", "risk", "probabilities", "hedging", "claim_types",
                             "type_probabilities", "citation", "reasons", "terms", "decision", "rule"}
    assert 0.0 <= sentence["hedging"] <= 1.0
    assert set(sentence["probabilities"]) == {"overclaim", "hedged", "neutral"}
    assert record["model"]["sha256"] == overclaim.load_model().meta["sha256"]


def test_sentence_offsets_point_into_the_input(scorer):
    text = "  Intro line\n\nZinc cures colds. Dr. Lee disagrees, e.g. in 2.5% of cases."
    for sentence in scorer.score(text).sentences:
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]


def test_document_risk_and_citation_come_from_its_sentences(scorer):
    result = scorer.score("Studies show it helps. Researchers at Harvard proved it cures flu. See PMID: 31173473.")
    assert result.risk == max(s["risk"] for s in result.sentences)
    assert [s["citation"] for s in result.sentences] == ["vague", "unverifiable", "verifiable"]
    assert result.citation == "unverifiable"
    assert "unverifiable_citation" in result.reasons


def test_terms_are_the_linear_contributions_behind_the_risk(scorer):
    terms = scorer.score("Clinically proven to cure diabetes!").sentences[0]["terms"]
    assert 0 < len(terms) <= 5
    weights = [abs(w) for _, w in terms]
    assert weights == sorted(weights, reverse=True)
    assert any(name.startswith("cue:") for name, _ in terms)


def test_score_many_equals_score_one_by_one_and_takes_any_iterable(scorer):
    texts = ["Turmeric cures cancer.", "", "Take with food.", SEED_PARAGRAPH]
    many = scorer.score_many(iter(texts))
    assert [r.to_dict() for r in many] == [scorer.score(t).to_dict() for t in texts]


def test_thresholds_override_per_call_and_refuse_nonsense(scorer):
    text = "Ashwagandha lowers cortisol."
    assert scorer.score(text, thresholds={"review": 0.0, "block": 0.0}).decision == "block"
    assert scorer.score(text, thresholds={"review": 1.0, "block": 1.0}).decision == "allow"
    with pytest.raises(overclaim.policy.ThresholdError):
        scorer.score(text, thresholds={"review": 0.9, "block": 0.1})


def test_load_returns_a_scorer_on_the_cached_model():
    assert overclaim.load().model is overclaim.load().model


@pytest.mark.parametrize("text", [
    "", "   \n\t  ", "\x00\x01\x02\xff garbage \ufffd", "姜黄可以治愈癌症。", "Куркума лечит рак.", "💊🔥💯!!!",
    "<p>Our <b>CBD</b> cures <i>anxiety</i>!</p><script>alert(1)</script>", None,
])
def test_bad_input_gives_a_result_not_a_traceback(scorer, text):
    record = scorer.score(text).to_dict()
    assert 0.0 <= record["risk"] <= 1.0
    assert record["decision"] in ("allow", "review", "block")


def test_empty_text_is_allowed_with_zero_risk(scorer):
    result = scorer.score("")
    assert (result.risk, result.decision, result.citation, result.sentences) == (0.0, "allow", "none", [])


def test_a_5mb_text_is_bounded_and_says_so(scorer):
    result = scorer.score("Zinc cures colds. Take with food. " * 160_000)
    assert result.truncated is True
    assert result.sentences[-1]["end"] <= 100_000
    assert result.decision == "block"


def test_scorer_applies_the_same_citation_rules_as_evaluation(scorer):
    """The scorer reads the rules' cues from the feature matrix; evaluation runs rule_decision on the text."""
    from overclaim.citations import rule_decision
    from train import corpus

    texts = corpus.load()["text"].tolist()[::7]
    decided = [(t, rule_decision(t)) for t in texts]
    results = scorer.score_many(t for t, d in decided if d is not None)
    expected = [d for _, d in decided if d is not None]
    assert [r.sentences[0]["citation"] for r in results if len(r.sentences) == 1] == [
        d for r, d in zip(results, expected) if len(r.sentences) == 1]


def test_a_lone_surrogate_from_json_becomes_a_replacement_character(scorer):
    """Regression: JSON may carry "\\ud800" alone; the record could not be written as UTF-8 (a 500 over HTTP)."""
    text = json.loads('"Zinc cures colds. Odd \\ud800 byte."')
    record = scorer.score(text).to_dict()
    encoded = json.dumps(record, ensure_ascii=False).encode("utf-8")
    assert "\ufffd" in record["sentences"][-1]["text"] and encoded
    assert record["sentences"][-1]["end"] == len(text)


@pytest.mark.parametrize("value", [b"Turmeric cures arthritis.", 42, float("nan"), ["Turmeric cures arthritis."]])
def test_non_text_input_is_a_type_error_not_scored_as_its_repr(scorer, value):
    """Regression: score(b"..."), score(42) and NaN were scored as their repr."""
    with pytest.raises(TypeError, match=f"is {type(value).__name__}, not str"):
        scorer.score(value)
    with pytest.raises(TypeError, match="text 2 is"):
        scorer.score_many(["Take with food.", value])
