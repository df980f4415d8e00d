"""``overclaim check``: lint Markdown, HTML and plain-text files for overclaiming sentences.

Each flagged sentence is one line, ``path:line:col: OC<code> <reason> (risk 0.93, block by us-dshea/disease-claim,
types disease) "sentence..."``, where line and column (both from 1, in characters) point at the sentence's first
character in the file.
"""
from __future__ import annotations

import codecs
import re
from bisect import bisect_right
from dataclasses import asdict, dataclass
from pathlib import Path

from overclaim.masking import FORMAT_CHARACTERS
from overclaim.prose import kind_of, prose
from overclaim.reasons import CODES
from overclaim.scorer import Scorer
from overclaim.sentences import sentence_spans
from overclaim.suppressions import suppressions

QUOTE_CHARS = 80
_NEWLINE = re.compile(r"\r\n?|\n")  # a line ends at CR LF, LF or a lone CR, as in editors and Markdown
# Byte order marks, longest first: UTF-32's little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# A file with NUL bytes is text when it decodes cleanly and one, or at most this share, of its characters are controls
# other than white space (a PNG or a zip file is far above it).
MAX_CONTROL_SHARE = 0.01
UTF16_NUL_SHARE = 0.3  # least share of a file's byte pairs with a NUL for it to be tried as UTF-16 without a mark


class CheckError(ValueError):
    """A file or a setting that cannot be used; the message names it and says what to do."""


@dataclass(frozen=True)
class Finding:
    """One sentence at or above the fail level; ``end_column`` is the column just past its last character."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    risk: float
    decision: str
    reason: str
    sentence: str
    rule: str
    claim_types: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        """The stable code of the reason, ``OC101``..."""
        return CODES[self.reason]

    def line_text(self) -> str:
        """``path:line:col: OC<code> <reason> (risk 0.93, block by <policy/rule>, types <types>) "sentence..."``"""
        quote = self.sentence if len(self.sentence) <= QUOTE_CHARS else self.sentence[: QUOTE_CHARS - 3] + "..."
        return (f"{self.path}:{self.line}:{self.column}: {self.code} {self.reason} "
                f"(risk {self.risk:.2f}, {self.decision} by {self.rule}, types {', '.join(self.claim_types) or '-'}) "
                f"\"{quote}\"")

    def to_dict(self) -> dict:
        """The finding as plain JSON types, with its code."""
        return {**asdict(self), "code": self.code, "claim_types": list(self.claim_types)}


def validate_codes(prefixes, where: str) -> tuple[str, ...]:
    """``prefixes`` (``OC1``, ``OC202``) as a tuple, each checked to select at least one code."""
    prefixes = tuple(prefixes)
    for prefix in prefixes:
        if not any(code.startswith(prefix) for code in CODES.values()):
            raise CheckError(f"{where}: unknown code {prefix!r}; codes are {', '.join(CODES.values())} "
                             "(a prefix such as OC1 stands for a group)")
    return prefixes


def selected(code: str, select=(), ignore=()) -> bool:
    """Whether ``code`` is reported: it matches a ``select`` prefix (all do when none is given) and no ``ignore``."""
    return (not select or code.startswith(tuple(select))) and not code.startswith(tuple(ignore))


def decode(data: bytes) -> str | None:
    """The text of a file's bytes, or ``None`` when they are binary.

    A byte order mark decides (UTF-8, UTF-16, UTF-32); without one, a file with NUL bytes is tried as UTF-16
    (little-endian when its NULs fall on odd bytes) and then as UTF-8; anything else is UTF-8 with undecodable bytes
    replaced.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    if b"\0" not in data:
        return data.decode("utf-8", errors="replace")
    # Text in UTF-16 has a NUL in every other byte wherever it is Latin script.
    odd, even = data[1::2].count(0), data[0::2].count(0)
    utf16 = len(data) % 2 == 0 and max(odd, even) >= UTF16_NUL_SHARE * len(data) / 2
    for encoding in ("utf-16-le" if odd >= even else "utf-16-be",) * utf16 + ("utf-8",):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for char in text if char < " " and char not in "\t\n\r\f")
        if controls <= max(1, MAX_CONTROL_SHARE * len(text)):
            return text
    return None


def read_text(path: str | Path) -> str | None:
    """The file's text (see :func:`decode`), or ``None`` for a binary file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CheckError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CheckError(f"{path}: is a directory; pass files (a shell glob such as 'docs/*.md' works)") from None
    except OSError as error:
        raise CheckError(f"{path}: cannot read: {error.strerror}") from None
    return decode(data)


def check_text(text: str, kind: str, scorer: Scorer, fail_on: str = "block", path: str = "-", select=(),
               ignore=()) -> list[Finding]:
    """The sentences of ``text`` (``markdown``, ``html`` or ``text``) whose decision reaches ``fail_on``, whose code
    is selected (see :func:`selected`) and that no comment in the text suppresses."""
    view, comments = prose(text, kind)
    silenced = suppressions(text, view, comments)
    for suppression in silenced:
        validate_codes(suppression.codes, f"{path}:{suppression.line}: overclaim comment")
    spans = sentence_spans(view)
    # The filler that stands for markup inside a word is a format character; like any other, it is not read.
    sentences = [" ".join(FORMAT_CHARACTERS.sub("", view[start:end]).split()) for start, end in spans]
    levels = ("review", "block") if fail_on == "review" else ("block",)
    line_starts = [0] + [newline.end() for newline in _NEWLINE.finditer(text)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    findings = []
    for (start, end), sentence, result in zip(spans, sentences, scorer.score_many(sentences)):
        reason = (result.reasons or ["claim_language"])[0]
        if (result.decision not in levels or not selected(CODES[reason], select, ignore)
                or any(s.covers(start, CODES[reason]) for s in silenced)):
            continue
        (line, column), (end_line, end_column) = where(start), where(end)
        findings.append(Finding(path=path, line=line, column=column, end_line=end_line, end_column=end_column,
                                risk=result.risk, decision=result.decision, reason=reason, sentence=sentence,
                                rule=result.rule, claim_types=tuple(result.claim_types)))
    return findings


def check_file(path: str | Path, scorer: Scorer, fail_on: str = "block", select=(), ignore=()) -> list[Finding] | None:
    """The findings of one file, or ``None`` when it is binary and was skipped."""
    text = read_text(path)
    if text is None:
        return None
    return check_text(text, kind_of(path), scorer, fail_on, str(path), select, ignore)
