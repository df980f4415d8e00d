"""``overclaim check``: lint Markdown, HTML and plain-text files for overclaiming sentences.

Each flagged sentence is one line, ``path:line:col: OC<code> <reason> (risk 0.93, block by us-dshea/disease-claim,
types disease) "sentence..."``, where line and column (both from 1) point at the sentence's first character in the
file.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from overclaim.masking import FORMAT_CHARACTERS
from overclaim.prose import kind_of, prose_view
from overclaim.reasons import CODES
from overclaim.scorer import Scorer
from overclaim.sentences import sentence_spans

QUOTE_CHARS = 80


class CheckError(ValueError):
    """A file that cannot be checked; the message names it."""


@dataclass(frozen=True)
class Finding:
    """One sentence at or above the fail level."""

    path: str
    line: int
    column: int
    risk: float
    decision: str
    reason: str
    sentence: str
    rule: str
    claim_types: tuple[str, ...] = ()

    def line_text(self) -> str:
        """``path:line:col: OC<code> <reason> (risk 0.93, block by <policy/rule>, types <types>) "sentence..."``"""
        quote = self.sentence if len(self.sentence) <= QUOTE_CHARS else self.sentence[: QUOTE_CHARS - 3] + "..."
        return (f"{self.path}:{self.line}:{self.column}: {CODES[self.reason]} {self.reason} "
                f"(risk {self.risk:.2f}, {self.decision} by {self.rule}, types {', '.join(self.claim_types) or '-'}) "
                f"\"{quote}\"")


def read_text(path: str | Path) -> str | None:
    """The file's text (UTF-8, undecodable bytes replaced), or ``None`` for a binary file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CheckError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CheckError(f"{path}: is a directory; pass files (a shell glob such as 'docs/*.md' works)") from None
    except OSError as error:
        raise CheckError(f"{path}: cannot read: {error.strerror}") from None
    if b"\0" in data:
        return None
    return data.decode("utf-8-sig", errors="replace")


def check_text(text: str, kind: str, scorer: Scorer, fail_on: str = "block", path: str = "-") -> list[Finding]:
    """The sentences of ``text`` (``markdown``, ``html`` or ``text``) whose decision reaches ``fail_on``."""
    view = prose_view(text, kind)
    spans = sentence_spans(view)
    # The filler that stands for markup inside a word is a format character; like any other, it is not read.
    sentences = [" ".join(FORMAT_CHARACTERS.sub("", view[start:end]).split()) for start, end in spans]
    levels = ("review", "block") if fail_on == "review" else ("block",)
    line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    findings = []
    for (start, _), sentence, result in zip(spans, sentences, scorer.score_many(sentences)):
        if result.decision not in levels:
            continue
        line = bisect_right(line_starts, start)
        findings.append(Finding(path=path, line=line, column=start - line_starts[line - 1] + 1, risk=result.risk,
                                decision=result.decision, reason=(result.reasons or ["claim_language"])[0],
                                sentence=sentence, rule=result.rule, claim_types=tuple(result.claim_types)))
    return findings


def check_file(path: str | Path, scorer: Scorer, fail_on: str = "block") -> list[Finding] | None:
    """The findings of one file, or ``None`` when it is binary and was skipped."""
    text = read_text(path)
    if text is None:
        return None
    return check_text(text, kind_of(path), scorer, fail_on, str(path))
