"""Write ``MODEL_CARD.md`` and its plots from the training run's metadata and out-of-fold predictions."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402

from overclaim.features import CUES  # noqa: E402
from overclaim.policy import CLAIM_TYPES  # noqa: E402
from train import ablation, transfer  # noqa: E402
from train.ablation import ABLATION  # noqa: E402
from train.evaluate import CLAIMS  # noqa: E402

# The claim-types issue's target for every type, under both groupings.
TYPE_AUC_TARGET = 0.95

CARD = "MODEL_CARD.md"
CALIBRATION_PLOT = "calibration.png"
PR_PLOT = "precision_recall.png"
SYSTEMS = {"model": "overclaim model", "tfidf_lr": "baseline: word TF-IDF + LR", "keywords": "baseline: keyword list"}


def _reliability(ax, is_over, risk, label, bins=10):
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(risk, edges[1:-1]), 0, bins - 1)
    xs, ys = [], []
    for b in range(bins):
        mask = index == b
        if mask.sum() >= 5:
            xs.append(risk[mask].mean())
            ys.append(is_over[mask].mean())
    ax.plot(xs, ys, marker="o", label=label)


def plot(output: Path, oof: dict, is_over: np.ndarray, thresholds: dict) -> None:
    """Reliability diagram and precision-recall curve of overclaim-vs-rest, model against baselines."""
    column = CLAIMS.index("overclaim")
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect calibration")
    for name, label in SYSTEMS.items():
        _reliability(ax, is_over, oof[name]["claim"][:, column], label)
    ax.set(xlabel="predicted risk (out of fold)", ylabel="observed share of overclaims",
           title="Calibration, grouped CV")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(output / CALIBRATION_PLOT, dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    for name, label in SYSTEMS.items():
        precision, recall, _ = precision_recall_curve(is_over, oof[name]["claim"][:, column])
        ax.plot(recall, precision, label=label)
    risk = oof["model"]["claim"][:, column]
    for cut, marker in (("review", "s"), ("block", "^")):
        chosen = risk >= thresholds[cut]
        ax.plot(is_over[chosen].sum() / is_over.sum(), is_over[chosen].mean(), marker=marker, color="black",
                linestyle="none", label=f"{cut} >= {thresholds[cut]:.2f}")
    ax.set(xlabel="recall", ylabel="precision", title="Overclaim vs rest, grouped CV", ylim=(0, 1.02))
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(output / PR_PLOT, dpi=80)
    plt.close(fig)


def _table(meta: dict) -> str:
    m = meta["metrics"]
    rows = [
        ("overclaim vs rest ROC-AUC", lambda s: s["overclaim_vs_rest"]["roc_auc"], ">= 0.95"),
        ("claim macro-F1", lambda s: s["claim"]["macro_f1"], ">= 0.85"),
        ("citation macro-F1", lambda s: s["citation"]["macro_f1"], ">= 0.90"),
        ("overclaim Brier score (lower is better)", lambda s: s["overclaim_vs_rest"]["brier"], ""),
        ("overclaim ECE (lower is better)", lambda s: s["overclaim_vs_rest"]["ece"], "<= 0.05"),
        ("hedging ROC-AUC (tentative vs certain)", lambda s: s["hedging_vs_rest"]["roc_auc"], ""),
        ("hedging ECE (lower is better)", lambda s: s["hedging_vs_rest"]["ece"], "<= 0.05"),
    ]
    for target in ("claim", "citation", "hedging"):
        for c in meta["labels"][target]:
            for k in ("precision", "recall", "f1"):
                rows.append((f"{target} {c} {k}", lambda s, t=target, c=c, k=k: s[t]["per_class"][c][k], ""))
    lines = ["| metric | " + " | ".join(SYSTEMS.values()) + " | target |", "|---" * (len(SYSTEMS) + 2) + "|"]
    for name, get, target in rows:
        lines.append(f"| {name} | " + " | ".join(f"{get(m[s]):.3f}" for s in SYSTEMS) + f" | {target} |")
    return "\n".join(lines)


GROUPINGS = (
    ("leave-supplement-out, all rows", "metrics"),
    ("leave-supplement-out, the rows that existed before the human-voice rows", "metrics_original_rows"),
    ("leave-one-genre-out, all rows", "metrics_leave_genre_out"),
)
HEADLINE = (
    ("claim macro-F1", lambda s: s["claim"]["macro_f1"], ">= 0.919"),
    ("overclaim ROC-AUC", lambda s: s["overclaim_vs_rest"]["roc_auc"], ">= 0.979"),
    ("citation macro-F1", lambda s: s["citation"]["macro_f1"], ">= 0.902"),
    ("overclaim ECE", lambda s: s["overclaim_vs_rest"]["ece"], "<= 0.05"),
    ("hedging ROC-AUC", lambda s: s["hedging_vs_rest"]["roc_auc"], ""),
)


def _groupings(meta: dict) -> str:
    """The model's headline figures under both groupings, beside the targets set on the original rows."""
    lines = ["| | " + " | ".join(name for name, _ in GROUPINGS) + " | target (original rows) |",
             "|---" * (len(GROUPINGS) + 2) + "|"]
    for label, get, target in HEADLINE:
        cells = []
        for _, key in GROUPINGS:
            scores = meta[key]["model"] if "model" in meta[key] else meta[key]
            cells.append(f"{get(scores):.3f}")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


