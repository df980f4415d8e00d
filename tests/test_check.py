"""overclaim check: Markdown, HTML and text files linted, each flagged sentence with its line and column."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BIN
from overclaim.check import CODES
from overclaim.cli import main
from overclaim.prose import prose_view

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r'^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>OC\d{3}) (?P<reason>\w+) '
                  r'\(risk (?P<risk>[01]\.\d\d), (?P<decision>review|block) by (?P<rule>[\w-]+/[\w-]+), '
                  r'types (?P<types>[\w, -]+)\) "(?P<sentence>.*)"$')

ARTICLE_MD = """---
title: Kratom guide
---
# A guide to kratom

Kratom is a tree native to Southeast Asia. Kratom offers relief from chronic
pain without the side effects of opioids.

```
print("this code block cures cancer")
```

- Take it with food
- It **melts fat** and cures anxiety, guaranteed

See [the review](https://doi.org/10.1000/xyz) for the dosing table.
"""

LISTING_HTML = """<!doctype html>
<html><head><title>Elderberry syrup</title><script>var claim = "cures the flu";</script></head>
<body><h1>Elderberry &amp; zinc</h1>
<p>Our syrup <b>knocks out</b> the flu
in 24 hours.</p>
<!-- cures everything -->
<p>Store in a cool place.</p>
</body></html>
"""


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def position(text: str, needle: str) -> tuple[int, int]:
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def test_markdown_sentences_are_flagged_at_their_line_and_column(tmp_path, capsys):
    path = tmp_path / "article.md"
    path.write_text(ARTICLE_MD, encoding="utf-8")
    code, lines, err = run(["check", str(path)], capsys)
    found = [LINE.match(line) for line in lines]
    assert code == 1 and all(found), lines
    sentences = {m["sentence"]: (int(m["line"]), int(m["col"])) for m in found}
    wrapped = "Kratom offers relief from chronic pain without the side effects of opioids."
    assert sentences[wrapped] == position(ARTICLE_MD, "Kratom offers relief")
    assert sentences["It melts fat and cures anxiety, guaranteed"] == position(ARTICLE_MD, "It **melts")
    assert not any("code block" in s or "tree native" in s or "Take it" in s for s in sentences)
    assert all(m["path"] == str(path) and CODES[m["reason"]] == m["code"] for m in found)
    assert f"{len(lines)} sentence(s) at or above 'block' in 1 of 1 file(s)" in err


def test_html_is_read_as_prose_without_scripts_comments_or_tags(tmp_path, capsys):
    path = tmp_path / "listing.html"
    path.write_text(LISTING_HTML, encoding="utf-8")
    code, lines, _ = run(["check", str(path)], capsys)
    found = {m["sentence"]: (int(m["line"]), int(m["col"])) for m in map(LINE.match, lines)}
    assert code == 1
    assert found["Our syrup knocks out the flu in 24 hours."] == position(LISTING_HTML, "Our syrup")
    assert not any("cures" in sentence or "<" in sentence for sentence in found)


def test_fail_on_review_reports_more_and_a_clean_file_passes_silently(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("Magnesium is a mineral.\nStore in a cool, dry place.\n", encoding="utf-8")
    assert run(["check", str(path)], capsys) == (0, [], "")
    mild = tmp_path / "mild.txt"
    mild.write_text("Ashwagandha supports a calm mood.\n", encoding="utf-8")
    block_code, block_lines, _ = run(["check", str(mild)], capsys)
    review_code, review_lines, _ = run(["check", "--fail-on", "review", str(mild)], capsys)
    assert len(review_lines) >= len(block_lines) and review_code == 1
    assert (block_code == 1) == bool(block_lines)


def test_thresholds_can_be_overridden(tmp_path, capsys):
    path = tmp_path / "claim.txt"
    path.write_text("Turmeric cures arthritis.\n", encoding="utf-8")
    assert run(["check", "--block", "1.0", "--review", "1.0", str(path)], capsys)[0] == 0


def test_missing_and_binary_files_are_reported_and_the_others_checked(tmp_path, capsys):
    good = tmp_path / "claim.md"
    good.write_text("Turmeric cures arthritis.\n", encoding="utf-8")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x01cures")
    code, lines, err = run(["check", str(tmp_path / "gone.md"), str(binary), str(good)], capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"{good}:1:1: OC")
    assert "gone.md: no such file" in err and "image.txt: skipped, binary file" in err


def test_undecodable_bytes_do_not_stop_the_check(tmp_path, capsys):
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 cr\xe8me cures arthritis overnight.\n".encode("latin-1"))
    code, lines, _ = run(["check", str(path)], capsys)
    assert code == 1 and lines[0].startswith(f"{path}:1:1:")



@pytest.mark.parametrize("suffix, hidden", [
    (".html", "Turmeric cu<span></span>res arthritis."), (".html", "Turmeric c&#117;res arthritis."),
    (".html", "Turmeric <b>cu</b>res arthritis."), (".html", "Turmeric cu<!-- x -->res arthrit&shy;is."),
    (".md", "Turmeric cu**r**es arthritis."), (".md", "Turmeric c&#x75;res arthritis."),
    (".md", "Turmeric cu<i></i>res arthritis."),
])
def test_markup_or_a_character_reference_inside_a_word_does_not_hide_the_claim(tmp_path, capsys, suffix, hidden):
    """Regression: "cu<span></span>res" and "c&#117;res" were read as "cu res" and let the claim through."""
    clean, obfuscated = tmp_path / f"clean{suffix}", tmp_path / f"obfuscated{suffix}"
    clean.write_text("<p>Turmeric cures arthritis.</p>\n" if suffix == ".html" else "Turmeric cures arthritis.\n")
    obfuscated.write_text(f"<p>{hidden}</p>\n" if suffix == ".html" else hidden + "\n")
    _, expected, _ = run(["check", str(clean)], capsys)
    code, lines, _ = run(["check", str(obfuscated)], capsys)
    assert code == 1 and len(lines) == len(expected) == 1
    assert lines[0].split(": ", 1)[1] == expected[0].split(": ", 1)[1]  # same code, risk, rule and sentence

@pytest.mark.parametrize("kind, text", [("markdown", ARTICLE_MD), ("html", LISTING_HTML),
                                        ("text", "a\nb c\n\nd" * 50), ("markdown", "[x](y) `z` *w* | t |\n" * 30)])
def test_the_prose_view_keeps_every_offset(kind, text):
    view = prose_view(text, kind)
    assert len(view) == len(text)
    kept = [i for i, (a, b) in enumerate(zip(text, view)) if a == b and not a.isspace()]
    assert kept, "some prose survives"


def test_the_console_script_reports_the_documented_format(tmp_path):
    path = tmp_path / "claim.md"
    path.write_text("Intro line.\n\nOur kava is clinically proven to cure anxiety.\n", encoding="utf-8")
    done = subprocess.run([str(BIN), "check", "claim.md"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    match = LINE.match(done.stdout.splitlines()[0])
    assert match and match["path"] == "claim.md" and (match["line"], match["col"]) == ("3", "1")


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_the_repository_works_as_a_pre_commit_hook(tmp_path):
    """pre-commit installs overclaim from this repository into an environment of its own and runs the hook."""
    content = tmp_path / "content"
    content.mkdir()
    git = lambda *args: subprocess.run(["git", *args], cwd=content, check=True, capture_output=True)
    git("init", "-q")
    (content / "listing.md").write_text("# Kava\n\nOur kava cures anxiety, guaranteed.\n", encoding="utf-8")
    (content / "notes.md").write_text("Kava is a plant from the Pacific islands.\n", encoding="utf-8")
    git("add", ".")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    done = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "overclaim", "--all-files"],
                          cwd=content, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "listing.md:3:1: OC" in done.stdout and "notes.md" not in done.stdout.split("Failed")[-1]


CLAIM = "Turmeric cures arthritis."


def flagged(lines) -> dict:
    """Each text line's sentence -> (line, column)."""
    found = [LINE.match(line) for line in lines]
    assert all(found), lines
    return {m["sentence"]: (int(m["line"]), int(m["col"])) for m in found}


def test_title_with_a_greater_than_sign_does_not_leak_into_the_sentence(tmp_path, capsys):
    """Regression: the regex reader ended the tag at 'x >', so ' y">' was read into the sentence and its column."""
    page = f'<p title="x > y">{CLAIM}</p>\n'
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    code, lines, _ = run(["check", str(tmp_path / "page.html")], capsys)
    assert code == 1 and flagged(lines) == {CLAIM: position(page, CLAIM)}


def test_br_does_not_cut_a_sentence(tmp_path, capsys):
    """Regression: <br> was a block tag, so 'the flu<br>in 24 hours.' was read as two sentences."""
    page = "<p>Our syrup knocks out the flu<br>in 24 hours.</p>\n"
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    code, lines, _ = run(["check", str(tmp_path / "page.html")], capsys)
    assert code == 1 and list(flagged(lines)) == ["Our syrup knocks out the flu in 24 hours."]


SEEN_TEXT = {
    "meta description": f'<meta name="description" content="{CLAIM}">',
    "og:description": f'<meta property="og:description" content="{CLAIM}">',
    "image alt": f'<img src="t.png" alt="{CLAIM}">',
    "title attribute": f'<a href="/shop" title="{CLAIM}">Shop</a>',
    "svg text": f'<svg viewBox="0 0 10 10"><text x="0" y="5">{CLAIM}</text></svg>',
    "noscript": f"<noscript><p>{CLAIM}</p></noscript>",
    "json-ld": '<script type="application/ld+json">{"@type": "Product", "name": "Joint+", '
               f'"description": "{CLAIM}"}}</script>',
}


@pytest.mark.parametrize("markup", SEEN_TEXT.values(), ids=list(SEEN_TEXT))
def test_text_that_readers_or_search_engines_see_is_checked(tmp_path, capsys, markup):
    """Regression: attributes, <meta>, SVG <text>, <noscript> and JSON-LD were blanked and never checked."""
    page = f"<html><head><title>Joint+</title></head>\n<body>\n{markup}\n</body></html>\n"
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    code, lines, _ = run(["check", str(tmp_path / "page.html")], capsys)
    assert code == 1 and flagged(lines) == {CLAIM: position(page, CLAIM)}


@pytest.mark.parametrize("markdown", [f"![{CLAIM}](turmeric.png)", f'See [our shop](https://example.org "{CLAIM}").'],
                         ids=["image alt", "link title"])
def test_markdown_image_descriptions_and_link_titles_are_checked(tmp_path, capsys, markdown):
    """Regression: images were blanked whole, and a link's title with them."""
    text = f"# Turmeric\n\n{markdown}\n"
    (tmp_path / "page.md").write_text(text, encoding="utf-8")
    code, lines, _ = run(["check", str(tmp_path / "page.md")], capsys)
    assert code == 1 and flagged(lines) == {CLAIM: position(text, CLAIM)}


def test_markdown_table_cells_and_escapes_are_read_by_a_commonmark_parser(tmp_path, capsys):
    text = f"| Product | Claim |\n|---|---|\n| Joint+ | {CLAIM} |\n\nKava c&#117;res anxiety, guaranteed \\*.\n"
    (tmp_path / "page.md").write_text(text, encoding="utf-8")
    code, lines, _ = run(["check", str(tmp_path / "page.md")], capsys)
    found = flagged(lines)
    assert code == 1 and found[CLAIM] == position(text, CLAIM)
    assert found["Kava cures anxiety, guaranteed *."] == position(text, "Kava")


@pytest.mark.parametrize("encoding, data", [
    ("utf-16 with BOM", CLAIM.encode("utf-16")), ("utf-16-le without BOM", CLAIM.encode("utf-16-le")),
    ("utf-16-be without BOM", CLAIM.encode("utf-16-be")), ("utf-32 with BOM", CLAIM.encode("utf-32")),
    ("utf-8 with BOM", CLAIM.encode("utf-8-sig")), ("utf-8 with a NUL byte", b"Intro.\0\n" + CLAIM.encode()),
])
def test_utf16_files_and_a_nul_byte_are_decoded_not_skipped(tmp_path, capsys, encoding, data):
    """Regression: any NUL byte made the file 'binary': skipped, exit 0."""
    path = tmp_path / "claim.txt"
    path.write_bytes(data + b"\n" if "NUL" in encoding else data)
    code, lines, err = run(["check", str(path)], capsys)
    assert code == 1 and "skipped" not in err and list(flagged(lines)) == [CLAIM]


SUPPRESSED_MD = f"""# Joint+

<!-- overclaim: ignore -->
{CLAIM}

Kava cures anxiety, guaranteed.
"""


def test_an_ignore_comment_silences_the_next_block_only(tmp_path, capsys):
    (tmp_path / "page.md").write_text(SUPPRESSED_MD, encoding="utf-8")
    code, lines, _ = run(["check", str(tmp_path / "page.md")], capsys)
    assert code == 1 and flagged(lines) == {"Kava cures anxiety, guaranteed.": (6, 1)}


@pytest.mark.parametrize("comment, silenced", [
    ("<!-- overclaim: disable=OC1 -->", True), ("<!-- overclaim: disable=OC201, OC202 -->", False),
    ("<!-- overclaim: disable-file -->", True), ("<!-- overclaim: disable-file=OC2 -->", False),
])
def test_disable_comments_silence_their_codes_in_the_next_block_or_the_file(tmp_path, capsys, comment, silenced):
    where = "file" in comment
    page = (f"<html><body>{comment if where else ''}<p>Intro.</p>\n<section><h2>Joint+</h2>\n"
            f"{'' if where else comment}<p>{CLAIM}</p></section></body></html>\n")
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    code, lines, _ = run(["check", str(tmp_path / "page.html")], capsys)
    assert (code, bool(lines)) == ((0, False) if silenced else (1, True))


def test_a_plain_text_file_is_silenced_by_a_line_of_its_own(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text(f"# overclaim: ignore\n{CLAIM}\n\nKava cures anxiety, guaranteed.\n", encoding="utf-8")
    code, lines, _ = run(["check", str(path)], capsys)
    assert code == 1 and list(flagged(lines)) == ["Kava cures anxiety, guaranteed."]


def test_an_unknown_code_in_a_comment_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "page.md"
    path.write_text(f"Intro.\n\n<!-- overclaim: disable=OC909 -->\n{CLAIM}\n", encoding="utf-8")
    code, lines, err = run(["check", str(path)], capsys)
    assert code == 2 and lines == []
    assert err.strip() == (f"overclaim: error: {path}:3: overclaim comment: unknown code 'OC909'; codes are "
                           f"{', '.join(CODES.values())} (a prefix such as OC1 stands for a group)")


def test_select_and_ignore_take_code_prefixes(tmp_path, capsys):
    path = tmp_path / "claim.txt"
    path.write_text(CLAIM + "\n", encoding="utf-8")
    assert run(["check", str(path)], capsys)[0] == 1
    assert run(["check", "--select", "OC2", str(path)], capsys)[0] == 0
    assert run(["check", "--ignore", "OC1", str(path)], capsys)[0] == 0
    assert run(["check", "--select", "OC1,OC2", "--ignore", "OC2", str(path)], capsys)[0] == 1
    code, _, err = run(["check", "--select", "OC3", str(path)], capsys)
    assert code == 2 and "--select: unknown code 'OC3'" in err and len(err.splitlines()) == 1


def test_settings_come_from_the_nearest_config_and_the_command_line_overrides_them(tmp_path, capsys, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "site"\n\n[tool.overclaim]\nformat = "json"\n'
                                             'exclude = ["docs/drafts/*"]\n', encoding="utf-8")
    (tmp_path / "docs" / "drafts").mkdir(parents=True)
    for name in ("docs/page.md", "docs/drafts/page.md"):
        (tmp_path / name).write_text(CLAIM + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "docs")
    code, lines, _ = run(["check", "page.md", "drafts/page.md"], capsys)
    import json
    assert code == 1 and [f["path"] for f in json.loads("\n".join(lines))] == ["page.md"]
    code, lines, _ = run(["check", "--format", "text", "page.md"], capsys)
    assert code == 1 and flagged(lines) == {CLAIM: (1, 1)}
    (tmp_path / "docs" / ".overclaim.toml").write_text('ignore = ["OC1"]\n', encoding="utf-8")
    assert run(["check", "page.md"], capsys)[:2] == (0, [])  # the nearer file wins, and has no format: text


@pytest.mark.parametrize("settings, message", [
    ('fail_on = "review"\n', "unknown key 'fail_on'; known keys: fail-on, select, ignore, policy, format, exclude"),
    ('format = "xml"\n', "format must be one of text, json, sarif, got 'xml'"),
    ("select = 'OC1'\n", "select must be a list of strings, got 'OC1'"),
    ("select = [\n", "not valid TOML"),
])
def test_a_bad_config_is_a_one_line_error_naming_the_file(tmp_path, capsys, monkeypatch, settings, message):
    (tmp_path / ".overclaim.toml").write_text(settings, encoding="utf-8")
    (tmp_path / "page.md").write_text(CLAIM + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, lines, err = run(["check", "page.md"], capsys)
    assert code == 2 and lines == [] and len(err.splitlines()) == 1
    assert err.startswith(f"overclaim: error: {tmp_path / '.overclaim.toml'}: ") and message in err


def test_json_output_is_one_document_of_findings(tmp_path, capsys):
    import json
    text = f"Intro.\n\nBuy now. {CLAIM}\n"
    (tmp_path / "page.md").write_text(text, encoding="utf-8")
    code, lines, _ = run(["check", "--format", "json", str(tmp_path / "page.md")], capsys)
    (finding,) = json.loads("\n".join(lines))
    line, column = position(text, CLAIM)
    assert code == 1 and finding["code"] == CODES[finding["reason"]] and finding["sentence"] == CLAIM
    assert (finding["line"], finding["column"], finding["end_line"], finding["end_column"]) == \
           (line, column, line, column + len(CLAIM))
    assert set(finding) >= {"path", "risk", "decision", "rule", "claim_types"}


def test_sarif_output_is_valid_sarif_2_1_0(tmp_path, capsys):
    import json

    import jsonschema
    schema = json.loads((ROOT / "tests" / "sarif-schema-2.1.0-rtm.4.json").read_text(encoding="utf-8"))
    (tmp_path / "page.md").write_text(f"# Joint+\n\n{CLAIM}\n", encoding="utf-8")
    (tmp_path / "clean.md").write_text("Magnesium is a mineral.\n", encoding="utf-8")
    code, lines, _ = run(["check", "--format", "sarif", str(tmp_path / "page.md"), str(tmp_path / "clean.md")],
                         capsys)
    log = json.loads("\n".join(lines))
    jsonschema.Draft4Validator(schema).validate(log)
    run_ = log["runs"][0]
    assert code == 1 and {rule["id"] for rule in run_["tool"]["driver"]["rules"]} == set(CODES.values())
    (result,) = run_["results"]
    assert result["level"] == "error" and run_["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (3, 1, 1 + len(CLAIM))
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):  # the schema does check what we write
        jsonschema.Draft4Validator(schema).validate(broken)


def test_stdin_is_checked_as_the_kind_its_stdin_filename_says(tmp_path):
    page = f'<p title="a > b">{CLAIM}</p>\n'.encode("utf-16")
    done = subprocess.run([str(BIN), "check", "-", "--stdin-filename", "site/page.html"], input=page,
                          capture_output=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stdout.decode().splitlines()[0].startswith("site/page.html:1:18: OC")
    done = subprocess.run([str(BIN), "check", "--stdin-filename", "x.md", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "pass '-'" in done.stderr


def test_a_comment_shown_in_a_code_block_suppresses_nothing(tmp_path, capsys):
    """Documentation about suppressions quotes them in code: only comments the parser reads as comments count."""
    text = f"# Suppressions\n\n```html\n<!-- overclaim: disable-file -->\n```\n\n{CLAIM}\n"
    (tmp_path / "page.md").write_text(text, encoding="utf-8")
    code, lines, _ = run(["check", str(tmp_path / "page.md")], capsys)
    assert code == 1 and flagged(lines) == {CLAIM: position(text, CLAIM)}


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_markdown_with_crlf_or_cr_line_ends_is_read_at_its_positions(tmp_path, capsys, newline):
    text = newline.join(["# Joint+", "", "Intro.", "", "Kava cures anxiety", "overnight, guaranteed.", ""])
    (tmp_path / "page.md").write_bytes(text.encode())
    code, lines, _ = run(["check", str(tmp_path / "page.md")], capsys)
    assert code == 1 and flagged(lines) == {"Kava cures anxiety overnight, guaranteed.": (5, 1)}


def test_a_named_config_file_acts_as_its_flags_would(tmp_path, capsys):
    settings = tmp_path / "lint.toml"
    settings.write_text('fail-on = "review"\npolicy = "strict-eu"\nselect = ["OC1"]\n', encoding="utf-8")
    path = tmp_path / "mild.md"
    path.write_text("Ashwagandha supports a calm mood. Zinc helps your immune system.\n\nStudies show it works.\n",
                    encoding="utf-8")
    by_flags = run(["check", "--fail-on", "review", "--policy", "strict-eu", "--select", "OC1", str(path)], capsys)
    assert run(["check", "--config", str(settings), str(path)], capsys) == by_flags
    assert by_flags[0] == 1 and by_flags[1] != run(["check", str(path)], capsys)[1]
