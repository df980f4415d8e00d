"""Inline suppressions for ``overclaim check``: a comment that silences the next block or the whole file.

In Markdown and HTML, an HTML comment; in plain text, a line of its own (``#`` or ``//`` before it is allowed)::

    <!-- overclaim: ignore -->                 every code, next block
    <!-- overclaim: disable=OC101,OC2 -->      these codes (or code prefixes), next block
    <!-- overclaim: disable-file -->           every code, whole file
    <!-- overclaim: disable-file=OC202 -->     these codes, whole file

The next block is the first paragraph, heading, list item, table cell or attribute text after the comment.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Possessive (*+): two runs of blanks side by side would otherwise try every split of a long blank line.
_DIRECTIVE = (r"[ \t]*+(?:(?:#|//)[ \t]*+)?overclaim:[ \t]*(ignore|disable-file|disable)"
              r"(?:[ \t]*=[ \t]*([A-Za-z0-9, \t]{0,200}?))?[ \t]*")
DIRECTIVE = re.compile(_DIRECTIVE)
TEXT_DIRECTIVE = re.compile(rf"^{_DIRECTIVE}$", re.M)
# The first character a reader sees: not white space, not the filler that stands for markup.
_PROSE = re.compile(r"[^\s\u2060]")


@dataclass(frozen=True)
class Suppression:
    """Findings that start in ``[start, end)`` with a code matching one of ``codes`` (all codes when empty)."""

    start: int
    end: int
    codes: tuple[str, ...]
    line: int  # where the comment is, for messages

    def covers(self, offset: int, code: str) -> bool:
        """Whether a finding at ``offset`` with ``code`` is silenced."""
        return self.start <= offset < self.end and (not self.codes or code.startswith(self.codes))


def suppressions(text: str, view: str, comments: list[tuple[int, int, str]]) -> list[Suppression]:
    """The suppressions among ``comments`` (``(start, end, text)`` in order, as :func:`overclaim.prose.prose` gives
    them), each over its block of ``view``, the prose view of ``text``."""
    found, block, searched_to, line, counted = [], None, -1, 1, 0
    for start, end, comment in comments:
        match = DIRECTIVE.fullmatch(comment.strip(" \t\r\n"))
        if match is None:
            continue
        action, codes = match.group(1), tuple(c for c in re.split(r"[\s,]+", match.group(2) or "") if c)
        line, counted = line + text.count("\n", counted, start), start
        if action == "disable-file":
            found.append(Suppression(0, len(text), codes, line))
            continue
        # The next block is the view's line that holds the first prose after the comment. The search is shared by
        # consecutive comments with no prose between them, so many comments in a row are still read in linear time.
        if end > searched_to:
            prose = _PROSE.search(view, end)
            searched_to = len(view) if prose is None else prose.start()
            if prose is not None:
                stop = view.find("\n", prose.start())
                block = (view.rfind("\n", 0, prose.start()) + 1, len(view) if stop < 0 else stop)
            else:
                block = None
        if block is not None:
            found.append(Suppression(*block, codes, line))
    return found
