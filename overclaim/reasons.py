"""The reason codes: each stated once here, read by the scorer, ``overclaim check``, the web page and the README.

A claim reason is given for a sentence at or above the review threshold; a citation reason for every sentence.
``code`` is the stable identifier ``overclaim check`` prints (1xx claims, 2xx citations).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """One reason code: its name in records, its check code, what it means, and what a moderator should look at."""

    name: str
    code: str
    kind: str  # "claim" or "citation"
    meaning: str
    moderator: str


REASONS = (
    Reason("disease_claim", "OC101", "claim",
           "a risky sentence names a disease or symptom with a treat/cure verb or a drug-class word",
           "Claims to treat, cure or prevent a disease"),
    Reason("drug_substitute", "OC102", "claim",
           "compares the product to, or offers it instead of, a drug or medication",
           "Offered as a substitute for a medicine"),
    Reason("absolute_safety", "OC103", "claim",
           '"no side effects", "completely safe", "non-addictive" and the like',
           "Promises that it is safe for everyone"),
    Reason("establishment_claim", "OC104", "claim",
           'boosters and authority: "proven", "guaranteed", "clinically proven", "doctors agree"',
           "Says it is proven or endorsed by experts"),
    Reason("unhedged_efficacy", "OC105", "claim",
           "an efficacy claim with no hedge, evidence limit or scope limit",
           "States a health effect as certain"),
    Reason("claim_language", "OC106", "claim",
           "the model finds the wording risky though none of the cues above is present",
           "Wording the model finds risky (no specific pattern)"),
    Reason("unverifiable_citation", "OC201", "citation",
           "cites a specific-looking source that cannot be checked",
           "Cites a source that cannot be checked"),
    Reason("vague_evidence", "OC202", "citation",
           "appeals to unnamed evidence or authority",
           'Appeals to unnamed evidence ("studies show")'),
)
NAMES = tuple(reason.name for reason in REASONS)
CLAIM_REASONS = frozenset(reason.name for reason in REASONS if reason.kind == "claim")
CODES = {reason.name: reason.code for reason in REASONS}


def markdown_table() -> str:
    """The README's table of reason codes."""
    rows = [f"| `{r.code}` | `{r.name}` | {r.meaning} |" for r in REASONS]
    return "\n".join(["| check code | reason | meaning |", "|---|---|---|", *rows])
