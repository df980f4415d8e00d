"""Find the matches of many word patterns with one scan of the text instead of one scan per pattern.

A pattern that starts with ``\\b`` and a word character can only match where a word (a run of ``\\w``) starts,
and that whole word is one of the few words the pattern can begin with. One scan for all those first words
gives each pattern its candidate positions; the pattern itself is then tried only there. The matches are exactly
those of ``pattern.finditer``: every position where the pattern can match is a candidate, each candidate is
matched by the pattern itself, and a candidate inside the previous match is skipped as ``finditer`` skips it.
"""
from __future__ import annotations

import re
# The stdlib's own regex parser: private, but the same in every Python this package supports (>= 3.11); the
# corpus-wide equality test in tests/test_features.py would catch a change that broke the first words.
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

from overclaim.masking import _trie_pattern

_WORD_CHAR = re.compile(r"\w")
_ZERO_RUN = re.compile("00+")
# Enumeration stops here: a pattern with more first words than this is scanned on its own.
MAX_FIRST_WORDS = 20_000


class _Unbounded(Exception):
    """The words a pattern starts with are not finitely many (``\\w+``, ``[a-z]*``)."""


def first_words(pattern: str) -> frozenset[str] | None:
    """The words a match of ``pattern`` can start with, each run of zeros written as one ``0`` (``0+%`` starts
    with ``0``); ``None`` when the pattern does not start with ``\\b`` and a word character, when a match may end
    inside a word, or when those words are not finitely many.

    Examples
    --------
    >>> sorted(first_words(r"\\b(?:may|appears? to|0+%)\\b"))
    ['0', 'appear', 'appears', 'may']
    >>> first_words(r"\\b\\w+ly\\b") is None
    True
    >>> first_words(r"\\bhospital") is None
    True
    """
    items = _parser.parse(pattern).data
    if not items or items[0] != (sre.AT, sre.AT_BOUNDARY):
        return None
    try:
        states = _extend({("", True)}, items[1:])
    except _Unbounded:
        return None
    words = frozenset(word for word, _ in states)
    # An open word at the end could go on in the text (r"\bhospital" matches "hospitals").
    return None if "" in words or any(is_open for _, is_open in states) else words


def _append(states: set, chars) -> set:
    """Each open state extended by each of ``chars``; a non-word character closes the first word."""
    out = set()
    for word, is_open in states:
        if not is_open:
            out.add((word, False))
            continue
        for char in chars:
            if not _WORD_CHAR.match(char):
                out.add((word, False))
            elif char == "0" and word.endswith("0"):
                out.add((word, True))
            else:
                out.add((word + char, True))
    return out


def _extend(states: set, items) -> set:
    """The states ``(first word so far, still open)`` after the parsed pattern ``items``."""
    for op, av in items:
        if not any(is_open for _, is_open in states):
            break
        closed = {state for state in states if not state[1]}
        opened = states - closed
        if op is sre.LITERAL:
            states = closed | _append(opened, chr(av))
        elif op is sre.IN:
            states = closed | _append(opened, _charset(av))
        elif op is sre.SUBPATTERN:
            states = closed | _extend(opened, av[-1].data)
        elif op is sre.BRANCH:
            states = closed.union(*(_extend(opened, branch.data) for branch in av[1]))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            states = closed | _repeat(opened, *av)
        elif op is sre.AT and av is sre.AT_BOUNDARY:
            states = closed | {(word, False) for word, _ in opened}  # after a word character: the word ends here
        elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width: leaving the assertion out only adds candidates
        else:
            raise _Unbounded
        if len(states) > MAX_FIRST_WORDS:
            raise _Unbounded
    return states


def _repeat(states: set, low: int, high, sub) -> set:
    if high is sre.MAXREPEAT:
        # Only a run of zeros (a masked number) is unbounded and still finite once runs are written as one 0.
        if list(sub) != [(sre.LITERAL, ord("0"))]:
            raise _Unbounded
        once = _append(states, "0")
        return once if low else states | once
    out = set()
    for count in range(high + 1):
        if count >= low:
            out |= states
        if count < high:
            states = _extend(states, sub.data)
    return out


def _charset(items) -> list[str]:
    chars = []
    for op, av in items:
        if op is sre.LITERAL:
            chars.append(chr(av))
        elif op is sre.RANGE:
            chars.extend(chr(code) for code in range(av[0], av[1] + 1))
        else:
            raise _Unbounded
    return chars


class FirstWordIndex:
    """Finds the matches of each of ``patterns`` (a dict of compiled patterns) in one scan of a text.

    Patterns whose first words cannot be listed (see :func:`first_words`) are run over the whole text.
    """

    def __init__(self, patterns: dict[str, re.Pattern]):
        self.patterns = dict(patterns)
        by_word: dict[str, list[str]] = {}
        self.unindexed = []
        for name, pattern in self.patterns.items():
            words = first_words(pattern.pattern)
            if words is None:
                self.unindexed.append(name)
                continue
            for word in words:
                by_word.setdefault(word, []).append(name)
        self._by_word = {word: tuple(names) for word, names in by_word.items()}
        # A 0 in a first word stands for a run of zeros (see first_words); (?!) matches nothing.
        trie = _trie_pattern(sorted(by_word)).replace("0", "0+")
        self._scan = re.compile(r"\b(?:" + trie + r")\b" if trie else "(?!)")

    def find(self, text: str) -> dict[str, list[re.Match]]:
        """The matches of each pattern that matches ``text``, as ``pattern.finditer(text)`` gives them."""
        candidates: dict[str, list[int]] = {}
        for word in self._scan.finditer(text):
            key = word.group()
            if "00" in key:
                key = _ZERO_RUN.sub("0", key)
            for name in self._by_word[key]:
                candidates.setdefault(name, []).append(word.start())
        found = {}
        for name, starts in candidates.items():
            match_at, end, matches = self.patterns[name].match, 0, []
            for start in starts:
                if start >= end and (match := match_at(text, start)):
                    matches.append(match)
                    end = match.end()
            if matches:
                found[name] = matches
        for name in self.unindexed:
            if matches := list(self.patterns[name].finditer(text)):
                found[name] = matches
        return found
