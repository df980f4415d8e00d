"""What each feature family buys: grouped-CV quality of the model with and without character n-grams and
cue features, beside their cost per sentence on one core.

Usage: python bench/feature_ablation.py   (about 3 minutes on 2 cores)
"""
import os
import sys
import time
from pathlib import Path

from sklearn.pipeline import FeatureUnion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # train/ is not installed: run from anywhere
from train import corpus  # noqa: E402
from train.evaluate import groups_of, metrics, out_of_fold  # noqa: E402
from train.model import PARAMS, build_pipeline  # noqa: E402

VARIANTS = {
    "shipped (words + chars 3-4 + cues)": PARAMS,
    "without character n-grams": dict(PARAMS, char_ngrams=None),
    "without cue features": dict(PARAMS, cue_scale=None),
}


def cost_per_sentence(params, frame) -> float:
    """Microseconds per sentence of masking and featurization (best of 3), one core, fitted on the corpus."""
    texts = frame["text"].tolist()
    pipeline = build_pipeline(groups_of(frame), params)
    masked = pipeline.named_steps["mask"].fit_transform(texts)
    features: FeatureUnion = pipeline.named_steps["features"]
    features.fit(masked)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        features.transform(pipeline.named_steps["mask"].transform(texts))
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main():
    frame = corpus.validate()
    for name, params in VARIANTS.items():
        m = metrics(frame, out_of_fold(frame, params)["model"])
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        cost = cost_per_sentence(params, frame)
        os.sched_setaffinity(0, set(range(os.cpu_count())))
        print(f"{name:38s} claim macro-F1 {m['claim']['macro_f1']:.3f}  ROC-AUC {m['overclaim_vs_rest']['roc_auc']:.3f}"
              f"  citation macro-F1 {m['citation']['macro_f1']:.3f}  featurization {cost:5.0f} us/sentence")


if __name__ == "__main__":
    main()
