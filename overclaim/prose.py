"""The prose of a Markdown, HTML or plain-text file, at the same character offsets as the file.

:func:`prose_view` returns a string exactly as long as the input in which markup is blanked with spaces, each
block (paragraph, heading, list item, table cell) sits on a line of its own, and the line breaks inside a
block are spaces, so a hard-wrapped sentence is read whole. An offset into the view is an offset into the file,
which is how ``overclaim check`` reports line and column.

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
_HIDDEN = re.compile(r"<(script|style|template|noscript|svg)\b.*?</\1\s*>|<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![^>]*>",
                     re.S | re.I)
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK_TAGS})\b[^>]*>", re.I)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_HREF = re.compile(r"""\bhref\s*=\s*["']?(https?://[^"'\s>]+)""", re.I)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.S | re.M)
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|!\[[^\]\n]*\]\[[^\]\n]*\]")
_LINK_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[^\n]*$", re.M)
_INLINE_CODE = re.compile(r"(`+)[^`\n].*?\1")
_LINK = re.compile(r"(\[)([^\]\n]*)(\]\()(\S*?)((?:\s+\"[^\"\n]*\")?\))")
_REFERENCE_LINK = re.compile(r"(\[)([^\]\n]+)(\]\[[^\]\n]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_EMPHASIS = re.compile(r"\*+|~~|(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]")
# A line that opens a block of its own: heading, list item, quote, table row, rule.
_BLOCK_START = re.compile(r"^[ \t]*(?:#{1,6}[ \t]|[-*+][ \t]+|\d{1,9}[.)][ \t]+|>|\||[-=*_][-=*_ \t]*$)")
_LINE_MARKER = re.compile(r"^([ \t]*)((?:>[ \t]?)*(?:#{1,6}[ \t]+|[-*+][ \t]+(?:\[[ xX]\][ \t]+)?|\d{1,9}[.)][ \t]+)?)")
# Plain text has no paragraph syntax: a line break is read as a wrap inside a sentence when the next line starts
# in lower case, or when the line is long (wrapped near a margin) and does not end a sentence.
_WRAPPED = re.compile(r"(?:(?<=\S)[ \t]*\n(?=[ \t]*[a-z])|(?<=[^\n]{60}[^.!?:;\s\n])[ \t]*\n(?=[ \t]*\S))")
_RULE = re.compile(r"^[ \t]*(?:[-=*_][ \t]*){3,}$|^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$")


def kind_of(path: str | Path) -> str:
    """``markdown``, ``html`` or ``text``, from the file name's extension."""
    return KINDS.get(Path(path).suffix.lower(), "text")


def _unescape(text: str) -> str:
    """Character references replaced by their characters, padded to the reference's length."""
    return _ENTITY.sub(lambda m: html.unescape(m.group()).ljust(len(m.group()))[: len(m.group())], text)


def _table_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group())


def _flat(text: str) -> str:
    return " " * len(text)


def _html(text: str) -> str:
    text = _HIDDEN.sub(_blank, text)
    text = text.replace("\n", " ")  # in HTML a line break is a space; blocks come from the tags
    text = _BLOCK_TAG.sub(lambda m: "\n" + " " * (len(m.group()) - 1), text)

    def tag(match: re.Match) -> str:
        # A link's address stays readable where its tag was: the citation rules look for it.
        href = _HREF.search(match.group())
        return f" {href.group(1)} ".ljust(len(match.group())) if href else _flat(match.group())

    return _unescape(_TAG.sub(tag, text))


def _markdown(text: str) -> str:
    text = _FRONT_MATTER.sub(_blank, text)
    text = _FENCE.sub(_blank, text)
    text = _HIDDEN.sub(_blank, text)
    text = _LINK_DEFINITION.sub(_blank, text)
    text = _IMAGE.sub(_blank, text)
    text = _INLINE_CODE.sub(_blank, text)
    text = _LINK.sub(lambda m: " " + m.group(2) + "  " + m.group(4) + _flat(m.group(5)), text)
    text = _REFERENCE_LINK.sub(lambda m: " " + m.group(2) + _flat(m.group(3)), text)
    text = _AUTOLINK.sub(lambda m: f" {m.group(1)} ", text)
    text = _unescape(_TAG.sub(lambda m: _flat(m.group()), text))
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
        line = _EMPHASIS.sub(lambda m: _flat(m.group()), line)
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
