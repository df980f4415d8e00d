"""Validate the corpus, evaluate by grouped cross-validation, fit the final model and write ``model/``."""
from __future__ import annotations

import json
import platform
from pathlib import Path

import zipfile

import numpy as np
import pandas as pd
import sklearn
import skops.io

import overclaim
from overclaim.loader import ARTIFACT, META, LoadedModel, sha256_of
from train import card, corpus, transfer
from train.audit import type_agreement
from train.evaluate import (BLOCK_PRECISION, CLAIMS, REVIEW_RECALL, choose_thresholds, groups_of, metrics,
                            original_rows, out_of_fold, policy_tables, threshold_report)
from train.model import PARAMS, TARGETS, build_pipeline, serving_meta



def model_version(corpus_sha256: str) -> str:
    """The package version with the corpus it was trained on, as a PEP 440 local label: ``0.3.0+corpus.1a2b3c4d``.

    Two models trained from the same code on different corpora differ in version, not only in sha256."""
    return f"{overclaim.__version__}+corpus.{corpus_sha256[:8]}"


def build(output: Path, corpus_path: Path = corpus.CORPUS, log=print) -> dict:
    """Run the whole training and write the artifact, ``meta.json``, the model card and its plots to ``output``.

    Returns the metadata written to ``meta.json``.
    """
    frame = corpus.validate(corpus_path)
    log(f"corpus: {len(frame)} rows valid ({corpus_path})")

    oof = out_of_fold(frame)
    scores = {name: metrics(frame, proba) for name, proba in oof.items()}
    original = original_rows(frame)
    scores_original = {name: metrics(frame[original], {t: p[original] for t, p in proba.items()})
                       for name, proba in oof.items()}
    by_genre = out_of_fold(frame, by="genre", baselines=False)["model"]
    scores_genre = metrics(frame, by_genre)
    genres = frame["genre"].to_numpy()
    scores_each_genre = {g: metrics(frame[genres == g], {t: p[genres == g] for t, p in by_genre.items()})
                         for g in sorted(set(genres))}
    is_over = (frame["claim"] == "overclaim").to_numpy().astype(int)
    risk = oof["model"]["claim"][:, CLAIMS.index("overclaim")]
    thresholds = choose_thresholds(is_over, risk)
    log(f"grouped CV: claim macro-F1 {scores['model']['claim']['macro_f1']:.3f}, "
        f"overclaim ROC-AUC {scores['model']['overclaim_vs_rest']['roc_auc']:.3f}, "
        f"citation macro-F1 {scores['model']['citation']['macro_f1']:.3f}, "
        f"hedging ROC-AUC {scores['model']['hedging_vs_rest']['roc_auc']:.3f}, thresholds {thresholds}")
    log(f"leave-one-genre-out: claim macro-F1 {scores_genre['claim']['macro_f1']:.3f}, "
        f"overclaim ROC-AUC {scores_genre['overclaim_vs_rest']['roc_auc']:.3f}")
    log("claim type ROC-AUC (leave-supplement-out / leave-one-genre-out): " + ", ".join(
        f"{t} {m['roc_auc']:.3f} / {scores_genre['claim_types'][t]['roc_auc']:.3f}"
        for t, m in scores["model"]["claim_types"].items()))

    texts = frame["text"].to_numpy()
    pipeline = build_pipeline(groups_of(frame)).fit(texts, frame[list(TARGETS)].to_numpy())

    output.mkdir(parents=True, exist_ok=True)
    artifact = output / ARTIFACT
    corpus_sha256 = sha256_of(Path(corpus_path))
    # What the scorer reads from meta.json travels inside the artifact too, so a digest pin on the artifact also
    # covers the thresholds and labels; plain JSON types, so the copy in meta.json compares equal.
    serving = json.loads(json.dumps({"model_version": model_version(corpus_sha256), **serving_meta(pipeline, thresholds)}))
    # skops, not pickle: loading it builds only reviewed types and runs no code from the file (overclaim.loader).
    skops.io.dump({"pipeline": pipeline, "serving": serving}, artifact, compression=zipfile.ZIP_DEFLATED,
                  compresslevel=6)
    meta = {
        "model_version": serving["model_version"],
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "artifact": ARTIFACT,
        "sha256": sha256_of(artifact),
        "corpus_sha256": corpus_sha256,
        "corpus_rows": int(len(frame)),
        **serving,
        "threshold_targets": {"block_precision": BLOCK_PRECISION, "review_recall": REVIEW_RECALL},
        "threshold_check": threshold_report(is_over, risk, thresholds),
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in PARAMS.items()},
        "evaluation": "grouped 5-fold cross-validation; groups are supplements, the five seed documents are one group",
        "metrics": scores,
        "metrics_original_rows": scores_original,
        "metrics_leave_genre_out": scores_genre,
        "metrics_each_held_out_genre": scores_each_genre,
        "policy_tables": policy_tables(frame, oof["model"], thresholds),
        "claim_type_agreement": type_agreement(frame, pd.read_csv(corpus.TYPE_AUDIT, dtype=str,
                                                                  keep_default_na=False)),
    }
    result = transfer.report(LoadedModel(pipeline=pipeline, meta=meta, path=output), frame)
    if result is None:
        log(f"transfer: no external development sets in {transfer.EXTERNAL}; skipped")
    else:
        log(transfer.table(result))
    meta["transfer"] = result
    (output / META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    card.write(output, meta, frame, oof, is_over)
    log(f"wrote {artifact} ({artifact.stat().st_size / 1e6:.1f} MB), {META}, {card.CARD}")
    return meta


def top_features(pipeline, target: str, n: int = 15) -> dict[str, list[tuple[str, float]]]:
    """The ``n`` largest positive coefficients per class of one head, as (feature, weight)."""
    names = pipeline.named_steps["features"].get_feature_names_out()
    head = pipeline.named_steps["heads"].estimators_[TARGETS.index(target)]
    model = head.calibrated_classifiers_[0].estimator
    out = {}
    coefs = model.coef_ if model.coef_.shape[0] > 1 else np.vstack([-model.coef_[0], model.coef_[0]])
    for label, row in zip(head.classes_, coefs):
        best = np.argsort(-row)[:n]
        out[str(label)] = [(str(names[i]), float(row[i])) for i in best]
    return out
