"""The loader checks a model directory before trusting it, and the committed model is not stale."""
import json
import shutil

import pytest

import overclaim
from overclaim.loader import ARTIFACT, BUNDLED_DIR, META, ModelError, load_model, sha256_of
from train import corpus


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(BUNDLED_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def test_committed_model_was_trained_on_the_committed_corpus():
    meta = json.loads((BUNDLED_DIR / META).read_text())
    assert meta["corpus_sha256"] == sha256_of(corpus.CORPUS), "data/corpus.csv changed: run 'make train'"


def test_meta_labels_come_from_the_fitted_classes():
    model = load_model()
    assert model.labels == {t: [str(c) for c in cs] for t, cs in zip(model.meta["targets"], model.pipeline.classes_)}
    assert set(model.labels["claim"]) == {"overclaim", "hedged", "neutral"}
    assert set(model.labels["citation"]) == {"none", "vague", "unverifiable", "verifiable"}
    assert 0 <= model.thresholds["review"] <= model.thresholds["block"] <= 1


def test_a_copied_model_directory_loads_the_same_way(model_copy):
    scorer = overclaim.load(model_copy)
    assert scorer.score("Turmeric cures cancer.").risk == overclaim.load().score("Turmeric cures cancer.").risk


def test_tampered_artifact_is_refused_before_unpickling(model_copy):
    with open(model_copy / ARTIFACT, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="does not match the sha256"):
        load_model(model_copy)


def test_other_scikit_learn_version_is_refused(model_copy):
    meta = json.loads((model_copy / META).read_text())
    meta["sklearn_version"] = "0.24.2"
    (model_copy / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        load_model(model_copy)


def test_directory_without_a_model_is_a_one_line_error(tmp_path):
    with pytest.raises(ModelError, match="is not a model directory") as error:
        load_model(tmp_path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("key", ["targets", "thresholds", "labels", "risk_label"])
def test_meta_json_with_a_missing_key_is_a_one_line_error_not_a_traceback(model_copy, key):
    meta = json.loads((model_copy / META).read_text())
    del meta[key]
    (model_copy / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=f"lacks {key}: it was not written by 'python -m train'"):
        load_model(model_copy)
