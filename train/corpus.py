"""Load ``data/corpus.csv`` and check every rule of ``data/ANNOTATION.md`` and of the corpus issue.

Each check returns a list of :class:`Violation` (rule, row id, what is wrong); :func:`validate` runs them all
and raises :class:`CorpusError` naming the rows and rules that broke.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from overclaim.lexicon import SUPPLEMENTS
from overclaim.policy import CLAIM_TYPES
from overclaim.masking import mask_products

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus.csv"
RAW_DIR = ROOT / "data" / "raw"
# A blind second annotation of the claim types of 400 random rows (``id``, ``claim_types``), for agreement.
TYPE_AUDIT = ROOT / "data" / "claim_types_audit.csv"

COLUMNS = ["id", "source", "start", "end", "text", "claim", "citation", "hedging", "claim_types", "supplement", "genre",
           "pair", "note"]
CLAIMS = ("overclaim", "hedged", "neutral")
CITATIONS = ("none", "vague", "unverifiable", "verifiable")
HEDGING = ("0", "1")
GENRES = ("seo_article", "product_listing", "social_post", "forum_answer", "press_release", "news", "review", "abstract",
          "reference", "label", "regulatory")
WRITTEN = "written"

MIN_WRITTEN_ROWS = 1500
MIN_SUPPLEMENTS = 30
MIN_GENRES = 5
MIN_CITATION_ROWS = 100
MIN_CLAIM_SHARE = 0.20
MAX_KRATOM_SHARE = 0.20
MAX_TEMPLATE_SHARE = 0.05
MIN_ROWS_FOR_LABEL_CHECK = 10

SEED_ID = re.compile(r"^s(\d{3})-(\d{5})$")
WRITTEN_ID = re.compile(r"^w\d{5}$")
KRATOM = re.compile("|".join(re.escape(a) for a in SUPPLEMENTS["kratom"]), re.IGNORECASE)


@dataclass(frozen=True)
class Violation:
    """One broken rule: which rule, which row (or ``-`` for the corpus as a whole), and what is wrong."""

    rule: str
    row: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: row {self.row}: {self.detail}"


class CorpusError(ValueError):
    """The corpus breaks one or more rules; the message lists them."""


def load(path: Path | str = CORPUS) -> pd.DataFrame:
    """Read the corpus with every column as text (empty cells as ``""``) and offsets as nullable integers, plus
    one ``"0"``/``"1"`` column per claim type (``disease``, ...) read from ``claim_types``: the types' targets."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for column in ("start", "end"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column].replace("", None), errors="coerce").astype("Int64")
    if "claim_types" in frame:
        carried = frame["claim_types"].str.split("|")
        for claim_type in CLAIM_TYPES:
            frame[claim_type] = carried.map(lambda types, t=claim_type: "1" if t in types else "0")
    return frame


def read_raw(raw_dir: Path | str = RAW_DIR) -> dict[str, str]:
    """The seed documents by file name, decoded exactly as stored."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(raw_dir).glob("*.txt"))}


def masked(text: str) -> str:
    """Text with every product name replaced and punctuation, digits and case folded: the shape of a sentence."""
    return " ".join(re.sub(r"[^a-z]+", " ", mask_products(text).lower()).split())


def check_schema(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """Columns, label sets, ids, non-empty text."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        return [Violation("schema", "-", f"missing columns {missing}; found {list(frame.columns)}")]
    out = []
    for row in frame.itertuples(index=False):
        if row.claim not in CLAIMS:
            out.append(Violation("claim label", row.id, f"{row.claim!r} is not one of {CLAIMS}"))
        if row.citation not in CITATIONS:
            out.append(Violation("citation label", row.id, f"{row.citation!r} is not one of {CITATIONS}"))
        if row.hedging not in HEDGING:
            out.append(Violation("hedging label", row.id, f"{row.hedging!r} is not one of {HEDGING}"))
        types = row.claim_types.split("|") if row.claim_types else []
        if types != [t for t in CLAIM_TYPES if t in types]:
            out.append(Violation("claim types", row.id, f"{row.claim_types!r} must be types of {CLAIM_TYPES}, in "
                                                        "that order, joined by '|'"))
        if row.genre not in GENRES:
            out.append(Violation("genre", row.id, f"{row.genre!r} is not one of {GENRES}"))
        if not row.text.strip() or row.text != row.text.strip():
            out.append(Violation("text", row.id, "empty, or white space around the text"))
        if not row.supplement or row.supplement != row.supplement.strip().lower():
            out.append(Violation("supplement", row.id, f"{row.supplement!r} must be a lower-case name or 'general'"))
        if row.source == WRITTEN and not WRITTEN_ID.match(row.id):
            out.append(Violation("stable id", row.id, "written rows are numbered w00001, w00002, ..."))
    for row_id, count in Counter(frame["id"]).items():
        if count > 1:
            out.append(Violation("stable id", row_id, f"id used {count} times"))
    return out


