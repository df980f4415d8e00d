"""The one pipeline: product masking, word and character TF-IDF and cue features, seven calibrated heads.

The heads are logistic regressions, one each for ``claim``, ``citation``, ``hedging`` and the four claim types
(``disease``, ``structure_function``, ``safety``, ``substantiation``), behind a single
:class:`~sklearn.multioutput.MultiOutputClassifier`; each is calibrated by temperature scaling on grouped
out-of-fold predictions, so a risk of 0.8 means about 80% on supplements the model has not seen.
"""
from __future__ import annotations

from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from overclaim.features import CueFeatures
from overclaim.masking import ProductMasker
from overclaim.policy import CLAIM_TYPES

# One head per target: the claim class, the citation class, tentative wording, and each claim type (present or not).
TARGETS = ("claim", "citation", "hedging", *CLAIM_TYPES)
# The label of the claim head that is the risk, and of the hedging head that is "tentative".
RISK_LABEL = "overclaim"
TENTATIVE = "1"
# One BLAS thread per process: the fits are sparse and small-dense, where a second thread only adds overhead
# (a pipeline fit took 8 s with one thread and 21 s with two); the cores go to parallel folds instead.
BLAS_THREADS = 1
PARAMS = {
    "word_ngrams": (1, 2),
    "char_ngrams": (3, 4),
    "cue_scale": 1.0,
    "cue_scopes": True,
    "C": 16.0,
    "class_weight": "balanced",
    "calibration_folds": 5,
}


def grouped_splits(groups, n_splits):
    """Folds in which no group (a supplement; all kratom rows, seeds included, form one) is on both sides."""
    return list(GroupKFold(n_splits=n_splits).split(groups, groups=groups))


def build_pipeline(groups, params=PARAMS) -> Pipeline:
    """An unfitted pipeline whose calibration folds are grouped by ``groups`` (one entry per training row)."""
    parts = [
        ("words", TfidfVectorizer(ngram_range=params["word_ngrams"], min_df=2, sublinear_tf=True,
                                  token_pattern=r"(?u)\b\w[\w'-]*\b")),
    ]
    if params["char_ngrams"]:
        parts.append(("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=params["char_ngrams"], min_df=2,
                                               sublinear_tf=True)))
    if params["cue_scale"]:
        parts.append(("cues", CueFeatures(scale=params["cue_scale"], scopes=params["cue_scopes"])))
    features = FeatureUnion(parts)
    head = CalibratedClassifierCV(
        LogisticRegression(C=params["C"], class_weight=params["class_weight"], max_iter=5000),
        method="temperature",
        cv=grouped_splits(groups, params["calibration_folds"]),
        ensemble=False,
    )
    return Pipeline([("mask", ProductMasker()), ("features", features), ("heads", MultiOutputClassifier(head))])


def serving_meta(pipeline, thresholds: dict) -> dict:
    """What :class:`overclaim.scorer.Scorer` reads from ``meta.json`` besides versions and hashes: targets, the
    labels of each fitted head, which labels are the risk and the tentative wording, and the thresholds."""
    return {"targets": list(TARGETS),
            "labels": {t: [str(c) for c in classes] for t, classes in zip(TARGETS, pipeline.classes_)},
            "risk_label": RISK_LABEL, "hedging_label": TENTATIVE, "thresholds": thresholds}
