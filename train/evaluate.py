"""Grouped cross-validation of the model and of two baselines, computed in the same run on the same folds.

Two groupings: leave-supplement-out (no supplement on both sides of a fold; the five seed documents, all kratom,
stay together), which estimates how the model does on products it has never seen, and leave-one-genre-out (each
genre held out in turn), which estimates how it does on a register it has never seen.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, f1_score, precision_recall_fscore_support, roc_auc_score
from sklearn.pipeline import make_pipeline

from overclaim.citations import combine_citation
from overclaim.policy import CLAIM_TYPES, PRESENT, has_disclaimer, load_policy, shipped_policies
from train.corpus import HEDGING
from train.model import PARAMS, TARGETS, TENTATIVE, build_pipeline, grouped_splits

CLAIMS = ("hedged", "neutral", "overclaim")
CITATIONS = ("none", "unverifiable", "vague", "verifiable")
PRESENCE = ("0", "1")
LABELS = {"claim": CLAIMS, "citation": CITATIONS, "hedging": HEDGING, **{t: PRESENCE for t in CLAIM_TYPES}}
# The rows that existed before the corpus was extended in human voices (seed rows and w00001-w03079): the
# cross-validation figures on them are compared with the figures the model had before.
LAST_ORIGINAL_ROW = "w03079"
OUTER_FOLDS = 5
# Outer folds are independent fits: one per core of the 2-core machines this project trains on.
N_JOBS = 2
BLOCK_PRECISION = 0.95
REVIEW_RECALL = 0.95

# What a moderation team writes by hand: the baseline the model must beat.
KEYWORD_OVERCLAIM = re.compile(
    r"\b(cures?|cured|treats?|heals?|reverses?|prevents?|proven|guaranteed|miracle|no side effects|"
    r"completely safe|100% safe|clinically proven|doctors agree|game.changer|eliminates?|kills?|"
    r"detox|fights?|relief|relieves?)\b", re.IGNORECASE)
KEYWORD_HEDGE = re.compile(
    r"\b(may|might|could|preliminary|more research|some people|suggests?|possibly|limited|small study|"
    r"in mice|in rats|appears? to)\b", re.IGNORECASE)
KEYWORD_VERIFIABLE = re.compile(r"\b(doi|pmid|https?://|www\.)", re.IGNORECASE)
KEYWORD_UNVERIFIABLE = re.compile(r"\b(journal|university|institute|published in|dr\.|harvard|researchers at)\b",
                                  re.IGNORECASE)
KEYWORD_VAGUE = re.compile(r"\b(studies|study|research|experts?|scientists?|evidence|doctors)\b", re.IGNORECASE)


def groups_of(frame: pd.DataFrame) -> np.ndarray:
    """The grouping unit of cross-validation: the supplement (all seed documents are kratom)."""
    return frame["supplement"].to_numpy()


def original_rows(frame: pd.DataFrame) -> np.ndarray:
    """Mask of the rows that existed before the corpus was extended in human voices."""
    return ((frame["source"] != "written") | (frame["id"] <= LAST_ORIGINAL_ROW)).to_numpy()


def outer_splits(frame: pd.DataFrame, by: str) -> list:
    """Outer folds: ``supplement`` (grouped 5-fold) or ``genre`` (leave one genre out)."""
    if by == "genre":
        genres = frame["genre"].to_numpy()
        return [(np.flatnonzero(genres != g), np.flatnonzero(genres == g)) for g in sorted(set(genres))]
    return grouped_splits(groups_of(frame), OUTER_FOLDS)


def keyword_baseline(texts) -> dict[str, np.ndarray]:
    """Probabilities from keyword lists, in the column order of ``CLAIMS``, ``CITATIONS`` and ``HEDGING``."""
    claim, citation, hedging = [], [], []
    for text in texts:
        over, hedge = bool(KEYWORD_OVERCLAIM.search(text)), bool(KEYWORD_HEDGE.search(text))
        hedging.append([0.2, 0.8] if hedge else [0.8, 0.2])
        p_over = 0.8 if over and not hedge else 0.5 if over else 0.1
        p_hedge = 0.7 if hedge and not over else 0.4 if hedge else 0.1
        row = np.array([p_hedge, max(0.0, 1 - p_over - p_hedge), p_over])
        claim.append(row / row.sum())
        if KEYWORD_UNVERIFIABLE.search(text):
            citation.append([0.1, 0.7, 0.1, 0.1])
        elif KEYWORD_VERIFIABLE.search(text):
            citation.append([0.1, 0.1, 0.1, 0.7])
        elif KEYWORD_VAGUE.search(text):
            citation.append([0.1, 0.1, 0.7, 0.1])
        else:
            citation.append([0.85, 0.05, 0.05, 0.05])
    return {"claim": np.array(claim), "citation": np.array(citation), "hedging": np.array(hedging)}


def plain_baseline():
    """The plain word TF-IDF + LR the model must beat: default settings, one per target."""
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=5000))


def _fit_fold(texts, labels, groups, train_idx, test_idx, params, baselines):
    """Probabilities of the model (and the plain TF-IDF + LR baseline) fitted on one fold's training rows."""
    pipeline = build_pipeline(groups[train_idx], params).fit(texts[train_idx], labels[train_idx])
    model = dict(zip(TARGETS, pipeline.predict_proba(texts[test_idx])))
    for target, classes in zip(TARGETS, pipeline.classes_):
        assert tuple(classes) == LABELS[target]
    plain = {}
    for j, target in enumerate(TARGETS if baselines else ()):
        plain[target] = plain_baseline().fit(texts[train_idx], labels[train_idx, j]).predict_proba(texts[test_idx])
    return test_idx, model, plain


