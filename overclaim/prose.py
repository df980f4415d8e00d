"""The prose of a Markdown, HTML or plain-text file, at the same character offsets as the file.

:func:`prose_view` returns a string exactly as long as the input in which markup is blanked with spaces, each
block (paragraph, heading, list item, table cell) sits on a line of its own, and the line breaks inside a
block are spaces, so a hard-wrapped sentence is read whole. An offset into the view is an offset into the file,
which is how ``overclaim check`` reports line and column. Markup inside a word (``cu<span></span>res``,
``cu**r**es``) and the rest of a character reference (``c&#117;res``) become :data:`FILLER`, which a reader drops,
so the word is read as a browser shows it.

Examples
--------
>>> prose_view("# Zinc\\nZinc *may*\\nhelp.", "markdown")
'  Zinc\\nZinc  may  help.'
"""
from __future__ import annotations

import html
import re
from pathlib import Path

KINDS = {".md": "markdown", ".markdown": "markdown", ".mdx": "markdown", ".html": "html", ".htm": "html",
         ".xhtml": "html"}

_BLOCK_TAGS = ("address|article|aside|blockquote|body|br|caption|dd|details|div|dl|dt|figcaption|figure|footer|"
               "form|h[1-6]|head|header|hr|li|main|nav|ol|p|pre|section|summary|table|td|th|title|tr|ul")
# Every pattern here reads a text in linear time: repetitions inside a line are bounded (a link's text and address,
# an image, a code span) and what may run to the end of the text is found by a forward search (hidden blocks) or
# cut off where no match can end (tags). Unbounded, "[a](" * 25,000 took 48 s and "<!--" * 25,000 10 s.
# WORD JOINER, a format character: invisible, not a space. It pads what a reader must drop to see a word whole.
FILLER = "\u2060"
SPAN = 1000  # most characters of a link's text or address, an image's, or a code span's
# A hidden block is an opener and the first closer after it; an opener without a closer falls back to the next
# kind whose opener also fits ("<!--" with no "-->" is blanked to the next ">"), or stays text.
_HIDDEN_KINDS = (
    (re.compile(r"<(script|style|template|noscript|svg)\b", re.I), lambda tag: rf"</{tag}\s*>"),
    (re.compile(r"<!--"), lambda _: "-->"),
    (re.compile(r"<!\[CDATA\["), lambda _: r"\]\]>"),
    (re.compile(r"<!"), lambda _: ">"),
)
_HIDDEN_OPEN = re.compile(r"<(?:script|style|template|noscript|svg)\b|<!", re.I)
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS})\b[^>]*>", re.I)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_HREF = re.compile(r"""\bhref\s*=\s*["']?(https?://[^"'\s>]+)""", re.I)
_FILLERS = re.compile(f"{FILLER}+")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,64}|~{3,64})[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.S | re.M)
_IMAGE = re.compile(rf"!\[[^\]\n]{{0,{SPAN}}}\]\([^)\n]{{0,{SPAN}}}\)|!\[[^\]\n]{{0,{SPAN}}}\]\[[^\]\n]{{0,{SPAN}}}\]")
_LINK_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[^\n]*$", re.M)
_INLINE_CODE = re.compile(rf"(`{{1,16}})[^`\n].{{0,{SPAN}}}?\1")
_LINK = re.compile(rf"(\[)([^\]\n]{{0,{SPAN}}})(\]\()(\S{{0,{SPAN}}}?)((?:\s+\"[^\"\n]{{0,{SPAN}}}\")?\))")
_REFERENCE_LINK = re.compile(rf"(\[)([^\]\n]{{1,{SPAN}}})(\]\[[^\]\n]{{0,{SPAN}}}\])")
_AUTOLINK = re.compile(rf"<((?:https?|mailto):[^>\s]{{1,{SPAN}}})>")
_EMPHASIS = re.compile(r"\*+|~~|(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]")
# A line that opens a block of its own: heading, list item, quote, table row, rule.
_BLOCK_START = re.compile(r"^[ \t]*(?:#{1,6}[ \t]|[-*+][ \t]+|\d{1,9}[.)][ \t]+|>|\||[-=*_][-=*_ \t]*$)")
_LINE_MARKER = re.compile(r"^([ \t]*)((?:>[ \t]?)*(?:#{1,6}[ \t]+|[-*+][ \t]+(?:\[[ xX]\][ \t]+)?|\d{1,9}[.)][ \t]+)?)")
# Plain text has no paragraph syntax: a line break is read as a wrap inside a sentence when the next line starts
# in lower case, or when the line is long (wrapped near a margin) and does not end a sentence.
_WRAPPED = re.compile(r"(?:(?<=\S)[ \t]*\n(?=[ \t]*[a-z])|(?<=[^\n]{60}[^.!?:;\s\n])[ \t]*\n(?=[ \t]*\S))")
# Possessive (*+): two runs of blanks side by side would otherwise try every split of a long blank line.
_RULE = re.compile(r"^[ \t]*+(?:[-=*_][ \t]*+){3,}$"
                   r"|^[ \t]*+\|?[ \t]*+:?-{3,}:?[ \t]*+(?:\|[ \t]*+:?-{3,}:?[ \t]*+)*\|?[ \t]*+$")