def check_seed_offsets(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """Every seed row points at its own text in the raw file, and its id is derived from file and offset."""
    out = []
    seeds = frame[frame["source"] != WRITTEN]
    for row in seeds.itertuples(index=False):
        if row.source not in raw:
            out.append(Violation("seed source", row.id, f"{row.source!r} is not a file in data/raw/"))
            continue
        if pd.isna(row.start) or pd.isna(row.end):
            out.append(Violation("offsets", row.id, "seed rows need start and end"))
            continue
        if raw[row.source][row.start : row.end] != row.text:
            out.append(Violation("offsets", row.id, f"raw[{row.start}:{row.end}] differs from the text"))
        expected = f"s{row.source[:3]}-{row.start:05d}"
        if row.id != expected:
            out.append(Violation("stable id", row.id, f"seed id must be {expected}"))
    written = frame[frame["source"] == WRITTEN]
    for row in written[written["start"].notna() | written["end"].notna()].itertuples(index=False):
        out.append(Violation("offsets", row.id, "written rows have no offsets"))
    return out


def check_seed_coverage(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """Every non-space character of every seed document is in exactly one row."""
    out = []
    for name, text in raw.items():
        rows = frame[frame["source"] == name].sort_values("start")
        covered = [0] * len(text)
        for row in rows.itertuples(index=False):
            if pd.isna(row.start) or pd.isna(row.end):
                continue
            for i in range(row.start, min(row.end, len(text))):
                covered[i] += 1
        doubled = [i for i, c in enumerate(covered) if c > 1]
        if doubled:
            out.append(Violation("seed coverage", name, f"characters from offset {doubled[0]} are in two rows"))
        gaps = [i for i, c in enumerate(covered) if c == 0 and not text[i].isspace()]
        if gaps:
            out.append(Violation("seed coverage", name, f"offset {gaps[0]} ({text[gaps[0]:gaps[0] + 40]!r}) is in no row"))
    return out


def check_duplicates(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """No text twice, except a seed sentence its document itself repeats, which must keep the same labels."""
    out = []
    for text, group in frame.groupby("text"):
        if len(group) == 1:
            continue
        repeated_in_raw = (group["source"] != WRITTEN).all() and group["source"].nunique() == 1
        if not repeated_in_raw:
            out.append(Violation("duplicate text", ",".join(group["id"]), f"{text[:60]!r} appears {len(group)} times"))
        elif group[["claim", "citation"]].drop_duplicates().shape[0] > 1:
            out.append(Violation("duplicate text", ",".join(group["id"]), "the same sentence has different labels"))
    return out


def check_written_extension(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """Size and coverage of the rows we wrote: rows, supplements, genres, citation categories."""
    out = []
    written = frame[frame["source"] == WRITTEN]
    if len(written) < MIN_WRITTEN_ROWS:
        out.append(Violation("written rows", "-", f"{len(written)} written rows, need {MIN_WRITTEN_ROWS}"))
    supplements = set(written["supplement"]) - {"general"}
    if len(supplements) < MIN_SUPPLEMENTS:
        out.append(Violation("supplements", "-", f"{len(supplements)} supplements, need {MIN_SUPPLEMENTS}"))
    if written["genre"].nunique() < MIN_GENRES:
        out.append(Violation("genres", "-", f"{written['genre'].nunique()} genres, need {MIN_GENRES}"))
    for citation in CITATIONS[1:]:
        count = int((frame["citation"] == citation).sum())
        if count < MIN_CITATION_ROWS:
            out.append(Violation("citation rows", "-", f"{count} {citation!r} rows, need {MIN_CITATION_ROWS}"))
    return out


def check_balance(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """Each claim class is at least 20% of the rows; rows about kratom are under 20%."""
    out = []
    shares = frame["claim"].value_counts(normalize=True)
    for claim in CLAIMS:
        if shares.get(claim, 0.0) < MIN_CLAIM_SHARE:
            out.append(Violation("class balance", "-", f"{claim} is {shares.get(claim, 0.0):.1%} of rows"))
    kratom = (frame["supplement"] == "kratom") | frame["text"].str.contains(KRATOM)
    if kratom.mean() >= MAX_KRATOM_SHARE:
        out.append(Violation("kratom share", "-", f"{kratom.mean():.1%} of rows are about kratom"))
    return out


def check_supplement_labels(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """No supplement predicts a label: each with 10+ rows has overclaim and hedged rows."""
    out = []
    for supplement, group in frame[frame["supplement"] != "general"].groupby("supplement"):
        labels = set(group["claim"])
        if len(group) >= MIN_ROWS_FOR_LABEL_CHECK and not {"overclaim", "hedged"} <= labels:
            out.append(Violation("supplement labels", supplement, f"{len(group)} rows, labels only {sorted(labels)}"))
    return out


def check_templates(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """Fewer than 5% of written rows repeat another once product names are masked."""
    written = frame[frame["source"] == WRITTEN]
    shapes = written["text"].map(masked)
    repeated = shapes.duplicated(keep=False)
    share = repeated.mean() if len(written) else 0.0
    if share >= MAX_TEMPLATE_SHARE:
        examples = ", ".join(written.loc[repeated, "id"].head(5))
        return [Violation("template", examples, f"{share:.1%} of written rows share a masked shape")]
    return []


def check_pairs(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """A contrastive pair id links 2-3 rows of one supplement, each with a different claim label."""
    out = []
    for pair, group in frame[frame["pair"] != ""].groupby("pair"):
        if not 2 <= len(group) <= 3 or group["claim"].nunique() != len(group):
            out.append(Violation("pair", pair, f"rows {list(group['id'])} have claims {list(group['claim'])}"))
        if group["supplement"].nunique() != 1:
            out.append(Violation("pair", pair, f"rows span supplements {sorted(set(group['supplement']))}"))
    return out


# Every check takes the corpus and the raw seed documents, and returns what it found broken.
CHECKS = (
    check_schema,
    check_seed_offsets,
    check_seed_coverage,
    check_duplicates,
    check_written_extension,
    check_balance,
    check_supplement_labels,
    check_templates,
    check_pairs,
)


def violations(frame: pd.DataFrame, raw: dict[str, str]) -> list[Violation]:
    """Every rule the corpus breaks, in the order of :data:`CHECKS`."""
    found = check_schema(frame, raw)
    if found and found[0].row == "-":
        return found
    for check in CHECKS[1:]:
        found += check(frame, raw)
    return found


def validate(path: Path | str = CORPUS, raw_dir: Path | str = RAW_DIR) -> pd.DataFrame:
    """Load the corpus and return it, or raise :class:`CorpusError` listing the broken rules."""
    frame = load(path)
    found = violations(frame, read_raw(raw_dir))
    if found:
        shown = "\n".join(f"  {v}" for v in found[:20])
        more = f"\n  ... and {len(found) - 20} more" if len(found) > 20 else ""
        raise CorpusError(f"{path}: {len(found)} rule(s) broken:\n{shown}{more}")
    return frame
