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
