"""Score texts: split into sentences, run the one pipeline once over all of them, build the result record.

Every surface (Python API, CLI, JSON lines, batch, HTTP) returns views of :meth:`Result.to_dict`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

import numpy as np

from overclaim.citations import decide as citation_rule
from overclaim.loader import LoadedModel, ModelError, load_model
from overclaim.policy import CLAIM_TYPES, DECISIONS, PRESENT, Policy, check_thresholds, has_disclaimer, load_policy
from overclaim.reasons import NAMES as REASONS
from overclaim.sentences import sentence_spans

# Most serious first: a document's citation is the most serious among its sentences.
CITATION_SEVERITY = ("unverifiable", "vague", "verifiable", "none")
MAX_CHARS = 100_000
# Sentences one HTTP request may bring, per text and in all: work and answer size grow with sentences, not
# characters (100,000 characters of one-word lines are 50,000 sentences). A 100 KB article has ~1,300.
MAX_SENTENCES_PER_TEXT = 2_000
MAX_SENTENCES_PER_REQUEST = 5_000
# JSON may carry "\ud800" alone; such a character cannot be written as UTF-8, so it becomes U+FFFD (one for one,
# offsets unchanged) before anything else sees it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
TOP_TERMS = 5
BATCH_SENTENCES = 4096



@dataclass
class Result:
    """The scoring result of one text; :meth:`to_dict` is the record every surface returns."""

    risk: float
    decision: str
    rule: str
    policy: str
    citation: str
    reasons: list[str]
    claim_types: list[str]
    sentences: list[dict]
    model: dict
    truncated: bool = False

    def to_dict(self) -> dict:
        """Plain JSON types only."""
        return {
            "risk": self.risk,
            "decision": self.decision,
            "rule": self.rule,
            "policy": self.policy,
            "citation": self.citation,
            "reasons": list(self.reasons),
            "claim_types": list(self.claim_types),
            "sentences": [dict(s) for s in self.sentences],
            "model": dict(self.model),
            "truncated": self.truncated,
        }


def _reasons(cues: dict[str, float], risk: float, citation: str, review: float) -> list[str]:
    found = []
    if risk >= review:
        if cues["disease"] and (cues["treat_verb"] or cues["drug_class"]):
            found.append("disease_claim")
        if cues["drug_substitute"] or cues["drug_class"]:
            found.append("drug_substitute")
        if cues["absolute_safety"]:
            found.append("absolute_safety")
        if cues["booster"] or cues["authority"]:
            found.append("establishment_claim")
        efficacy = cues["treat_verb"] or cues["can_claim"] or cues["disease"]
        if efficacy and not (cues["hedge_modal"] or cues["evidence_limit"] or cues["scope_limit"]):
            found.append("unhedged_efficacy")
        if not found:
            found.append("claim_language")
    if citation == "unverifiable":
        found.append("unverifiable_citation")
    elif citation == "vague":
        found.append("vague_evidence")
    return found


def _term_name(feature: str) -> str:
    kind, _, name = feature.partition("__")
    return {"words": name, "chars": f"~{name.strip()}", "cues": name}.get(kind, feature)


class Scorer:
    """Scores texts with one loaded model.

    Parameters
    ----------
    model : LoadedModel
        A model from :func:`overclaim.loader.load_model`.
    thresholds : dict, optional
        ``{"review": x, "block": y}`` overriding the model's own cut points.
    max_chars : int
        Texts longer than this are scored on their first ``max_chars`` characters, and the result says
        ``"truncated": true``.
    policy : str, Path or Policy, optional
        The moderation policy that turns scores into decisions: a shipped policy's name, the path of a ``.toml``
        policy file, or a loaded :class:`~overclaim.policy.Policy` (``default`` when ``None``).
    """

    def __init__(self, model: LoadedModel, thresholds=None, max_chars: int = MAX_CHARS, policy=None):
        self.model = model
        self.thresholds = check_thresholds(thresholds if thresholds is not None else model.thresholds)
        self.policy = load_policy(policy)
        self.max_chars = max_chars
        pipeline = model.pipeline
        self._mask = pipeline.named_steps["mask"]
        self._features = pipeline.named_steps["features"]
        self._heads = pipeline.named_steps["heads"]
        names = list(self._features.get_feature_names_out())
        self._feature_names = np.array([_term_name(f) for f in names], dtype=object)
        # Reasons and the citation rules read the cue columns of the same feature matrix the heads see.
        self._cue_columns = [i for i, f in enumerate(names) if f.startswith("cues__cue:")]
        self._cue_names = [names[i].removeprefix("cues__cue:") for i in self._cue_columns]
        targets = model.meta["targets"]
        if not set(CLAIM_TYPES) <= set(targets):
            raise ModelError(f"{model.path} has no claim-type heads (it was trained by overclaim before 0.3.0): "
                             "retrain it with 'python -m train --output DIR'")
        self._claim_head = self._heads.estimators_[targets.index("claim")]
        self._citation_head = self._heads.estimators_[targets.index("citation")]
        self._hedging_head = self._heads.estimators_[targets.index("hedging")]
        self._type_heads = [(t, self._heads.estimators_[targets.index(t)], model.labels[t].index("1"))
                            for t in CLAIM_TYPES]
        self._tentative = model.labels["hedging"].index(model.meta["hedging_label"])
        self._claim_labels = model.labels["claim"]
        self._citation_labels = model.labels["citation"]
        # The calibrated head's inner regression is fitted on class indices in the order of the head's classes_.
        linear = self._claim_head.calibrated_classifiers_[0].estimator
        self._risk_coef = linear.coef_[list(self._claim_head.classes_).index(model.meta["risk_label"])]
        self._model_info = {"version": model.meta["model_version"], "sha256": model.meta["sha256"]}

    def score(self, text: str, thresholds=None, policy=None) -> Result:
        """Score one text."""
        return self.score_many([text], thresholds, policy)[0]

    def score_many(self, texts, thresholds=None, policy=None) -> list[Result]:
        """Score an iterable of texts; all their sentences go through the pipeline in large batches.

        ``thresholds`` and ``policy`` override the scorer's own for this call. A text must be a ``str`` (``None`` is
        read as empty); anything else raises ``TypeError`` rather than being scored as its ``repr``."""
        cuts = check_thresholds(thresholds) if thresholds is not None else self.thresholds
        policy = self.policy if policy is None else load_policy(policy)
        clipped, truncated, spans = [], [], []
        for number, text in enumerate(texts, start=1):
            if not isinstance(text, str) and text is not None:
                raise TypeError(f"text {number} is {type(text).__name__}, not str: decode bytes and convert numbers "
                                "before scoring")
            text = LONE_SURROGATE.sub("\ufffd", text or "")
            clipped.append(text[: self.max_chars])
            truncated.append(len(text) > self.max_chars)
            spans.append(sentence_spans(clipped[-1]))
        flat = [text[s:e] for text, text_spans in zip(clipped, spans) for s, e in text_spans]
        scored = iter(self._score_sentences(flat, cuts))
        results = []
        for text, cut, text_spans in zip(clipped, truncated, spans):
            sentences = [dict(text=text[s:e], start=s, end=e, **row) for (s, e), row in
                         zip(text_spans, islice(scored, len(text_spans)))]
            results.append(self._result(text, sentences, cuts, policy, truncated=cut))
        return results

    def _result(self, text: str, sentences: list[dict], cuts: dict, policy: Policy, truncated: bool) -> Result:
        disclaimer = has_disclaimer(text)
        for sentence in sentences:
            sentence["decision"], sentence["rule"] = policy.judge(sentence, disclaimer, cuts)
        # A text without sentences is judged as one empty sentence: risk 0, no claim.
        judged = [(s["decision"], s["rule"]) for s in sentences] or [policy.judge({"risk": 0.0}, disclaimer, cuts)]
        decision, rule = max(judged, key=lambda pair: DECISIONS.index(pair[0]))  # the first most severe
        citations = {s["citation"] for s in sentences}
        citation = next((c for c in CITATION_SEVERITY if c in citations), "none")
        reasons = sorted({r for s in sentences for r in s["reasons"]}, key=REASONS.index)
        types = {t for s in sentences for t in s["claim_types"]}
        return Result(risk=max((s["risk"] for s in sentences), default=0.0), decision=decision, rule=rule,
                      policy=policy.name, citation=citation, reasons=reasons,
                      claim_types=[t for t in CLAIM_TYPES if t in types], sentences=sentences,
                      model=self._model_info, truncated=truncated)

    def _score_sentences(self, sentences: list[str], cuts: dict):
        for start in range(0, len(sentences), BATCH_SENTENCES):
            batch = sentences[start : start + BATCH_SENTENCES]
            masked = self._mask.transform(batch)
            X = self._features.transform(masked)
            claim = self._claim_head.predict_proba(X)
            citation = self._citation_head.predict_proba(X)
            hedging = self._hedging_head.predict_proba(X)[:, self._tentative]
            types = np.column_stack([head.predict_proba(X)[:, yes] for _, head, yes in self._type_heads])
            contributions = X.multiply(self._risk_coef).tocsr()
            cue_values = X[:, self._cue_columns].toarray()
            over = self._claim_labels.index(self.model.meta["risk_label"])
            for i in range(len(batch)):
                risk = float(claim[i, over])
                cues = dict(zip(self._cue_names, cue_values[i]))
                decided = citation_rule(name[5:] for name, value in cues.items() if name.startswith("cite:") and value)
                cite = decided if decided is not None else self._citation_labels[int(citation[i].argmax())]
                lo, hi = contributions.indptr[i], contributions.indptr[i + 1]
                data, indices = contributions.data[lo:hi], contributions.indices[lo:hi]
                order = np.argsort(-np.abs(data))[:TOP_TERMS]
                yield {
                    "risk": round(risk, 4),
                    "probabilities": {label: round(float(p), 4) for label, p in zip(self._claim_labels, claim[i])},
                    "hedging": round(float(hedging[i]), 4),
                    "claim_types": [t for t, p in zip(CLAIM_TYPES, types[i]) if p >= PRESENT],
                    "type_probabilities": {t: round(float(p), 4) for t, p in zip(CLAIM_TYPES, types[i])},
                    "citation": cite,
                    "reasons": _reasons(cues, risk, cite, cuts["review"]),
                    "terms": [[str(self._feature_names[indices[j]]), round(float(data[j]), 4)] for j in order],
                }


def load(path=None, thresholds=None, policy=None, sha256=None) -> Scorer:
    """A :class:`Scorer` for the model in directory ``path`` (the bundled model when ``None``), deciding by
    ``policy`` (``default`` when ``None``); ``sha256`` pins the artifact's digest (see
    :func:`overclaim.loader.load_model`)."""
    return Scorer(load_model(path, sha256), thresholds=thresholds, policy=policy)
