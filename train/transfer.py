"""Transfer report: score public, human-labeled text that nobody on this project wrote, zero-shot.

``python -m train.transfer [--model DIR] [--external DIR]`` (``make transfer``; ``make train`` runs it too and writes
it into ``meta.json`` under ``transfer`` and into the model card) scores the development sets of
``../shared/external/`` (see its README) with a trained model, beside the keyword baseline and a plain word
TF-IDF + LR fitted on the corpus, in the same run. These sets are for evaluation only: nothing here trains on
them. Where the directory is absent (a user's machine) it says so in one line and does nothing else.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from overclaim.loader import LoadedModel, load_model
from overclaim.policy import shipped_policies
from overclaim.scorer import Scorer
from train import corpus
from train.evaluate import CLAIMS, keyword_baseline, plain_baseline
from train.model import RISK_LABEL, TENTATIVE

EXTERNAL = Path(os.environ.get("OVERCLAIM_EXTERNAL", corpus.ROOT.parent / "shared" / "external"))
SETS = {"pubmed_causal": "pubmed_causal.csv", "factbank_uncertainty": "factbank_uncertainty.csv",
        "supplement_dev": "supplement_dev.csv"}
SYSTEMS = {"model": "overclaim model", "tfidf_lr": "baseline: word TF-IDF + LR", "keywords": "baseline: keyword list"}
# The targets; each figure is reported beside its target, met or missed.
GOALS = {
    "pubmed_causal_auc": (">=", 0.90),
    "factbank_hedging_auc": (">=", 0.92),
    "supplement_strict_auc": (">=", 0.97),
    "claims_review_share": (">=", 0.95),
    "claims_block_share": (">=", 0.80),
    "factsheet_review_share": ("<=", 0.10),
    "factsheet_block_share": ("<=", 0.01),
}
# The claim-types issue's targets for the us-dshea policy: regulator-cited claims (strict and hedged wording)
# blocked, fact-sheet sentences not.
POLICY_GOALS = {("us-dshea", "regulator_cited", "block"): (">=", 0.90),
                ("us-dshea", "factsheet", "block"): ("<=", 0.01)}
POLICY_GROUPS = {"regulator_cited": "regulator-cited claims (strict + hedged wording)",
                 "hedged_wording": "of which hedged wording", "factsheet": "fact-sheet sentences (strict)"}


def load_sets(directory: Path = EXTERNAL) -> dict[str, pd.DataFrame] | None:
    """The external sets by name, or ``None`` when the directory or any of its files is missing."""
    paths = {name: Path(directory) / file for name, file in SETS.items()}
    if not all(p.is_file() for p in paths.values()):
        return None
    return {name: pd.read_csv(p, dtype={"text": str}, keep_default_na=False) for name, p in paths.items()}


def model_system(scorer: Scorer):
    """Text -> (risk, hedging) with the served scorer: a text's hedging is its most tentative sentence's."""
    def score(texts):
        results = scorer.score_many(list(texts))
        risk = np.array([r.risk for r in results])
        hedging = np.array([max((s["hedging"] for s in r.sentences), default=0.0) for r in results])
        return risk, hedging
    return score


def tfidf_lr_system(frame: pd.DataFrame):
    """Plain word TF-IDF + LR fitted on the whole corpus: one model for claim, one for hedging."""
    claim = plain_baseline().fit(frame["text"], frame["claim"])
    hedging = plain_baseline().fit(frame["text"], frame["hedging"])
    over = list(claim.classes_).index(RISK_LABEL)
    tentative = list(hedging.classes_).index(TENTATIVE)

    def score(texts):
        texts = list(texts)
        return claim.predict_proba(texts)[:, over], hedging.predict_proba(texts)[:, tentative]
    return score


def keyword_system(texts):
    """The keyword lists of :func:`train.evaluate.keyword_baseline`: risk and hedging from word matches."""
    proba = keyword_baseline(list(texts))["claim"]
    return proba[:, CLAIMS.index("overclaim")], proba[:, CLAIMS.index("hedged")]


def _shares(risk: np.ndarray, thresholds: dict) -> dict[str, float]:
    return {"review": float((risk >= thresholds["review"]).mean()) if len(risk) else 0.0,
            "block": float((risk >= thresholds["block"]).mean()) if len(risk) else 0.0,
            "rows": int(len(risk))}


def evaluate_system(score, sets: dict[str, pd.DataFrame], thresholds: dict) -> dict:
    """Every figure of the report for one system (a function texts -> (risk, hedging))."""
    pubmed = sets["pubmed_causal"]
    pubmed = pubmed[pubmed["label"].isin([1, 2, 3])]
    risk, _ = score(pubmed["text"])
    causal = (pubmed["label"] == 3).to_numpy()
    out = {"pubmed_causal_auc": float(roc_auc_score(causal, risk)),
           "pubmed_causal_spearman": float(spearmanr(pubmed["label"], risk).statistic)}

    factbank = sets["factbank_uncertainty"]
    _, hedging = score(factbank["text"])
    out["factbank_hedging_auc"] = float(roc_auc_score(factbank["uncertain"], hedging))

    dev = sets["supplement_dev"]
    risk, hedging = score(dev["text"])
    strict = (dev["kind"] == "strict").to_numpy()
    claims = (dev["label"] == "overclaim").to_numpy()
    out["supplement_strict_auc"] = float(roc_auc_score(claims[strict], risk[strict]))
    for name, rows in (("claims", strict & claims), ("factsheet", strict & ~claims),
                       ("factsheet_hedged", strict & (dev["label"] == "hedged").to_numpy()),
                       ("factsheet_neutral", strict & (dev["label"] == "neutral").to_numpy()),
                       ("hedged_wording", (dev["kind"] == "hedged_wording").to_numpy()),
                       ("testimonial", (dev["kind"] == "testimonial").to_numpy())):
        shares = _shares(risk[rows], thresholds)
        out[f"{name}_review_share"], out[f"{name}_block_share"], out[f"{name}_rows"] = (
            shares["review"], shares["block"], shares["rows"])
    return out


def policy_shares(model: LoadedModel, sets: dict[str, pd.DataFrame]) -> dict:
    """For each shipped policy, the share of supplement_dev's regulator-cited claims and fact-sheet sentences that
    it reviews (review or block) and blocks."""
    dev = sets["supplement_dev"]
    strict, hedged = (dev["kind"] == "strict").to_numpy(), (dev["kind"] == "hedged_wording").to_numpy()
    claims = (dev["label"] == "overclaim").to_numpy()
    groups = {"regulator_cited": claims & (strict | hedged), "hedged_wording": hedged, "factsheet": strict & ~claims}
    out, scorer = {}, Scorer(model)
    for name in shipped_policies():
        decided = np.array([r.decision for r in scorer.score_many(list(dev["text"]), policy=name)])
        out[name] = {group: {"review": float(np.isin(decided[rows], ("review", "block")).mean()),
                             "block": float((decided[rows] == "block").mean()), "rows": int(rows.sum())}
                     for group, rows in groups.items()}
    return out


def report(model: LoadedModel, frame: pd.DataFrame, external: Path = EXTERNAL, baselines: bool = True) -> dict | None:
    """The transfer report of ``model`` (and, with ``baselines``, of the baselines fitted on the corpus ``frame``),
    or ``None`` when the external sets are absent. Returns ``{"thresholds": ..., "systems": {name: figures},
    "policies": {policy: {group: shares}}}``."""
    sets = load_sets(external)
    if sets is None:
        return None
    systems = {"model": model_system(Scorer(model))}
    if baselines:
        systems.update(tfidf_lr=tfidf_lr_system(frame), keywords=keyword_system)
    return {"thresholds": dict(model.thresholds),
            "systems": {name: evaluate_system(score, sets, model.thresholds) for name, score in systems.items()},
            "policies": policy_shares(model, sets)}


ROWS = (
    ("pubmed_causal: risk AUC, direct causal vs correlational/conditional", "pubmed_causal_auc"),
    ("pubmed_causal: Spearman of risk with strength 1-3", "pubmed_causal_spearman"),
    ("factbank_uncertainty: hedging AUC, uncertain vs certain", "factbank_hedging_auc"),
    ("supplement_dev strict: risk AUC, regulator-cited claims vs fact sheets", "supplement_strict_auc"),
    ("claims reaching review", "claims_review_share"),
    ("claims reaching block", "claims_block_share"),
    ("fact-sheet sentences reaching review", "factsheet_review_share"),
    ("fact-sheet sentences reaching block", "factsheet_block_share"),
    ("  of which hedged sentences reaching review / block", ("factsheet_hedged_review_share", "factsheet_hedged_block_share")),
    ("  of which neutral sentences reaching review / block", ("factsheet_neutral_review_share", "factsheet_neutral_block_share")),
    ("hedged_wording claims (reported apart) reaching review / block", ("hedged_wording_review_share", "hedged_wording_block_share")),
    ("testimonial claims (reported apart) reaching review / block", ("testimonial_review_share", "testimonial_block_share")),
)


def _cell(figures: dict, key) -> str:
    if isinstance(key, tuple):
        return " / ".join(f"{figures[k]:.0%}" for k in key)
    value = figures[key]
    return f"{value:.0%}" if key.endswith("_share") else f"{value:.3f}"


def _verdict(key, value: float) -> str:
    if key not in GOALS:
        return ""
    op, aim = GOALS[key]
    met = value >= aim if op == ">=" else value <= aim
    shown = f"{aim:.0%}" if key.endswith("_share") else f"{aim:.2f}"
    return f"{op} {shown}: " + ("met" if met else "**missed**")


def table(result: dict) -> str:
    """The report as a Markdown table, one column per system. Shares are at the model's own thresholds, which the
    baselines do not have, so their columns show AUCs only."""
    systems = result["systems"]
    lines = ["| real, human-labeled text (zero-shot) | " + " | ".join(SYSTEMS[s] for s in systems) + " | target |",
             "|---" * (len(systems) + 2) + "|"]
    for label, key in ROWS:
        shares = isinstance(key, tuple) or key.endswith("_share")
        cells = [_cell(figures, key) if name == "model" or not shares else "-" for name, figures in systems.items()]
        verdict = "" if isinstance(key, tuple) else _verdict(key, systems["model"][key])
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {verdict} |")
    t = result["thresholds"]
    lines += ["", f"Shares at the model's thresholds: review >= {t['review']}, block >= {t['block']}."]
    return "\n".join(lines)


def policy_table(result: dict) -> str:
    """Each shipped policy on supplement_dev: the share of each group reviewed (review or block) and blocked."""
    lines = ["| policy | " + " | ".join(f"{label}: reviewed / blocked" for label in POLICY_GROUPS.values()) + " | target |",
             "|---" * (len(POLICY_GROUPS) + 2) + "|"]
    for name, groups in result["policies"].items():
        cells = [f"{groups[g]['review']:.0%} / {groups[g]['block']:.0%}" for g in POLICY_GROUPS]
        verdicts = []
        for (policy, group, kind), (op, aim) in POLICY_GOALS.items():
            if policy == name:
                value = groups[group][kind]
                met = value >= aim if op == ">=" else value <= aim
                verdicts.append(f"{group} {kind} {op} {aim:.0%}: " + ("met" if met else "**missed**"))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {'; '.join(verdicts)} |")
    rows = next(iter(result["policies"].values()))
    lines += ["", "Rows: " + ", ".join(f"{label} {rows[g]['rows']}" for g, label in POLICY_GROUPS.items()) + "."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.transfer", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: the bundled model)")
    parser.add_argument("--external", type=Path, default=EXTERNAL, help=f"external sets (default: {EXTERNAL})")
    args = parser.parse_args(argv)
    result = report(load_model(args.model), corpus.load(), args.external)
    if result is None:
        print(f"transfer: no external development sets in {args.external}; skipped")
        return 0
    print(table(result))
    print()
    print(policy_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