def _each_genre(meta: dict, frame) -> str:
    """Leave-one-genre-out, per held-out genre: how the model does on a register it was not trained on."""
    counts = frame["genre"].value_counts()
    lines = ["| held-out genre | rows | claim macro-F1 | overclaim ROC-AUC | hedging ROC-AUC |", "|---|---|---|---|---|"]
    for genre, m in sorted(meta["metrics_each_held_out_genre"].items(), key=lambda item: -counts[item[0]]):
        lines.append(f"| {genre} | {counts[genre]} | {m['claim']['macro_f1']:.3f} | "
                     f"{m['overclaim_vs_rest']['roc_auc']:.3f} | {m['hedging_vs_rest']['roc_auc']:.3f} |")
    return "\n".join(lines)


def _claim_types(meta: dict) -> str:
    """Per claim type: precision, recall and F1 at probability 0.5, and ROC-AUC, under both groupings."""
    lines = ["| claim type | rows | LSO precision | LSO recall | LSO ROC-AUC | LGO precision | LGO recall | LGO ROC-AUC "
             "| target (ROC-AUC) |", "|---" * 9 + "|"]
    for claim_type, lso in meta["metrics"]["model"]["claim_types"].items():
        lgo = meta["metrics_leave_genre_out"]["claim_types"][claim_type]
        met = "met" if min(lso["roc_auc"], lgo["roc_auc"]) >= TYPE_AUC_TARGET else "**missed**"
        lines.append(f"| {claim_type} | {lso['support']} | {lso['precision']:.3f} | {lso['recall']:.3f} | "
                     f"{lso['roc_auc']:.3f} | {lgo['precision']:.3f} | {lgo['recall']:.3f} | {lgo['roc_auc']:.3f} | "
                     f">= {TYPE_AUC_TARGET}: {met} |")
    agreement = meta["claim_type_agreement"]
    rows = next(iter(agreement.values()))["rows"]
    lines += ["", f"How far people agree (a blind second annotation of {rows} random rows, "
                  "`data/claim_types_audit.csv`): " + ", ".join(
                      f"{t} {a['agreement']:.1%} (kappa {a['kappa']:.2f})" for t, a in agreement.items()) + "."]
    return "\n".join(lines)


