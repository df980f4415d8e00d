"""Code tests on small synthetic inputs: featurization, sentence splitting, citation rules, policy."""
import copy
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone

from overclaim.citations import CHECKABLE, EVIDENCE_HINTS, find_cues, rule_decision
from overclaim.first_words import FirstWordIndex
from overclaim.features import (
    _NEGATION_BEFORE, CITATION_CUES, CUE_DESCRIPTIONS, CUES, NEGATION_WINDOW, SCOPE_CUES, SCOPED, CueFeatures, cue_counts,
)
from overclaim.masking import ProductMasker, mask_products
from overclaim.policy import ThresholdError, check_thresholds, decide
from overclaim.scorer import Scorer
from overclaim.sentences import sentence_spans

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus.csv"


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


def reference_cue_counts(masked_text, scopes=True):
    """The specification of the cue counts: every cue's pattern run on its own over the lower-cased text (the
    implementation before issue 14 made it one scan)."""
    import re

    lower = masked_text.lower()
    compiled = {name: re.compile(pattern) for name, pattern in CUES.items()}
    counts = dict.fromkeys(SCOPE_CUES, 0)
    attributions = [match.end() for match in compiled["attribution"].finditer(lower)]
    attributed_from = attributions[0] if scopes and attributions else len(lower) + 1
    for name, pattern in compiled.items():
        if name == "attribution":
            counts[name] = len(attributions)
            continue
        if not scopes or name not in SCOPED:
            counts[name] = len(pattern.findall(lower))
            continue
        counts[name] = 0
        for match in pattern.finditer(lower):
            if _NEGATION_BEFORE.search(lower, max(0, match.start() - NEGATION_WINDOW), match.start()):
                counts["negated_claim"] += 1
            elif match.start() >= attributed_from:
                counts["attributed_claim"] += 1
            else:
                counts[name] += 1
    counts.update({f"cite:{kind}": 0 for kind in CITATION_CUES})
    for cue in find_cues(masked_text):
        counts[f"cite:{cue.kind}"] += 1
    return counts


class ReferenceCueFeatures(TransformerMixin, BaseEstimator):
    """The specification of :class:`CueFeatures` (cap 2, scale 1) over :func:`reference_cue_counts`."""

    def __init__(self, scopes=True):
        self.scopes = scopes

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        rows = []
        for text in map(str, X):
            counts = reference_cue_counts(text, self.scopes)
            effect = sum(counts[name] for name in ("treat_verb", "support_verb", "can_claim", "causal",
                                                    "drug_substitute"))
            disease = counts["disease"] + counts["drug_class"]
            words = text.split()
            caps = sum(1 for w in words if len(w) > 2 and w.isupper() and w != "SUPPLEMENT")
            rows.append([*counts.values(), min(effect, disease), 0 if disease else effect, text.count("?"),
                         text.count("!"), caps, len(words) / 20])
        return np.minimum(np.array(rows, dtype=float), 2) / 2

    def get_feature_names_out(self, input_features=None):
        names = (*SCOPE_CUES, *CUES, *(f"cite:{kind}" for kind in CITATION_CUES), "disease_effect",
                 "function_effect", "question", "exclamation", "all_caps_words", "length")
        return np.array([f"cue:{name}" for name in names], dtype=object)


# Strings the corpus may lack: digit runs (masked and not), contractions, a hyphen, non-ASCII word characters.
EDGE_TEXTS = ["100% safe, 0000% safe and 00% PROVEN", "I'm sure; i've, my... me", "Alzheimer's and alzheimers",
              "can't won't don't isn't", "anti-viral, side-effect-free", "mayé may émay", "", "covid-00 covid-19"]


@pytest.mark.parametrize("scopes", [True, False])
def test_issue14_one_scan_cue_counts_equal_one_regex_per_cue_on_every_corpus_sentence(scorer, scopes):
    texts = pd.read_csv(CORPUS).text.tolist() + EDGE_TEXTS
    masked = scorer.model.pipeline.named_steps["mask"].transform(texts)
    assert [cue_counts(t, scopes) for t in masked + EDGE_TEXTS] == [
        reference_cue_counts(t, scopes) for t in masked + EDGE_TEXTS]
    fast = CueFeatures(scopes=scopes).fit(masked).transform(masked).toarray()
    np.testing.assert_allclose(fast, ReferenceCueFeatures(scopes).transform(masked), rtol=0, atol=1e-6)


def test_issue14_records_equal_those_of_the_reference_cue_features(scorer):
    texts = pd.read_csv(CORPUS).text.tolist()[:500]
    model = copy.deepcopy(scorer.model)
    model.pipeline.named_steps["features"].set_params(cues=ReferenceCueFeatures())
    reference = Scorer(model)
    assert [r.to_dict() for r in scorer.score_many(texts)] == [r.to_dict() for r in reference.score_many(texts)]


@pytest.mark.parametrize("patterns", [
    {"may": r"\bmay(?:be)?\b", "zeros": r"\b0+%", "i": r"\bi(?:'m)?\b"},
    {"open_end": r"\bhospital", "any_first_word": r"\b\w+ly\b", "lookbehind": r"(?<=a)b"},
])
def test_first_word_index_finds_what_finditer_finds(patterns):
    import re

    compiled = {name: re.compile(pattern) for name, pattern in patterns.items()}
    index = FirstWordIndex(compiled)
    for text in ["Maybe may; i'm I 00% 0% x00%", "hospitals, hospital, only, early, ab", "", "mayé maybe-may"]:
        found = {name: [m.span() for m in matches] for name, matches in index.find(text.lower()).items()}
        expected = {name: [m.span() for m in p.finditer(text.lower())] for name, p in compiled.items()}
        assert found == {name: spans for name, spans in expected.items() if spans}


def reference_hint_spans(text, checkable):
    """The specification of the evidence-hint words: each [a-z0-9][a-z0-9'-]* word of the lower-cased text tested
    on its own (the implementation before issue 14), outside the ``checkable`` (DOI, URL...) spans."""
    import re

    def is_hint(word):
        return (word in EVIDENCE_HINTS or word.endswith(("ologist", "ologists", "ician", "icians"))
                or (len(word) == 4 and word.isdigit()))

    return [m.span() for m in re.finditer(r"[a-z0-9][a-z0-9'-]*", text.lower())
            if is_hint(m.group()) and not any(s <= m.start() < e for s, e in checkable)]


HINT_EDGE_TEXTS = ["-data 'ician ician x-ician 1999 19999 '-'study ologist- the-pharmacist's l'fda fda-approved",
                   "A-" * 3000, "'" * 5000, "PHYSICIANS AND 2019 DATA", "doi:10.3390/nutrients12123711 data"]


def test_issue14_evidence_hints_found_by_one_regex_equal_the_per_word_rule(scorer):
    texts = pd.read_csv(CORPUS).text.tolist()
    masked = scorer.model.pipeline.named_steps["mask"].transform(texts)
    for text in masked + texts + HINT_EDGE_TEXTS:
        cues = find_cues(text)
        checkable = [(c.start, c.end) for c in cues if c.kind in CHECKABLE]
        assert [(c.start, c.end) for c in cues if c.kind == "evidence_hint"] == reference_hint_spans(text, checkable)


def test_every_cue_column_has_a_description_for_the_page():
    names = [name.removeprefix("cue:") for name in CueFeatures().fit(["x"]).get_feature_names_out()]
    assert sorted(CUE_DESCRIPTIONS) == sorted(names)
