"""Data tests: the committed corpus keeps every rule of data/ANNOTATION.md and of the corpus issue.

Each rule is checked twice: on the real corpus (it holds), and on a small broken copy (the check catches it).
"""
import hashlib

import pandas as pd
import pytest

from train import corpus

SEED_SHA256 = {
    "000_b398e186910457ca.txt": "cc38ec597307668b0f0ca654c166181caf087e2bdcb316b28a04f122c69aecc7",
    "001_172e478f6181e6dc.txt": "5fac7c1c539567b259932d283a9a94a1e3e72177af9beb6e33f1f47a6d5d2ed2",
    "002_3a531d0bcd85453c.txt": "bacf10e419431caafe85fe81f64aa60b2d619f7831e63af205cba82e74919bbd",
    "003_3c7b6f38a6d09be9.txt": "650b6295cea35be9aa493ed486902885716d999a159071d2a55e37f9b767c23b",
    "004_ee0c370f8133a626.txt": "de5cf06cce090a14f11b92c10d347143179f4195f36f6e2078ad84e75cf1d515",
}


@pytest.fixture(scope="module")
def frame():
    return corpus.load()


@pytest.fixture(scope="module")
def raw():
    return corpus.read_raw()


def test_raw_seed_documents_are_the_five_seeds_byte_for_byte():
    found = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus.RAW_DIR.glob("*.txt")}
    assert found == SEED_SHA256


def test_whole_corpus_validates(frame, raw):
    assert corpus.violations(frame, raw) == []


def test_schema_has_every_column_and_only_allowed_labels(frame, raw):
    assert list(frame.columns[: len(corpus.COLUMNS)]) == corpus.COLUMNS
    assert set(frame["claim"]) == set(corpus.CLAIMS)
    assert set(frame["citation"]) == set(corpus.CITATIONS)
    assert set(frame["hedging"]) == set(corpus.HEDGING)
    assert set(frame["genre"]) == set(corpus.GENRES)
    assert corpus.check_schema(frame, raw) == []


def test_schema_check_names_the_row_with_a_bad_label(frame, raw):
    broken = frame.copy()
    broken.loc[5, "claim"] = "maybe"
    found = corpus.check_schema(broken, raw)
    assert [(v.rule, v.row) for v in found] == [("claim label", broken.loc[5, "id"])]


def test_schema_check_names_the_row_with_a_bad_hedging_label(frame, raw):
    broken = frame.copy()
    broken.loc[7, "hedging"] = "0.5"
    found = corpus.check_schema(broken, raw)
    assert [(v.rule, v.row) for v in found] == [("hedging label", broken.loc[7, "id"])]


def test_every_register_the_transfer_issue_asked_for_has_rows_in_human_voices(frame):
    written = frame[frame["source"] == corpus.WRITTEN]
    counts = written["genre"].value_counts()
    assert all(counts.get(genre, 0) >= 150 for genre in ("abstract", "reference", "label", "regulatory", "news",
                                                          "press_release", "forum_answer", "social_post"))
    # both hedging values within every genre, so that the register does not predict tentative wording
    assert (frame.groupby("genre")["hedging"].nunique() == 2).all()


def test_seed_rows_point_at_their_text_in_the_raw_file(frame, raw):
    seeds = frame[frame["source"] != corpus.WRITTEN]
    assert set(seeds["source"]) == set(raw)
    for row in seeds.itertuples():
        assert raw[row.source][row.start : row.end] == row.text
    assert corpus.check_seed_offsets(frame, raw) == []


def test_offset_check_catches_a_shifted_span(frame, raw):
    broken = frame.copy()
    seed = broken.index[broken["source"] != corpus.WRITTEN][3]
    broken.loc[seed, "start"] += 1
    rules = {v.rule for v in corpus.check_seed_offsets(broken, raw)}
    assert rules == {"offsets", "stable id"}


def test_every_seed_character_is_in_exactly_one_row(frame, raw):
    assert corpus.check_seed_coverage(frame, raw) == []


def test_coverage_check_catches_a_dropped_heading(frame, raw):
    seed = frame.index[frame["source"] != corpus.WRITTEN][0]
    found = corpus.check_seed_coverage(frame.drop(index=seed), raw)
    assert [v.rule for v in found] == ["seed coverage"]


def test_no_text_appears_twice_except_a_seed_repeating_itself(frame, raw):
    assert corpus.check_duplicates(frame, raw) == []
    broken = pd.concat([frame, frame[frame["source"] == corpus.WRITTEN].head(1)])
    assert [v.rule for v in corpus.check_duplicates(broken, raw)] == ["duplicate text"]


def test_written_extension_is_large_and_varied(frame, raw):
    written = frame[frame["source"] == corpus.WRITTEN]
    assert len(written) >= 1500
    assert written["supplement"].nunique() - ("general" in set(written["supplement"])) >= 30
    assert written["genre"].nunique() >= 5
    for citation in ("vague", "unverifiable", "verifiable"):
        assert (frame["citation"] == citation).sum() >= 100
    assert corpus.check_written_extension(frame, raw) == []


def test_each_claim_class_is_a_fifth_and_kratom_is_under_a_fifth(frame, raw):
    shares = frame["claim"].value_counts(normalize=True)
    assert shares.min() >= 0.20
    assert corpus.check_balance(frame, raw) == []
    kratom_only = frame[frame["supplement"] == "kratom"]
    assert [v.rule for v in corpus.check_balance(kratom_only, raw)] == ["kratom share"]


def test_no_supplement_predicts_a_label(frame, raw):
    assert corpus.check_supplement_labels(frame, raw) == []
    broken = frame[~((frame["supplement"] == "zinc") & (frame["claim"] == "hedged"))]
    assert [(v.rule, v.row) for v in corpus.check_supplement_labels(broken, raw)] == [("supplement labels", "zinc")]


def test_written_rows_are_not_templates(frame, raw):
    assert corpus.check_templates(frame, raw) == []
    written = frame[frame["source"] == corpus.WRITTEN].head(40).copy()
    written["text"] = [f"{name} cures everything." for name in ["Zinc", "CBD", "Kava", "Biotin"] * 10]
    assert [v.rule for v in corpus.check_templates(written, raw)] == ["template"]


def test_masking_hides_product_names_but_keeps_claim_words():
    assert corpus.masked("Vitamin D3 cures COVID!") == corpus.masked("Ashwagandha cures COVID.")
    assert corpus.masked("Vitamin D3 cures COVID!") != corpus.masked("Vitamin D3 may ease COVID!")


def test_contrastive_pairs_link_different_claims_of_one_supplement(frame, raw):
    pairs = frame[frame["pair"] != ""].groupby("pair")
    assert sum(set(g["claim"]) == set(corpus.CLAIMS) for _, g in pairs) >= 100
    assert corpus.check_pairs(frame, raw) == []


def test_ids_are_unique_and_derived(frame, raw):
    assert frame["id"].is_unique
    seeds = frame[frame["source"] != corpus.WRITTEN]
    assert (seeds["id"] == [f"s{s[:3]}-{start:05d}" for s, start in zip(seeds["source"], seeds["start"])]).all()
    assert frame.loc[frame["source"] == corpus.WRITTEN, "id"].str.fullmatch(r"w\d{5}").all()


def test_validate_fails_loudly_with_row_and_rule(tmp_path, frame):
    broken = frame.copy()
    broken.loc[0, "citation"] = "solid"
    path = tmp_path / "corpus.csv"
    broken.to_csv(path, index=False)
    with pytest.raises(corpus.CorpusError, match=rf"citation label: row {frame.loc[0, 'id']}: 'solid'"):
        corpus.validate(path)