def _policies_on_corpus(meta: dict) -> str:
    """Each shipped policy's decisions on the corpus (out of fold), by the rows' labels: % allow / review / block."""
    tables = meta["policy_tables"]
    groups = list(next(iter(tables.values())))
    lines = ["| rows | " + " | ".join(tables) + " |", "|---" * (len(tables) + 1) + "|"]
    for group in groups:
        rows = next(iter(tables.values()))[group]["rows"]
        cells = [f"{t[group]['allow']:.0%} / {t[group]['review']:.0%} / {t[group]['block']:.0%}" for t in tables.values()]
        lines.append(f"| {group} ({rows}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _policies_on_external(meta: dict) -> str:
    if not meta.get("transfer"):
        return "The external development sets were not present when this model was trained."
    return transfer.policy_table(meta["transfer"])


def _transfer(meta: dict) -> str:
    if not meta.get("transfer"):
        return ("The external development sets were not present when this model was trained, so there is no transfer "
                "report; run `make transfer` where they are.")
    return transfer.table(meta["transfer"])


def _ablation(output: Path) -> str:
    path = output / ABLATION
    if not path.is_file():
        return "No ablation was run for this model (`make ablation` writes it)."
    return ablation.table(json.loads(path.read_text(encoding="utf-8")))


def write(output: Path, meta: dict, frame, oof: dict, is_over: np.ndarray) -> None:
    """Write the plots and the model card into ``output``."""
    plot(output, oof, is_over, meta["thresholds"])
    t, check, aim = meta["thresholds"], meta["threshold_check"], meta["threshold_targets"]
    written = frame[frame["source"] == "written"]
    text = f"""# Model card: overclaim {meta['model_version']}

Generated by `python -m train --output {output.name}/`; do not edit by hand.

## What it does
Scores each sentence of health-supplement text for overclaiming: a calibrated probability that the sentence is an
`overclaim` (against `hedged` and `neutral`, as defined in `data/ANNOTATION.md`), a calibrated probability that
its wording is tentative (`hedging`, whatever it claims), the probability of each claim type (`disease`,
`structure_function`, `safety`, `substantiation`), and a citation category (`none`, `vague`, `unverifiable`,
`verifiable`). A document's risk is its riskiest sentence's; its decision comes from a policy (`default`: risk
against the thresholds below).

**Intended use**: triage by trust-and-safety teams, ad reviewers, marketplaces and health publishers - a
decision to allow, send to human review or block, with the reasons and words behind it.
**Not for**: judging whether a claim is medically true, medical advice, automatic enforcement without human
review of `block` decisions, text that is not in English, or text that is not about supplements and health.

## Model
One scikit-learn `Pipeline` (scikit-learn {meta['sklearn_version']}): product-name masking (every supplement,
product and brand name becomes `SUPPLEMENT`, every digit `0`), then word {tuple(meta['params']['word_ngrams'])}
and character {tuple(meta['params']['char_ngrams'])} TF-IDF n-grams and {len(CUES)} linguistic cue counts
 (hedges, boosters, absolute-safety phrases, disease and drug-class terms, citation patterns) feeding
seven logistic regressions (C={meta['params']['C']}), one per label axis and claim type, each calibrated by temperature scaling
on grouped out-of-fold predictions. Citation: rules decide `none` (no evidence cue) and `verifiable` (a DOI,
PMID or URL with no other appeal); the model decides the rest.

## Data
`data/corpus.csv`: {len(frame)} sentences (sha256 `{meta['corpus_sha256'][:16]}...`): {len(frame) - len(written)}
from five kratom SEO articles (`data/raw/`) and {len(written)} written for the corpus, sentence by sentence, about
{written.loc[written['supplement'] != 'general', 'supplement'].nunique()} supplements, products, foods, drugs and
interventions (and general news, for the `hedging` axis) in {written['genre'].nunique()} genres.
Claim labels: {', '.join(f'{k} {v}' for k, v in frame['claim'].value_counts().items())}.
Citation labels: {', '.join(f'{k} {v}' for k, v in frame['citation'].value_counts().items())}.
Hedging labels: {(frame['hedging'] == '1').sum()} tentative, {(frame['hedging'] == '0').sum()} certain.
Claim types: {', '.join(f"{t} {(frame[t] == '1').sum()}" for t in CLAIM_TYPES)}, none {(frame['claim_types'] == '').sum()}.
Genres: {', '.join(f'{k} {v}' for k, v in frame['genre'].value_counts().items())}.

## Evaluation on text we did not write: the transfer report
Zero-shot on public, human-labeled development sets (`../shared/external/`, evaluation only: never trained on),
by `make transfer` (`python -m train.transfer`), which `make train` runs too:

{_transfer(meta)}

## Evaluation by grouped cross-validation
{meta['evaluation']}. Leave-one-genre-out holds out each genre in turn (a register the model has not seen).
The model's headline figures under each grouping (trained on the whole corpus, out of fold):

{_groupings(meta)}

Leave-one-genre-out, each genre when it was held out:

{_each_genre(meta, frame)}

Leave-supplement-out, all three systems on the same folds in the same run:

{_table(meta)}

![calibration]({CALIBRATION_PLOT}) ![precision-recall]({PR_PLOT})

## Claim types
Four more heads give, per sentence, the probability that it makes a `disease`, `structure_function`, `safety` or
`substantiation` claim (Axis 4 of `data/ANNOTATION.md`); a sentence carries a type at probability >= 0.5. Out of
fold, leave-supplement-out (LSO) and leave-one-genre-out (LGO):

{_claim_types(meta)}

## Policies
A decision is a policy applied to the scores (`overclaim/policies/*.toml`). Each shipped policy on the corpus,
out of fold, each row scored as one text (allow / review / block):

{_policies_on_corpus(meta)}

On real text, `supplement_dev.csv` of the external sets (share reviewed, i.e. review or block / share blocked):

{_policies_on_external(meta)}

## Ablation
Each choice, measured on both evaluations (`make ablation`, `python -m train.ablation`):

{_ablation(output)}

## Thresholds
Chosen on the out-of-fold risks: **block** at risk >= {t['block']} (the lowest cut with >=
{aim['block_precision']:.0%} overclaim precision: {check['block_precision']:.1%} precision,
{check['block_recall']:.1%} recall out of fold) and **review** at risk >= {t['review']} (the highest cut that
still catches >= {aim['review_recall']:.0%} of overclaims:
{check['review_recall']:.1%} recall, {check['review_share']:.1%} of sentences sent to review or block).

## Limitations
- The corpus was written for this project, in many registers and voices but by few hands; real text has styles
  it has not seen. Cross-validation is optimistic about new writers and genres: the transfer report above, on
  text nobody on this project wrote, is the better guide, and it falls short of its targets.
- The guideline and real annotation schemes differ on purpose in places: a negated effect ("did not improve")
  and a harm stated causally are `neutral` here, and "suggests that X reduces Y" is `hedged`, while the
  press-release annotation counts all three as direct causal claims; a regulator counts hedged or
  traditional-use disease claims as unlawful, which the guideline calls `hedged`.
- The model reads one sentence at a time: a hedge in one sentence does not soften a claim in the next.
- It judges wording, not truth: a well-supported claim stated flatly scores as an overclaim, and a false claim
  wrapped in hedges scores as hedged.
- English only. Product names it does not know are not masked and may carry topic signal.
- Citation categories say whether a reference *can* be checked, not whether it exists or supports the claim.
"""
    (output / CARD).write_text(text, encoding="utf-8")
