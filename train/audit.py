"""Label audits: out-of-fold predictions that confidently disagree with the given label, and the agreement of a
blind second annotator on the claim types."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from overclaim.policy import CLAIM_TYPES


def disagreements(frame: pd.DataFrame, proba: np.ndarray, classes, target: str = "claim",
                  min_confidence: float = 0.8) -> pd.DataFrame:
    """Rows whose out-of-fold prediction is another class with probability >= ``min_confidence``,
    most confident first, with the given label, the predicted one and its probability."""
    classes = np.asarray(classes)
    predicted = classes[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    given_p = proba[np.arange(len(frame)), [list(classes).index(c) for c in frame[target]]]
    mask = (predicted != frame[target].to_numpy()) & (confidence >= min_confidence)
    out = frame.loc[mask, ["id", "text", target, "supplement", "genre", "note"]].copy()
    out.insert(3, "predicted", predicted[mask])
    out.insert(4, "p_predicted", confidence[mask].round(3))
    out.insert(5, "p_given", given_p[mask].round(3))
    return out.sort_values("p_predicted", ascending=False)


def type_agreement(frame: pd.DataFrame, audit: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per claim type, how often a blind second annotator (``audit``: ``id``, ``claim_types``) agrees with the
    corpus, and Cohen's kappa, over the audited rows."""
    given = audit["id"].map(dict(zip(frame["id"], frame["claim_types"]))).str.split("|")
    second = audit["claim_types"].str.split("|")
    out = {}
    for claim_type in CLAIM_TYPES:
        a, b = given.map(lambda ts: claim_type in ts), second.map(lambda ts: claim_type in ts)
        out[claim_type] = {"rows": int(len(audit)), "agreement": float((a == b).mean()),
                           "kappa": float(cohen_kappa_score(a, b))}
    return out
