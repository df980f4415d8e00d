"""The prose of a Markdown, HTML or plain-text file, at the same character offsets as the file.

:func:`prose_view` returns a string exactly as long as the input in which markup is blanked, each block
(paragraph, heading, list item, table cell, attribute text) sits on a line of its own, and the line breaks inside
a block are spaces, so a hard-wrapped sentence is read whole. An offset into the view is an offset into the file,
which is how ``overclaim check`` reports line and column.

Parsers decide what is text: HTML is parsed by JustHTML (an HTML5 parser that passes the html5lib test suite and
records where each text node and tag starts), Markdown by markdown-it-py (CommonMark with tables). Each piece of
text is then painted into the view where it stands in the file, its character references (``&amp;``, ``\\*``,
JSON's ``\\u00e9``) read as the characters they stand for. Markup inside a word (``cu<span></span>res``,
``cu**r**es``) and the rest of a reference (``c&#117;res``) stay :data:`FILLER`, which a reader drops, so the word
is read as a browser shows it; markup between words reads as a space.

Examples
--------
>>> prose_view("# Zinc\\nZinc *may*\\nhelp.", "markdown")
'  Zinc\\nZinc  may  help.'
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from justhtml import JustHTML
from justhtml.dom import Comment, Text
from markdown_it import MarkdownIt

from overclaim.masking import FORMAT_CHARACTERS
from overclaim.suppressions import TEXT_DIRECTIVE

KINDS = {".md": "markdown", ".markdown": "markdown", ".mdx": "markdown", ".html": "html", ".htm": "html",
         ".xhtml": "html"}

# WORD JOINER, a format character: invisible, not a space. It stands for markup, which a reader drops.
FILLER = "\u2060"
# Elements that start and end a block of text (a <br> is read as a space: it breaks a line, not a sentence).
_BLOCKS = frozenset("""address article aside blockquote body caption dd details dialog div dl dt fieldset figcaption
    figure footer form h1 h2 h3 h4 h5 h6 head header hgroup hr html legend li main menu nav noscript ol optgroup option
    p pre section summary svg table tbody td text tfoot th thead title tr ul""".split())  # svg's <text> too
_HIDDEN = frozenset({"script", "style"})  # a <template>'s content is not among its children
# Attributes whose text readers see (image descriptions, tooltips, what a screen reader says), and the <meta>
# tags whose content search engines and social sites show.
_READ_ATTRIBUTES = frozenset({"alt", "title", "aria-label"})
_META_NAMES = frozenset({"description", "og:description", "twitter:description", "og:title", "twitter:title"})
# Keys of JSON-LD (schema.org) whose string values are prose a search engine shows.
_JSON_LD_KEYS = frozenset({"description", "headline", "alternativeHeadline", "abstract", "text", "reviewBody",
                           "articleBody", "disambiguatingDescription", "slogan"})
_LINK_ELEMENTS = frozenset({"a", "area"})

_CHARACTER_REFERENCE = re.compile(r"&(?:#[xX][0-9a-fA-F]{1,8};?|#[0-9]{1,10};?|[A-Za-z][A-Za-z0-9]{0,31};?)")
_JSON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}(?:\\u[0-9a-fA-F]{4})?|.)")
_JSON_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"(\s*:)?')
# A tag the HTML5 parser dropped from a text node (a stray end tag): skipped as markup when met inside the text.
_TAG_SOURCE = re.compile(r"""</?[A-Za-z][^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
_ATTRIBUTE = re.compile(r"""([^\s"'>/=][^\s"'>/=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_TAG_NAME = re.compile(r"</?[^\s/>]*")
_FILLERS = re.compile(f"{FILLER}+")
_NEWLINE = re.compile(r"\r\n?|\n")  # markdown-it's line breaks
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_LINK_DESTINATION = re.compile(r"\]\(\s*<?")
_LINK_TITLE = re.compile(r">?\s+[\"'(]")
# Most characters between two pieces of text that the Markdown reader looks through (a link's address and title).
SPAN = 4000
_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).disable("text_join")
# Addresses as written, not percent-encoded: they are looked for in the file, and the citation rules read them.
_MARKDOWN.normalizeLink = _MARKDOWN.normalizeLinkText = lambda url: url  # type: ignore[method-assign,assignment]
# Plain text has no paragraph syntax: a line break is read as a wrap inside a sentence when the next line starts
# in lower case, or when the line is long (wrapped near a margin) and does not end a sentence.
_WRAPPED = re.compile(r"(?:(?<=\S)[ \t]*\n(?=[ \t]*[a-z])|(?<=[^\n]{60}[^.!?:;\s\n])[ \t]*\n(?=[ \t]*\S))")


def kind_of(path: str | Path) -> str:
    """``markdown``, ``html`` or ``text``, from the file name's extension."""
    return KINDS.get(Path(path).suffix.lower(), "text")


def _json_unescape(escape: str) -> str:
    try:
        return json.loads(f'"{escape}"')
    except ValueError:
        return escape


def _paint(view: list, source: str, start: int, data: str, reference=_CHARACTER_REFERENCE,
           decode=html.unescape, offset: int = 0) -> None:
    """Write ``data`` into ``view`` where it stands in ``source`` from ``start`` on.

    A reference in the source is written as the characters it stands for, padded with :data:`FILLER`; a tag the
    parser dropped from the text stays filler. Painting stops at the first character that cannot be placed, so a
    mismatch loses the rest of one piece of text, never an offset.
    """
    i, j, n, size = start, 0, len(source), len(data)
    while j < size and i < n:
        char = source[i]
        if char in "&\\" and (match := reference.match(source, i)):
            decoded = decode(match.group())
            if decoded != match.group() and data.startswith(decoded, j) and len(decoded) <= len(match.group()):
                # An invisible character (&shy;) is filler too, so the word around it stays one word.
                view[offset + i : offset + i + len(decoded)] = FORMAT_CHARACTERS.sub(FILLER, decoded)
                i, j = match.end(), j + len(decoded)
                continue
        if char == data[j]:
            view[offset + i] = " " if char.isspace() else char
            i, j = i + 1, j + 1
        elif char == "\r":  # HTML reads CR LF and a lone CR as LF
            view[offset + i] = " "
            j += data[j] == "\n" and source[i + 1 : i + 2] != "\n"
            i += 1
        elif char == "<" and (match := _TAG_SOURCE.match(source, i)):
            i = match.end()
        else:
            break


def _separate(view: list, offset: int, *positions: int, mark: str = "\n") -> None:
    for position in positions:
        if 0 <= position < len(view) - offset:
            view[offset + position] = mark


def _attributes(view: list, source: str, element, start: int, end: int, offset: int) -> None:
    """Paint the attribute values of ``element``'s start tag (``source[start:end]``) that people read."""
    name = element.name.lower()
    attrs = {key.lower(): value for key, value in (element.attrs or {}).items() if value is not None}
    read = set(_READ_ATTRIBUTES)
    if name == "meta" and (attrs.get("name", "").lower() in _META_NAMES or
                           attrs.get("property", "").lower() in _META_NAMES):
        read.add("content")
    links = name in _LINK_ELEMENTS and attrs.get("href", "").lower().startswith(("http://", "https://"))
    seen = set()
    tag_name = _TAG_NAME.match(source, start)  # it always matches, if only the "<"
    position = tag_name.end() if tag_name else start
    for match in _ATTRIBUTE.finditer(source, position, end):
        key = match.group(1).lower()
        value = next((g for g in (2, 3, 4) if match.group(g) is not None), None)
        if key in seen or value is None:
            continue
        seen.add(key)
        value_start, value_end = match.span(value)
        if key in read and attrs.get(key):
            _paint(view, source, value_start, attrs[key], offset=offset)
            _separate(view, offset, value_start - 1, value_end)
        elif key == "href" and links:
            # A link's address stays readable where it is: the citation rules look for it.
            _paint(view, source, value_start, attrs[key], offset=offset)
            _separate(view, offset, value_start - 1, value_end, mark=" ")


def _json_ld(view: list, source: str, start: int, end: int, offset: int) -> None:
    """Paint the string values of JSON-LD's description-like keys found in ``source[start:end]``."""
    key = None
    for match in _JSON_STRING.finditer(source, start, end):
        decoded = _json_unescape(match.group(1))
        if match.group(2):
            key = decoded
        elif key in _JSON_LD_KEYS and decoded:
            _paint(view, source, match.start(1), decoded, _JSON_ESCAPE, _json_unescape, offset)
            _separate(view, offset, match.start(), match.end(1))


def _html_into(view: list, source: str, comments: list, offset: int = 0) -> None:
    """Paint the text of the HTML ``source`` into ``view`` at ``offset``; add its comments to ``comments``."""
    document = JustHTML(source, track_node_locations=True, sanitize=False, scripting_enabled=False)
    stack = [document.root]
    while stack:
        node = stack.pop()
        if isinstance(node, Text):
            if node.origin_offset is not None:
                _paint(view, source, node.origin_offset, node.data, offset=offset)
            continue
        if isinstance(node, Comment):
            if node.origin_offset is not None:
                end = source.find("-->", node.origin_offset)
                comments.append((offset + node.origin_offset, offset + (len(source) if end < 0 else end + 3),
                                 node.data or ""))
            continue
        name = (getattr(node, "name", "") or "").lower()
        # Tag spans are JustHTML's (pinned to 3.x in pyproject.toml): where the start and end tags begin and end.
        start, end = getattr(node, "_start_tag_start", None), getattr(node, "_start_tag_end", None)
        if start is not None and end is not None:
            _attributes(view, source, node, start, end, offset)
            if name in _BLOCKS or name == "br":
                mark = " " if name == "br" else "\n"
                _separate(view, offset, start, getattr(node, "_end_tag_start", None) or -1, mark=mark)
        if name in _HIDDEN:
            script_type = (node.attrs or {}).get("type", "") or ""
            if name == "script" and script_type.strip().lower() == "application/ld+json" and node.children:
                first = node.children[0].origin_offset
                stop = getattr(node, "_end_tag_start", None) or len(source)
                if first is not None:
                    _json_ld(view, source, first, stop, offset)
            continue
        stack.extend(getattr(node, "children", None) or ())


def _html(text: str, comments: list) -> list:
    view = [FILLER] * len(text)
    _html_into(view, text, comments)
    return view


def _find(text: str, needle: str, cursor: int, end: int) -> int:
    """Where ``needle`` is next in ``text``, looking at most :data:`SPAN` characters past ``cursor``; -1 if not."""
    return text.find(needle, cursor, min(end, cursor + len(needle) + SPAN)) if needle else -1


def _paint_at(view: list, text: str, needle: str, shown: str, cursor: int, end: int) -> tuple[int, int]:
    """Paint ``shown`` where ``needle`` is next; returns (where it starts or -1, the new cursor)."""
    found = _find(text, needle, cursor, end)
    if found < 0:
        return -1, cursor
    view[found : found + len(shown)] = shown
    return found, found + len(needle)


def _link_target(view: list, text: str, attrs: dict, cursor: int, end: int, paint_address: bool) -> int:
    """After a link's or image's text: paint its address (links) and title (both); returns the new cursor."""
    destination = _LINK_DESTINATION.search(text, cursor, min(end, cursor + SPAN))
    address = attrs.get("href") or attrs.get("src") or ""
    if destination is None or not text.startswith(address, destination.end()):
        return cursor
    cursor = destination.end() + len(address)
    if paint_address and address.lower().startswith(("http://", "https://")):
        view[destination.end() : cursor] = address
        _separate(view, 0, destination.end() - 1, cursor, mark=" ")
    title = attrs.get("title")
    if title and (opener := _LINK_TITLE.match(text, cursor)):
        found, after = _paint_at(view, text, title, title, opener.end(), end)
        if found == opener.end():
            _separate(view, 0, found - 1, after)
            cursor = after
    return cursor


def _inline(view: list, text: str, children: list, cursor: int, end: int, comments: list) -> tuple[int, int]:
    """Paint an inline token's children found from ``cursor``; returns the first and last offsets painted."""
    first, links = -1, []
    for child in children:
        kind, found = child.type, -1
        if kind == "text":
            found, cursor = _paint_at(view, text, child.content, child.content, cursor, end)
        elif kind == "text_special":  # an entity or a backslash escape: the character where its markup starts
            found, cursor = _paint_at(view, text, child.markup, child.content, cursor, end)
        elif kind in ("softbreak", "hardbreak"):
            if newline := _NEWLINE.search(text, cursor, end):
                view[newline.end() - 1], cursor = " ", newline.end()
        elif kind == "code_inline":
            _, cursor = _paint_at(view, text, child.content, "", cursor, end)
        elif kind == "html_inline":
            found = _find(text, child.content, cursor, end)
            if found >= 0:
                _html_into(view, child.content, comments, found)
                cursor, found = found + len(child.content), -1
        elif kind == "link_open":
            links.append(child)
        elif kind == "link_close" and links:
            link = links.pop()
            if link.markup != "autolink":  # an autolink's address is its text, painted already
                cursor = _link_target(view, text, link.attrs, cursor, end, paint_address=True)
        elif kind == "image" and (bang := _find(text, "![", cursor, end)) >= 0:
            # The image's description is a block of its own; nested markup in it is read as plain text.
            cursor = bang + 2
            for part in child.children or ():
                if part.type in ("text", "text_special"):
                    _, cursor = _paint_at(view, text, part.markup if part.type == "text_special" else part.content,
                                          part.content, cursor, end)
            _separate(view, 0, bang, cursor)
            cursor = _link_target(view, text, child.attrs, cursor, end, paint_address=False)
            found = bang
        if found >= 0 and first < 0:
            first = found
    return first, cursor - 1


def _markdown(text: str, comments: list) -> list:
    text = _FRONT_MATTER.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    view = [FILLER] * len(text)
    line_starts = [0]
    for newline in _NEWLINE.finditer(text):
        view[newline.end() - 1] = "\n"
        line_starts.append(newline.end())
    line_starts.append(len(text))
    previous_end = -1
    for token in _MARKDOWN.parse(text):
        if token.map is None or token.type not in ("inline", "html_block"):
            continue
        start, end = line_starts[token.map[0]], line_starts[min(token.map[1], len(line_starts) - 1)]
        if token.type == "html_block":
            view[start:end] = [FILLER] * (end - start)  # in HTML a line break is a space; blocks come from tags
            _html_into(view, text[start:end], comments, start)
            if text[end - 1] in "\r\n":
                view[end - 1] = "\n"
            continue
        first, last = _inline(view, text, token.children or [], max(start, previous_end + 1), end, comments)
        if 0 <= previous_end < first and "\n" not in view[previous_end + 1 : first]:
            view[previous_end + 1] = "\n"  # two blocks on one line: the cells of a table row
        if first >= 0:
            previous_end = last
    return view


def _words_joined(view: str) -> str:
    """Fillers kept between two visible characters (markup inside a word, or before its punctuation); beside white
    space or at either end they become spaces, so a sentence starts and ends at a character a reader sees."""
    def keep_inside_words(match: re.Match) -> str:
        start, end = match.span()
        inside = 0 < start and end < len(view) and not view[start - 1].isspace() and not view[end].isspace()
        return match.group() if inside else " " * len(match.group())

    return _FILLERS.sub(keep_inside_words, view)


def prose(text: str, kind: str = "text") -> tuple[str, list[tuple[int, int, str]]]:
    """The prose view of ``text`` (see the module docstring), and its comments as ``(start, end, text)`` in order:
    the HTML comments a parser found (none inside code), or in plain text the lines that are suppressions."""
    text = text.replace("\0", " ")
    comments: list[tuple[int, int, str]] = []
    if kind == "html":
        view = _words_joined("".join(_html(text, comments)))
    elif kind == "markdown":
        view = _words_joined("".join(_markdown(text, comments)))
    else:
        comments = [(m.start(), m.end(), m.group()) for m in TEXT_DIRECTIVE.finditer(text)]
        text = TEXT_DIRECTIVE.sub(lambda m: " " * len(m.group()), text)
        view = _WRAPPED.sub(lambda m: m.group().replace("\n", " "), text)
    return view, sorted(comments)


def prose_view(text: str, kind: str = "text") -> str:
    """``text`` with its markup blanked, one block per line, at unchanged offsets (see the module docstring)."""
    return prose(text, kind)[0]
