"""Reason codes are stated once, in overclaim.reasons; the scorer, check and the README read them from there."""
from pathlib import Path

from overclaim.reasons import CODES, NAMES, REASONS, markdown_table

ROOT = Path(__file__).resolve().parent.parent

# One sentence per reason, each giving it with the bundled model.
GIVES = {
    "disease_claim": "Turmeric cures arthritis.",
    "drug_substitute": "Kratom works better than opioids for pain.",
    "absolute_safety": "It is completely safe with no side effects.",
    "establishment_claim": "Clinically proven and guaranteed to melt fat.",
    "unhedged_efficacy": "Ashwagandha reduces stress.",
    "claim_language": "Experience the power of nature today.",
    "unverifiable_citation": "A 2019 study in the Journal of Herbal Science confirmed this.",
    "vague_evidence": "Studies show that it works.",
}


def test_the_readme_reason_table_is_generated_from_the_definitions():
    """Regression: the reason codes were written out in four places (scorer, check, page, README)."""
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_codes_are_distinct_and_numbered_by_kind():
    assert len(set(CODES.values())) == len(NAMES) == len(REASONS)
    assert all(r.code.startswith({"claim": "OC1", "citation": "OC2"}[r.kind]) for r in REASONS)


def test_every_reason_the_scorer_gives_is_defined(scorer):
    given = {reason for result in scorer.score_many(GIVES.values()) for reason in result.reasons}
    assert given <= set(NAMES)
    for name, text in GIVES.items():
        assert name in scorer.score(text).reasons, (name, text)
