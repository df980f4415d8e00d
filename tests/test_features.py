"""Code tests on small synthetic inputs: featurization, sentence splitting, citation rules, policy."""
import pickle

import pytest
from sklearn.base import clone

from overclaim.citations import find_cues, rule_decision
from overclaim.features import CueFeatures, cue_counts
from overclaim.masking import ProductMasker, mask_products
from overclaim.policy import ThresholdError, check_thresholds, decide
from overclaim.sentences import sentence_spans


@pytest.mark.parametrize("transformer", [ProductMasker(), CueFeatures(cap=3, scale=0.5)])
def test_transformers_follow_the_estimator_contract(transformer):
    texts = ["Zinc cures colds!", "May help, in mice."]
    copy = list(texts)
    assert transformer.fit(texts) is transformer
    assert texts == copy
    assert clone(transformer).get_params() == transformer.get_params()
    restored = pickle.loads(pickle.dumps(transformer.fit(texts)))
    out, again = transformer.transform(texts), restored.transform(texts)
    assert (out != again).nnz == 0 if hasattr(out, "nnz") else out == again


def test_cue_features_reject_a_bad_cap():
    with pytest.raises(ValueError, match="cap must be at least 1"):
        CueFeatures(cap=0).fit(["x"])


def test_cue_columns_are_bounded_and_named():
    cues = CueFeatures().fit(["x"])
    X = cues.transform(["PROVEN!!! no side effects, 100% safe, cures cancer, diabetes and flu " * 5]).toarray()
    assert X.min() >= 0 and X.max() <= 1
    assert len(cues.get_feature_names_out()) == X.shape[1]


def test_masking_covers_aliases_brands_and_digits():
    assert mask_products("Vitamin D3 and fish oil") == "SUPPLEMENT and SUPPLEMENT"
    assert mask_products("GlowMax Serum™ restores skin") == "SUPPLEMENT restores skin"
    assert mask_products("in 2019, 40 adults") == "in 0000, 00 adults"
    assert mask_products("the same results") == "the same results"


@pytest.mark.parametrize("text, expected", [
    ("Heading Without Stop\nFirst sentence. Second one.", ["Heading Without Stop", "First sentence.", "Second one."]),
    ("- bullet one\n- bullet two", ["- bullet one", "- bullet two"]),
    ("Herbs, e.g. kava, relax some people. Others not.", ["Herbs, e.g. kava, relax some people.", "Others not."]),
    ("Dr. Smith agrees. Nobody else does.", ["Dr. Smith agrees.", "Nobody else does."]),
    ("Lopez et al. found an effect. It was small.", ["Lopez et al. found an effect.", "It was small."]),
    ("Sold in the U.S. since 2010. It is legal.", ["Sold in the U.S. since 2010.", "It is legal."]),
    ("Take 2.5 mg daily. Do not exceed 5.0 mg.", ["Take 2.5 mg daily.", "Do not exceed 5.0 mg."]),
    ("See doi:10.1016/j.jep.2020.112901. It helps.", ["See doi:10.1016/j.jep.2020.112901.", "It helps."]),
    ("Read https://ods.od.nih.gov/factsheets/Zinc-Consumer/ now. Then decide.",
     ["Read https://ods.od.nih.gov/factsheets/Zinc-Consumer/ now.", "Then decide."]),
])
def test_sentence_splitting(text, expected):
    assert [text[s:e] for s, e in sentence_spans(text)] == expected


@pytest.mark.parametrize("text", ["", "   \n\t ", "\n\n"])
def test_blank_text_has_no_sentences(text):
    assert sentence_spans(text) == []


@pytest.mark.parametrize("text, decided", [
    ("Take two capsules daily.", "none"),
    ("Full data: PMID: 31173473.", "verifiable"),
    ("See https://clinicaltrials.gov/study/NCT01234567 for the protocol.", "verifiable"),
    ("Studies show zinc shortens colds.", None),
    ("A study in the Journal of Herbal Science (2019) proved it.", None),
])
def test_citation_rules_decide_only_clear_cases(text, decided):
    assert rule_decision(text) == decided


@pytest.mark.parametrize("text, scope", [
    ("Echinacea isn't safe for everyone.", "negated_claim"),
    ("Zinc has not been shown to reduce colds.", "negated_claim"),
    ("It did not improve sleep.", "negated_claim"),
    ("It is claimed that SUPPLEMENT helps the immune system fight cancer.", "attributed_claim"),
    ("Proponents say SUPPLEMENT cures arthritis.", "attributed_claim"),
])
def test_a_claim_cue_under_negation_or_distancing_attribution_is_counted_apart(text, scope):
    counts = cue_counts(text)
    assert counts[scope] >= 1
    assert counts["absolute_safety"] == counts["booster"] == counts["can_claim"] == 0


@pytest.mark.parametrize("text", [
    "Our formula has no side effects and cures pain.",
    "Not only does it cure pain, it lifts your mood.",
    "No more pills: it cures pain.",
])
def test_a_negation_does_not_reach_past_a_conjunction_or_into_the_next_clause(text):
    counts = cue_counts(text)
    assert counts["treat_verb"] >= 1


def test_cue_scopes_can_be_switched_off():
    assert cue_counts("It did not improve sleep.", scopes=False)["negated_claim"] == 0
    assert cue_counts("It did not improve sleep.", scopes=False)["treat_verb"] == 1


def test_cues_inside_a_doi_are_not_separate_cues():
    assert [c.kind for c in find_cues("doi:10.3390/nutrients12123711")] == ["doi"]


def test_policy_decides_with_given_thresholds():
    cuts = {"review": 0.4, "block": 0.8}
    assert [decide(r, cuts) for r in (0.0, 0.39, 0.4, 0.79, 0.8, 1.0)] == [
        "allow", "allow", "review", "review", "block", "block"]


@pytest.mark.parametrize("bad", [{"review": 0.9, "block": 0.5}, {"review": -0.1, "block": 0.5},
                                 {"review": "x", "block": 0.5}, {"block": 0.5}, None])
def test_bad_thresholds_are_refused(bad):
    with pytest.raises(ThresholdError):
        check_thresholds(bad)
