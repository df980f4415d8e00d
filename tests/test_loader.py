"""The loader checks a model directory before trusting it, and the committed model is not stale."""
import asyncio
import json
import os
import pickle
import shutil
import subprocess

import pandas as pd
import pytest
import skops.io
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import overclaim
from conftest import BIN, running_server
from overclaim import dask_engine
from overclaim.cli import main
from overclaim.loader import (ARTIFACT, BUNDLED_DIR, META, PIN_ENV, TRUSTED_TYPES, ModelError, load_model,
                              sha256_of)
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


def test_tampered_artifact_is_refused_before_it_is_parsed(model_copy):
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


# --- Model trust: no code runs from a model file, and the artifact's digest can be pinned from outside it. ---

BUNDLED_SHA = json.loads((BUNDLED_DIR / META).read_text())["sha256"]
WRONG_SHA = "0" * 64


class _Payload:
    """Unpickling this object creates ``marker``: a harmless stand-in for code an attacker would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _replace_artifact(directory, data: bytes):
    """Write ``data`` as the artifact and a meta.json whose sha256 matches it, as an attacker with write access can."""
    (directory / ARTIFACT).write_bytes(data)
    meta = json.loads((directory / META).read_text())
    meta["sha256"] = sha256_of(directory / ARTIFACT)
    (directory / META).write_text(json.dumps(meta))


def test_model_trust_pickle_with_matching_meta_sha256_is_not_executed(model_copy, tmp_path):
    marker = tmp_path / "code-ran"
    _replace_artifact(model_copy, pickle.dumps(_Payload(marker)))
    with pytest.raises(Exception) as error:
        load_model(model_copy)
    assert not marker.exists(), "loading the model ran code from the file"
    assert error.type is ModelError and "is not a readable skops model" in str(error.value)
    assert "\n" not in str(error.value)


def test_model_trust_skops_file_naming_posix_system_is_refused_before_it_is_built(model_copy):
    # A pipeline that would hand every scored text to the shell; skops stores os.system by name.
    _replace_artifact(model_copy, skops.io.dumps(Pipeline([("run", FunctionTransformer(os.system))])))
    with pytest.raises(ModelError, match=r"names types overclaim does not trust \(.*posix\.system") as error:
        load_model(model_copy)
    assert "\n" not in str(error.value)


def test_model_trust_skops_file_of_trusted_types_but_no_fitted_pipeline_is_one_line(model_copy):
    _replace_artifact(model_copy, skops.io.dumps({"pipeline": {"classes": [1]}, "serving": {}}))
    with pytest.raises(ModelError, match="is not an overclaim model"):
        load_model(model_copy)


def test_model_trust_old_joblib_model_directory_is_refused_with_a_retrain_hint(model_copy, tmp_path):
    marker = tmp_path / "code-ran"
    (model_copy / ARTIFACT).unlink()
    (model_copy / "overclaim.joblib").write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ModelError, match="pickled model from an older overclaim.*retrain it with 'python -m train"):
        load_model(model_copy)
    assert not marker.exists()


def test_model_trust_list_is_exactly_the_types_the_bundled_artifact_needs():
    # A new type in the pipeline fails here until it is reviewed and added to TRUSTED_TYPES.
    assert skops.io.get_untrusted_types(file=BUNDLED_DIR / ARTIFACT) == sorted(TRUSTED_TYPES)
    assert not [t for t in TRUSTED_TYPES if t.startswith(("builtins.", "posix.", "os.", "subprocess."))]


def test_model_sha256_pin_wrong_is_refused_before_meta_or_artifact_are_parsed(model_copy):
    (model_copy / META).write_text("not json")
    with pytest.raises(ModelError, match=f"has sha256 {BUNDLED_SHA}, not the pinned {WRONG_SHA}: refusing"):
        load_model(model_copy, sha256=WRONG_SHA)


def test_model_sha256_pin_right_loads_and_a_malformed_pin_is_one_line(model_copy):
    assert overclaim.load(model_copy, sha256=BUNDLED_SHA.upper()).model.meta["sha256"] == BUNDLED_SHA
    with pytest.raises(ModelError, match="must be 64 hex digits"):
        overclaim.load(sha256="abc")
    with pytest.raises(ModelError, match="not the pinned"):
        overclaim.load(model_copy, sha256=WRONG_SHA)


@pytest.mark.parametrize("key, value", [("thresholds", {"review": 1.0, "block": 1.0}), ("risk_label", "neutral")])
def test_model_sha256_pin_covers_what_the_scorer_reads_from_meta_json(model_copy, key, value):
    # An attacker who cannot replace the pinned artifact rewrites meta.json instead: everything allowed, or the
    # risk read from the "neutral" column.
    meta = json.loads((model_copy / META).read_text())
    meta[key] = value
    (model_copy / META).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=f"disagrees with .*{ARTIFACT} on {key}: it was changed after training"):
        overclaim.load(model_copy, sha256=BUNDLED_SHA)


def test_model_sha256_pin_from_the_environment(model_copy, monkeypatch):
    monkeypatch.setenv(PIN_ENV, WRONG_SHA)
    with pytest.raises(ModelError, match="not the pinned"):
        load_model(model_copy)
    monkeypatch.setenv(PIN_ENV, BUNDLED_SHA)
    assert load_model(model_copy).meta["sha256"] == BUNDLED_SHA


@pytest.fixture
def listing_csv(tmp_path):
    path = tmp_path / "in.csv"
    pd.DataFrame({"title": ["Turmeric cures arthritis.", "Take one capsule daily."] * 3}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("command", [
    ["score", "Turmeric cures arthritis."],
    ["check", "{readme}"],
    ["batch", "{csv}", "-o", "{out}", "--text-column", "title", "--quiet", "--jobs", "2"],
    ["batch", "{csv}", "-o", "{out_dir}", "--text-column", "title", "--quiet", "--engine", "dask", "--jobs", "1"],
], ids=["score", "check", "batch", "batch-dask"])
def test_model_sha256_flag_on_every_command(command, capsys, tmp_path, listing_csv, model_copy):
    readme = tmp_path / "page.md"
    readme.write_text("Take one capsule daily.\n")
    argv = [a.format(readme=readme, csv=listing_csv, out=tmp_path / "out.csv", out_dir=tmp_path / "out_dir.csv")
            for a in command]
    assert main([*argv, "--model", str(model_copy), "--model-sha256", WRONG_SHA]) == 2
    err = capsys.readouterr().err
    assert "not the pinned" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out_dir.csv").exists()
    assert main([*argv, "--model", str(model_copy), "--model-sha256", BUNDLED_SHA]) == 0, capsys.readouterr().err


def test_model_sha256_dask_workers_load_only_the_clients_digest(model_copy):
    # What each worker runs on its first partition, given the client's model digest.
    with pytest.raises(ModelError, match="not the pinned"):
        dask_engine._worker_scorer(str(model_copy), 0.5, 0.8, WRONG_SHA, None)
    assert dask_engine._worker_scorer(str(model_copy), 0.5, 0.8, BUNDLED_SHA, None).model.meta["sha256"] == BUNDLED_SHA


def test_model_sha256_flag_on_moderate():
    line = json.dumps({"id": 1, "text": "Turmeric cures arthritis."}) + "\n"
    wrong = subprocess.run([str(BIN), "moderate", "--model-sha256", WRONG_SHA], input=line, capture_output=True,
                           text=True, timeout=120)
    assert wrong.returncode == 2 and "not the pinned" in wrong.stderr and wrong.stdout == ""
    right = subprocess.run([str(BIN), "moderate", "--model-sha256", BUNDLED_SHA], input=line, capture_output=True,
                           text=True, timeout=120)
    assert right.returncode == 0 and json.loads(right.stdout)["id"] == 1


def test_model_sha256_serve_refuses_a_wrong_pin_in_one_line_and_serves_the_pinned_model(tmp_path):
    wrong = subprocess.run([str(BIN), "serve", "--model-sha256", WRONG_SHA, "--port", "0"], capture_output=True,
                           text=True, timeout=60)
    assert wrong.returncode == 2 and "not the pinned" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    env = {**os.environ, PIN_ENV: BUNDLED_SHA}
    with running_server([BIN, "serve", "--workers", "1"], tmp_path, env=env) as live:
        status, _, body = live.request("GET", "/readyz")
    assert status == 200 and body["model"]["sha256"] == BUNDLED_SHA


def test_model_sha256_scoring_processes_check_the_pin_themselves():
    from overclaim.batching import MicroBatcher

    async def start(pin):
        batcher = MicroBatcher(workers=1, model_sha256=pin)
        try:
            await batcher.start()
            return batcher.model["sha256"]
        finally:
            batcher.close()

    # A process that refuses the model says why in one line, and the server never becomes ready.
    with pytest.raises(ModelError, match=f"not the pinned {WRONG_SHA}"):
        asyncio.run(start(WRONG_SHA))
    assert asyncio.run(start(BUNDLED_SHA)) == BUNDLED_SHA
