"""Adversarial text of 100,000 characters is read in linear time on every surface.

Each string below once made a pattern backtrack quadratically, or is of their shape: "A-" * 50,000 took minutes
in the brand mask, "[a](" * 25,000 48 s, "<script>" * 12,500 75 s (a blank line against the table-rule pattern)
and "<!--" * 25,000 10 s in the Markdown and HTML reader. A surface that is quadratic again
takes minutes on one of them, far past the generous subprocess timeouts here (which are guards against that
order of growth, not speed targets: `make bench` measures speed).
"""
import json
import subprocess
import sys

import pytest

from conftest import BIN
from overclaim.scorer import MAX_CHARS, MAX_SENTENCES_PER_TEXT
from overclaim.sentences import sentence_spans

N = MAX_CHARS


def fill(unit: str, end: str = "") -> str:
    """``unit`` repeated to exactly ``N`` characters, the last of them ``end``."""
    return (unit * (N // len(unit) + 1))[: N - len(end)] + end


ADVERSARIAL = {
    "brand": fill("A-"),
    "brand_marked": fill("A", "™"),
    "words": fill("A "),
    "abbreviations": fill("Dr. "),
    "initials": fill("J. "),
    "parentheses": fill("("),
    "link": fill("[a]("),
    "image": fill("!["),
    "code": fill("`"),
    "fence": fill("```"),
    "comment": fill("<!--"),
    "cdata": fill("<![CDATA["),
    "script": fill("<script>"),
    "tag": fill("<a "),
    "autolink": fill("<http://", " "),
    "entity": fill("&#"),
    "citation": fill("Smith et al. ("),
    "doi": fill("doi:10."),
    "lines": fill("a\n"),
    "blanks": fill(" "),
    "table": fill("| "),
    "underscores": fill("_"),
}
# Far beyond what linear reading of all of them takes on a 2-core machine (~30 s), far below quadratic (hours).
TIMEOUT = 600


def run(args, **kwargs):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


def test_the_strings_are_as_long_as_a_text_may_be():
    assert {len(text) for text in ADVERSARIAL.values()} == {N}


def test_the_python_api_scores_every_adversarial_string():
    code = ("import json, sys, overclaim; s = overclaim.load(); texts = json.load(sys.stdin);"
            "print(json.dumps([s.score(t).decision for t in texts]))")
    done = run([sys.executable, "-c", code], input=json.dumps(list(ADVERSARIAL.values())))
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == len(ADVERSARIAL)


@pytest.mark.parametrize("suffix", [".md", ".html", ".txt"])
def test_check_reads_every_adversarial_file(tmp_path, suffix):
    paths = []
    for name, text in ADVERSARIAL.items():
        paths.append(tmp_path / f"{name}{suffix}")
        paths[-1].write_text(text, encoding="utf-8")
    done = run([BIN, "check", "--fail-on", "review", *paths])
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr


def test_moderate_and_batch_score_every_adversarial_string(tmp_path):
    lines = "".join(json.dumps({"id": name, "text": text}) + "\n" for name, text in ADVERSARIAL.items())
    done = run([BIN, "moderate"], input=lines)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == list(ADVERSARIAL)

    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(lines, encoding="utf-8")
    done = run([BIN, "batch", source, "-o", out, "--text-column", "text", "--quiet"])
    assert done.returncode == 0, done.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(ADVERSARIAL)


def test_the_http_service_scores_every_adversarial_string(server):
    """Or refuses it in one line when it has more sentences than a request may bring."""
    for name, text in ADVERSARIAL.items():
        status, _, body = server.post("/v1/score", {"text": text})
        if len(sentence_spans(text)) > MAX_SENTENCES_PER_TEXT:
            assert status == 422 and "sentences, over the limit" in body["error"], (name, body)
        else:
            assert status == 200, (name, body)


CLAIMS = [
    "Turmeric cures arthritis.",
    "Our elderberry syrup knocks out the flu in 24 hours.",
    "Completely safe, with no side effects at all.",
    "Clinically proven to reverse diabetes.",
    "Berberine works like metformin.",
    "Colloidal silver is a natural antibiotic that kills 650 pathogens.",
    "Ashwagandha cures anxiety in just 7 days.",
]
HIDING = {
    "zero-width space in every word": lambda w: w[:1] + "\u200b" + w[1:],
    "soft hyphen in every word": lambda w: w[:2] + "\u00ad" + w[2:],
    "word joiner and direction mark": lambda w: "\u2060" + w + "\u200e",
    "fullwidth letters": lambda w: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w),
}


@pytest.mark.parametrize("hide", HIDING.values(), ids=list(HIDING))
def test_invisible_or_fullwidth_characters_do_not_change_a_decision(scorer, hide):
    for claim in CLAIMS:
        hidden = " ".join(hide(word) for word in claim.split(" "))
        clean, obfuscated = scorer.score(claim), scorer.score(hidden)
        assert (obfuscated.decision, obfuscated.claim_types) == (clean.decision, clean.claim_types), hidden
        assert obfuscated.risk == pytest.approx(clean.risk, abs=1e-9)
        assert hidden[obfuscated.sentences[0]["start"]:obfuscated.sentences[0]["end"]] == obfuscated.sentences[0]["text"]


def test_the_format_characters_removed_are_exactly_unicodes_category_cf():
    import unicodedata

    from overclaim.masking import FORMAT_CHARACTERS
    if unicodedata.unidata_version != "14.0.0":
        pytest.skip(f"the list is Unicode 14's; this Python has {unicodedata.unidata_version}")
    removed = {c for c in range(sys.maxunicode + 1) if FORMAT_CHARACTERS.match(chr(c))}
    assert removed == {c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"}
