"""Rule-based citation extraction, and how the rules combine with the model's citation head.

Who decides what:
- the rules find evidence cues: DOIs, PMIDs, URLs, author-year references, volume/page numbers, journal and
  institution names, named experts, and appeals to unnamed evidence ("studies show");
- a sentence with no cue at all is ``none``: the rules decide, whatever the model says;
- a sentence with a DOI, PMID or URL and no appeal to other evidence is ``verifiable``: the rules decide;
- every other sentence with a cue is decided by the model's citation head, which sees the same cues as features
  beside the words (is "Smith et al. (2019)" with a journal and pages checkable, or only a name and a year?).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from overclaim.masking import _trie_pattern, mask_products

# Matched against the lower-cased text (faster than re.IGNORECASE), except where ORIGINAL_CASE says otherwise.
CUE_PATTERNS: dict[str, re.Pattern] = {
    "doi": re.compile(r"\b(?:doi:?\s*|https?://(?:dx\.)?doi\.org/)?\d\d\.\d{4,9}/[^\s,;)\]]+"),
    "pmid": re.compile(r"\b(?:pmid|pmcid|pubmed id)\b:?\s*(?:pmc)?\d{5,9}"),
    "url": re.compile(r"\bhttps?://[^\s)\]]+|\bwww\.[^\s)\]]+|\b[\w-]+(?:\.[\w-]+)*\.(?:gov|org|edu)/[^\s)\]]*"),
    "clinical_trial": re.compile(r"\bNCT\d{8}\b"),
    "author_year": re.compile(
        r"\b[A-Z][a-z'-]+ (?:et al\.?|and [A-Z][a-z'-]+|& [A-Z][a-z'-]+),? \(?\d{4}\)?"
        r"|\([A-Z][a-z'-]+(?: et al\.?)?,? \d{4}\)"
    ),
    "volume_pages": re.compile(r"\b\d{4};\s?\d+(?:\(\d+\))?:\s?e?\d+|\b\d+\(\d+\):\s?e?\d+|\bvol\.? \d+"),
    "journal": re.compile(
        r"\b(?:journal of|published in|the lancet|lancet|jama|bmj|nutrients|plos one|frontiers in|phytomedicine|"
        r"cochrane|new england journal|annals of|american journal|british journal|international journal|"
        r"european journal|clinical nutrition|j\. ?[a-z]+\.?)\b"),
    "institution": re.compile(
        r"\b(?:university|institute|college|clinic\b|hospital|harvard|stanford|mayo|yale|oxford|cambridge|"
        r"johns hopkins|national institutes? of|world health organization|laboratory|school of medicine|"
        r"medical center|researchers at|scientists at|dr\.? [a-z]+|professor [a-z]|according to [a-z])"),
    "vague": re.compile(
        r"\b(?:studies|study|research|researchers|scientists?|experts?|evidence|trials?|science|scientific|"
        r"doctors|physicians|reports?|reported|review|meta-analysis|findings|literature|users report|"
        r"customers (?:say|report)|thousands of (?:people|users|customers)|clinically)\b"),
}
ORIGINAL_CASE = frozenset({"clinical_trial", "author_year"})
# A pattern is only tried when one of these strings occurs in the lower-cased text.
PREFILTER = {"doi": ("/",), "pmid": ("pm",), "url": ("/", "www."), "clinical_trial": ("nct",),
             "volume_pages": ("(", ";", "vol")}
# Weaker hints of evidence: never decisive, but enough to let the model decide rather than the rules.
EVIDENCE_HINTS = frozenset(
    """data pilot survey surveys analysis analyses mice rats animal animals lab dishes cells tested testing found
    shown showed suggest suggests linked associated say says said according cited citing noted estimate estimates
    guideline guidelines proven confirmed backed doctor doctors doc docs pharmacist pharmacists nutritionist
    nutritionists dietitian dietitians specialist specialists professional professionals authorities officials
    agency fda ftc ema efsa nccih ods consumer feedback review reviews customers users patients participants
    volunteers""".split()
)
# A word is a run of [a-z0-9'-] from its first letter or digit; a hint is such a word that is in EVIDENCE_HINTS,
# ends like "ologist" or "ician", or is four digits (a year). One regex finds them, rather than Python per word.
_HINT = re.compile(r"(?<![a-z0-9'-])['-]*(" + _trie_pattern(EVIDENCE_HINTS)
                   + r"|[0-9]{4}|(?=[a-z0-9])[a-z0-9'-]*(?:ologists?|icians?))(?![a-z0-9'-])")
CHECKABLE = ("doi", "pmid", "url", "clinical_trial")


@dataclass(frozen=True)
class CitationCue:
    """One evidence cue found in a text: its kind and character offsets."""

    kind: str
    start: int
    end: int


def find_cues(text: str) -> list[CitationCue]:
    """Every evidence cue in ``text``, in order of position.

    Examples
    --------
    >>> [c.kind for c in find_cues("See doi:10.1016/j.jep.2020.112901 for details")]
    ['doi']
    """
    lower = text.lower()
    cues = [
        CitationCue(kind, m.start(), m.end())
        for kind, pattern in CUE_PATTERNS.items()
        if kind not in PREFILTER or any(marker in lower for marker in PREFILTER[kind])
        for m in pattern.finditer(text if kind in ORIGINAL_CASE else lower)
    ]
    cues += [CitationCue("evidence_hint", m.start(1), m.end(1)) for m in _HINT.finditer(lower)]
    # A word inside a DOI or a URL ("j.jep", "nutrients") is part of the reference, not a cue of its own.
    if checkable := [(c.start, c.end) for c in cues if c.kind in CHECKABLE]:
        cues = [c for c in cues if c.kind in CHECKABLE or not any(s <= c.start < e for s, e in checkable)]
    return sorted(cues, key=lambda cue: (cue.start, cue.kind))


def decide(kinds) -> str | None:
    """The citation category when the rules alone decide it from the cue kinds found, else ``None``."""
    kinds = set(kinds)
    if not kinds:
        return "none"
    if kinds & set(CHECKABLE) and not kinds & {"vague", "institution"}:
        return "verifiable"
    return None


def rule_decision(text: str) -> str | None:
    """The citation category when the rules alone decide it, else ``None`` (the model decides).

    The rules read the text as the model does, with product names and digits masked.

    Examples
    --------
    >>> rule_decision("Take two capsules daily.")
    'none'
    >>> rule_decision("Results: https://pubmed.ncbi.nlm.nih.gov/31173473/")
    'verifiable'
    >>> rule_decision("Studies show it works.") is None
    True
    """
    return decide(cue.kind for cue in find_cues(mask_products(text)))


def combine_citation(texts, proba: np.ndarray, classes) -> np.ndarray:
    """Override the model's citation probabilities where :func:`rule_decision` decides."""
    combined = np.array(proba, dtype=float, copy=True)
    classes = list(classes)
    for i, text in enumerate(texts):
        decided = rule_decision(text)
        if decided is not None:
            combined[i] = 0.0
            combined[i, classes.index(decided)] = 1.0
    return combined