def kind_of(path: str | Path) -> str:
    """``markdown``, ``html`` or ``text``, from the file name's extension."""
    return KINDS.get(Path(path).suffix.lower(), "text")


def _unescape(text: str) -> str:
    """Character references replaced by their characters, padded with :data:`FILLER` to the reference's length."""
    return _ENTITY.sub(lambda m: html.unescape(m.group()).ljust(len(m.group()), FILLER)[: len(m.group())], text)


def _invisible(text: str) -> str:
    return FILLER * len(text)


def _words_joined(text: str) -> str:
    """Fillers kept where they join two word characters (markup inside a word); elsewhere they become spaces."""
    def keep_inside_words(match: re.Match) -> str:
        start, end = match.span()
        inside = 0 < start and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()
        return match.group() if inside else _flat(match.group())

    return _FILLERS.sub(keep_inside_words, text)


def _table_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group())


def _flat(text: str) -> str:
    return " " * len(text)


def _blank_hidden(text: str) -> str:
    """Script, style, template, noscript and svg elements, comments, CDATA and declarations made :data:`FILLER`."""
    found: dict[str, tuple[int, re.Match | None]] = {}  # closer -> (searched from, first match from there)

    def closer_after(closer: str, start: int) -> re.Match | None:
        searched, match = found.get(closer, (-1, None))
        if searched < 0 or start < searched or (match is not None and match.start() < start):
            match = re.compile(closer, re.I).search(text, start)
            found[closer] = (start, match)
        return match

    pieces, done, position = [], 0, 0
    while (opener := _HIDDEN_OPEN.search(text, position)) is not None:
        end = None
        for kind, closer in _HIDDEN_KINDS:
            fits = kind.match(text, opener.start())
            close = fits and closer_after(closer(fits.group(1) if fits.groups() else ""), fits.end())
            if close:
                end = close.end()
                break
        if end is None:
            position = opener.start() + 1
            continue
        pieces += [text[done : opener.start()], re.sub(r"[^\n]", FILLER, text[opener.start() : end])]
        done = position = end
    return "".join(pieces) + text[done:]


def _tags_sub(pattern: re.Pattern, replace, text: str) -> str:
    """``pattern.sub`` for a tag pattern ending in ``[^>]*>``: only up to the text's last ``>``, where every match
    must end; past it each ``<`` would be scanned to the end of the text in vain."""
    cut = text.rfind(">") + 1
    return pattern.sub(replace, text[:cut]) + text[cut:]


def _html(text: str) -> str:
    text = _blank_hidden(text)
    text = text.replace("\n", " ")  # in HTML a line break is a space; blocks come from the tags
    text = _tags_sub(_BLOCK_TAG, lambda m: "\n" + " " * (len(m.group()) - 1), text)

    def tag(match: re.Match) -> str:
        # A link's address stays readable where its tag was: the citation rules look for it.
        href = _HREF.search(match.group())
        return f" {href.group(1)} ".ljust(len(match.group())) if href else _invisible(match.group())

    return _unescape(_words_joined(_tags_sub(_TAG, tag, text)))


def _markdown(text: str) -> str:
    text = _FRONT_MATTER.sub(_blank, text)
    text = _FENCE.sub(_blank, text)
    text = _blank_hidden(text)
    text = _LINK_DEFINITION.sub(_blank, text)
    text = _IMAGE.sub(_blank, text)
    text = _INLINE_CODE.sub(_blank, text)
    text = _LINK.sub(lambda m: " " + m.group(2) + "  " + m.group(4) + _flat(m.group(5)), text)
    text = _REFERENCE_LINK.sub(lambda m: " " + m.group(2) + _flat(m.group(3)), text)
    text = _AUTOLINK.sub(lambda m: f" {m.group(1)} ", text)
    text = _unescape(_tags_sub(_TAG, lambda m: _invisible(m.group()), text))
    lines = text.split("\n")
    out = []
    for number, line in enumerate(lines):
        opens_block = _BLOCK_START.match(line) or not line.strip()
        if _RULE.match(line):
            line = _flat(line)
        elif _table_row(line):
            line = line.replace("|", "\n")  # each table cell is a block of its own
        else:
            marker = _LINE_MARKER.match(line)
            line = marker.group(1) + _flat(marker.group(2)) + line[marker.end():]
        line = _words_joined(_EMPHASIS.sub(lambda m: _invisible(m.group()), line))
        # A line that continues the paragraph above joins it: the break before it becomes a space.
        previous = lines[number - 1] if number else ""
        joins = out and out[-1].strip() and not opens_block and not (_HEADING.match(previous) or _table_row(previous))
        out.append(("\0" if joins else "") + line)
    return "\n".join(out).replace("\n\0", " ")


def prose_view(text: str, kind: str = "text") -> str:
    """``text`` with its markup blanked, one block per line, at unchanged offsets (see the module docstring)."""
    text = text.replace("\0", " ")
    if kind == "html":
        return _html(text)
    if kind == "markdown":
        return _markdown(text)
    return _WRAPPED.sub(lambda m: m.group().replace("\n", " "), text)
