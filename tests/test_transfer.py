"""The transfer report: zero-shot figures on public, human-labeled text, read from ../shared/external/ when it is
there (it is never committed, and never trained on)."""
import json
import re

import pytest

from overclaim.loader import BUNDLED_DIR, META, load_model
from train import corpus, transfer

SETS = transfer.load_sets()
needs_sets = pytest.mark.skipif(SETS is None, reason=f"no external development sets in {transfer.EXTERNAL}")


def test_without_the_external_sets_the_report_says_so_in_one_line_and_succeeds(tmp_path, capsys):
    assert transfer.main(["--external", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "skipped" in out


@needs_sets
def test_the_shipped_model_card_and_meta_hold_the_report_a_fresh_run_gives(capsys):
    shipped = json.loads((BUNDLED_DIR / META).read_text(encoding="utf-8"))["transfer"]
    fresh = transfer.report(load_model(None), corpus.load())
    assert fresh["thresholds"] == shipped["thresholds"]
    for system, figures in fresh["systems"].items():
        for key, value in figures.items():
            assert value == pytest.approx(shipped["systems"][system][key], abs=1e-6), (system, key)
    assert transfer.main([]) == 0
    printed = capsys.readouterr().out
    assert "pubmed_causal" in printed and "factbank_uncertainty" in printed and "supplement_dev" in printed


def _runs(text, n=10):
    words = re.findall(r"[a-z0-9]+", str(text).lower())
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


@needs_sets
def test_no_corpus_sentence_shares_ten_words_in_a_row_with_an_external_sentence():
    external = set().union(*(_runs(t) for frame in SETS.values() for t in frame["text"]))
    frame = corpus.load()
    copied = [row.id for row in frame.itertuples() if _runs(row.text) & external]
    assert copied == []