def out_of_fold(frame: pd.DataFrame, params=PARAMS, by: str = "supplement",
                baselines: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """Out-of-fold probabilities of the model (and, with ``baselines``, both baselines) on the same folds,
    grouped ``by`` supplement or genre (see :func:`outer_splits`). Folds are fitted on ``N_JOBS`` processes."""
    texts = frame["text"].to_numpy()
    groups = groups_of(frame)
    labels = frame[list(TARGETS)].to_numpy()
    n = len(frame)
    systems = ("model", "tfidf_lr") if baselines else ("model",)
    result = {name: {target: np.zeros((n, len(LABELS[target]))) for target in TARGETS} for name in systems}
    folds = Parallel(n_jobs=N_JOBS)(delayed(_fit_fold)(texts, labels, groups, train_idx, test_idx, params, baselines)
                                    for train_idx, test_idx in outer_splits(frame, by))
    for test_idx, model, plain in folds:
        for target in TARGETS:
            result["model"][target][test_idx] = model[target]
            if baselines:
                result["tfidf_lr"][target][test_idx] = plain[target]
    result["model"]["citation"] = combine_citation(texts, result["model"]["citation"], CITATIONS)
    if baselines:
        result["keywords"] = keyword_baseline(texts)
    return result


def expected_calibration_error(y_true: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean gap between predicted and observed frequency over equal-width bins, weighted by bin size."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            gap += mask.mean() * abs(p[mask].mean() - y_true[mask].mean())
    return float(gap)


def metrics(frame: pd.DataFrame, proba: dict[str, np.ndarray]) -> dict:
    """Per-class precision/recall/F1, macro-F1, overclaim and hedging ROC-AUC, Brier score and ECE for one
    system; for each claim type (when the system has them) precision, recall and F1 at probability 0.5 and
    ROC-AUC."""
    out = {}
    for target in ("claim", "citation", "hedging"):
        classes = LABELS[target]
        y = frame[target].to_numpy()
        predicted = np.asarray(classes)[proba[target].argmax(axis=1)]
        p, r, f, s = precision_recall_fscore_support(y, predicted, labels=list(classes), zero_division=0)
        out[target] = {
            "per_class": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                          for i, c in enumerate(classes)},
            "macro_f1": float(f1_score(y, predicted, labels=list(classes), average="macro", zero_division=0)),
        }
    is_over = (frame["claim"] == "overclaim").to_numpy().astype(int)
    out["overclaim_vs_rest"] = _one_vs_rest(is_over, proba["claim"][:, CLAIMS.index("overclaim")])
    tentative = (frame["hedging"] == TENTATIVE).to_numpy().astype(int)
    out["hedging_vs_rest"] = _one_vs_rest(tentative, proba["hedging"][:, HEDGING.index(TENTATIVE)])
    if all(t in proba for t in CLAIM_TYPES):
        out["claim_types"] = {t: _type_metrics((frame[t] == "1").to_numpy().astype(int), proba[t][:, 1])
                              for t in CLAIM_TYPES}
    return out


def _type_metrics(y_true: np.ndarray, p: np.ndarray) -> dict[str, float]:
    predicted = (p >= PRESENT).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, predicted, average="binary", zero_division=0)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(y_true.sum()),
            **_one_vs_rest(y_true, p)}


