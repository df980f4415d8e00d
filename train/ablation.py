"""Ablation: each modelling choice measured on both evaluations, grouped cross-validation and transfer.

``python -m train.ablation [--output model]`` (``make ablation``) fits every variant of :data:`VARIANTS` the way
``make train`` fits the model - out-of-fold leave-supplement-out and leave-one-genre-out, thresholds chosen out of
fold, a final fit on the whole corpus scored zero-shot on the external sets, and its featurization cost per
sentence on one core - and writes ``ablation.json`` beside the model, which the model card shows. A change that
raises cross-validation and lowers transfer is a regression.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from overclaim.loader import LoadedModel
from train import corpus, transfer
from train.evaluate import CLAIMS, choose_thresholds, groups_of, metrics, original_rows, out_of_fold
from train.model import BLAS_THREADS, PARAMS, TARGETS, build_pipeline, serving_meta

ABLATION = "ablation.json"
# name -> (what changes, parameter overrides of train.model.PARAMS, rows trained and cross-validated on).
# The cue features stay in every variant: the reason codes and the citation rules read them.
VARIANTS = {
    "shipped": ("the shipped configuration", {}, "all"),
    "original_rows": ("trained only on the rows that existed before the human-voice rows", {}, "original"),
    "no_chars": ("without character n-grams", {"char_ngrams": None}, "all"),
    "no_scopes": ("cues without negation and attribution scopes", {"cue_scopes": False}, "all"),
    "cue_scale_2": ("cue features weighted x2", {"cue_scale": 2.0}, "all"),
    "C_4": ("C = 4 (stronger regularization)", {"C": 4.0}, "all"),
}


def featurization_cost(pipeline, texts) -> float:
    """Microseconds per sentence of masking and featurization with a fitted pipeline, best of 3, on one core."""
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            pipeline.named_steps["features"].transform(pipeline.named_steps["mask"].transform(texts))
            best = min(best, time.perf_counter() - start)
    finally:
        os.sched_setaffinity(0, cores)
    return best / len(texts) * 1e6


def run_variant(frame, params: dict, log=print) -> dict:
    """Both evaluations of one parameter set: CV figures under both groupings and the transfer report."""
    started = time.perf_counter()
    oof = out_of_fold(frame, params, baselines=False)["model"]
    by_genre = out_of_fold(frame, params, by="genre", baselines=False)["model"]
    is_over = (frame["claim"] == "overclaim").to_numpy().astype(int)
    thresholds = choose_thresholds(is_over, oof["claim"][:, CLAIMS.index("overclaim")])
    pipeline = build_pipeline(groups_of(frame), params).fit(frame["text"].to_numpy(), frame[list(TARGETS)].to_numpy())
    meta = {**serving_meta(pipeline, thresholds), "model_version": "ablation", "sha256": ""}
    result = transfer.report(LoadedModel(pipeline=pipeline, meta=meta, path=Path(".")), frame, baselines=False)
    out = {"supplement": metrics(frame, oof), "genre": metrics(frame, by_genre),
           "transfer": result["systems"]["model"] if result else None,
           "featurization_us": featurization_cost(pipeline, frame["text"].tolist()),
           "seconds": time.perf_counter() - started}
    log(f"  {time.perf_counter() - started:.0f} s")
    return out


COLUMNS = (
    ("claim F1, by supplement", lambda r: r["supplement"]["claim"]["macro_f1"]),
    ("overclaim AUC, by supplement", lambda r: r["supplement"]["overclaim_vs_rest"]["roc_auc"]),
    ("claim F1, by genre", lambda r: r["genre"]["claim"]["macro_f1"]),
    ("overclaim AUC, by genre", lambda r: r["genre"]["overclaim_vs_rest"]["roc_auc"]),
    ("hedging AUC, by genre", lambda r: r["genre"]["hedging_vs_rest"]["roc_auc"]),
    ("disease type AUC, by supplement", lambda r: r["supplement"]["claim_types"]["disease"]["roc_auc"]),
    ("pubmed causal AUC", lambda r: r["transfer"]["pubmed_causal_auc"]),
    ("factbank hedging AUC", lambda r: r["transfer"]["factbank_hedging_auc"]),
    ("supplement_dev AUC", lambda r: r["transfer"]["supplement_strict_auc"]),
    ("claims blocked", lambda r: r["transfer"]["claims_block_share"]),
    ("fact sheets reviewed", lambda r: r["transfer"]["factsheet_review_share"]),
    ("featurization us/sentence", lambda r: r["featurization_us"]),
)


def table(results: dict) -> str:
    """The ablation as a Markdown table, one row per variant, in the order of :data:`VARIANTS`."""
    lines = ["| variant | " + " | ".join(name for name, _ in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name in (name for name in VARIANTS if name in results):
        row, cells = results[name], []
        for column, get in COLUMNS:
            try:
                value = get(row)
            except (KeyError, TypeError):
                cells.append("-")
                continue
            shown = f"{value:.0%}" if column.startswith(("claims", "fact sheets")) else f"{value:.3f}"
            cells.append(f"{value:.0f}" if column.startswith("featurization") else shown)
        lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.ablation", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("model"), help="model directory to write ablation.json into")
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS), help="run only these variants")
    args = parser.parse_args(argv)
    frame = corpus.validate()
    results = {}
    for name, (label, overrides, rows) in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        print(f"{name}: {label}", flush=True)
        subset = frame[original_rows(frame)] if rows == "original" else frame
        with threadpool_limits(BLAS_THREADS):
            results[name] = {"label": label, "params": overrides, "rows": int(len(subset)),
                             **run_variant(subset, {**PARAMS, **overrides})}
    print(table(results))
    (args.output / ABLATION).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
