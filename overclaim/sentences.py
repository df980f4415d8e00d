"""Sentence splitting with character offsets, offline.

Lines are split first (headings and bullet lines are sentences of their own), then nltk's Punkt splits each
line. Punkt runs with an explicit list of abbreviations, so nothing is downloaded.
"""
from __future__ import annotations

import re
from functools import lru_cache

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

ABBREVIATIONS = frozenset(
    """
    e.g i.e etc vs approx al fig figs no nos vol pp ed eds dr mr mrs ms prof sr jr st mt ft inc ltd co corp
    dept univ assn u.s u.k u.s.a e.u jan feb mar apr jun jul aug sep sept oct nov dec mg mcg kg ml oz lb lbs
    hr hrs min sec tbsp tsp cap caps approx incl est ca cf viz ph.d m.d r.d n.d
    """.split()
)

_LINE = re.compile(r"[^\r\n]+")


@lru_cache(maxsize=1)
def _punkt() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` offsets of the sentences of ``text``, stripped of surrounding white space.

    Examples
    --------
    >>> text = "Dr. Lee said so.\\n- Take 2 caps daily"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['Dr. Lee said so.', '- Take 2 caps daily']
    """
    tokenizer = _punkt()
    spans = []
    for line in _LINE.finditer(text):
        offset = line.start()
        for start, end in tokenizer.span_tokenize(line.group()):
            chunk = line.group()[start:end]
            stripped = chunk.strip()
            if stripped:
                lead = len(chunk) - len(chunk.lstrip())
                spans.append((offset + start + lead, offset + start + lead + len(stripped)))
    return spans



def sentence_bound(text: str) -> int:
    """At least the number of sentences of ``text``, counted without splitting it.

    Punkt ends a sentence only at ``.``, ``?`` or ``!``, and lines are split first, so those characters and the line
    breaks bound the count.

    Examples
    --------
    >>> text = "One. Two! Three"
    >>> sentence_bound(text) >= len(sentence_spans(text))
    True
    """
    return 1 + sum(text.count(mark) for mark in ".?!\r\n")