def _one_vs_rest(y_true: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """ROC-AUC (``None`` where the rows hold one class only, as a held-out genre may), Brier score and ECE."""
    auc = float(roc_auc_score(y_true, p)) if len(set(y_true)) == 2 else None
    return {"roc_auc": auc, "brier": float(brier_score_loss(y_true, p)),
            "ece": expected_calibration_error(y_true, p)}


def choose_thresholds(is_over: np.ndarray, risk: np.ndarray) -> dict[str, float]:
    """Cut points on the out-of-fold risk: ``block`` at the lowest risk where precision for overclaim reaches
    ``BLOCK_PRECISION``, ``review`` at the highest risk that still catches ``REVIEW_RECALL`` of overclaims."""
    order = np.argsort(-risk, kind="stable")
    sorted_risk, hits = risk[order], is_over[order]
    caught = np.cumsum(hits)
    precision = caught / np.arange(1, len(hits) + 1)
    recall = caught / max(1, hits.sum())
    last = np.r_[sorted_risk[1:] != sorted_risk[:-1], True]  # evaluate only where the risk changes
    ok_block = np.flatnonzero(last & (precision >= BLOCK_PRECISION))
    block = float(sorted_risk[ok_block[-1]]) if len(ok_block) else 1.0
    ok_review = np.flatnonzero(last & (recall >= REVIEW_RECALL))
    review = float(sorted_risk[ok_review[0]]) if len(ok_review) else 0.0
    return {"review": round(min(review, block), 4), "block": round(block, 4)}


def threshold_report(is_over: np.ndarray, risk: np.ndarray, thresholds: dict[str, float]) -> dict[str, float]:
    """Precision of ``block`` and recall of ``review`` on the out-of-fold predictions."""
    blocked, reviewed = risk >= thresholds["block"], risk >= thresholds["review"]
    return {
        "block_precision": float(is_over[blocked].mean()) if blocked.any() else 0.0,
        "block_recall": float(is_over[blocked].sum() / max(1, is_over.sum())),
        "review_recall": float(is_over[reviewed].sum() / max(1, is_over.sum())),
        "review_share": float(reviewed.mean()),
    }


def policy_decisions(frame: pd.DataFrame, proba: dict[str, np.ndarray], policy, thresholds: dict) -> np.ndarray:
    """The decision ``policy`` gives each corpus row (one text each) from the model's out-of-fold scores."""
    risk = proba["claim"][:, CLAIMS.index("overclaim")]
    hedging = proba["hedging"][:, HEDGING.index(TENTATIVE)]
    citation = np.asarray(CITATIONS)[proba["citation"].argmax(axis=1)]
    judge, decisions = load_policy(policy).judge, []
    for i, text in enumerate(frame["text"]):
        sentence = {"text": text, "risk": risk[i], "hedging": hedging[i], "citation": citation[i],
                    "claim_types": [t for t in CLAIM_TYPES if proba[t][i, 1] >= PRESENT]}
        decisions.append(judge(sentence, has_disclaimer(text), thresholds)[0])
    return np.array(decisions)


def policy_tables(frame: pd.DataFrame, proba: dict[str, np.ndarray], thresholds: dict) -> dict:
    """For each shipped policy, the share of rows it allows, reviews and blocks, by the row's labels: each claim
    class, each claim type, and the reference (fact-sheet) genre's rows without a type."""
    groups = {f"claim={c}": (frame["claim"] == c).to_numpy() for c in ("overclaim", "hedged", "neutral")}
    groups.update({f"type={t}": (frame[t] == "1").to_numpy() for t in CLAIM_TYPES})
    groups["no type"] = (frame["claim_types"] == "").to_numpy()
    groups["genre=reference"] = (frame["genre"] == "reference").to_numpy()
    out = {}
    for name in shipped_policies():
        decided = policy_decisions(frame, proba, name, thresholds)
        out[name] = {group: {"rows": int(rows.sum()),
                             **{d: float((decided[rows] == d).mean()) if rows.any() else 0.0
                                for d in ("allow", "review", "block")}}
                     for group, rows in groups.items()}
    return out
