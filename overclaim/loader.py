"""Load a model directory, checking it before trusting it.

A model directory holds ``overclaim.joblib`` and ``meta.json``. The artifact's sha256 is checked against
``meta.json`` *before* it is unpickled, then the scikit-learn version it was trained with and the labels it
declares. Each directory is loaded once per process.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import joblib
import sklearn

import overclaim.model as bundled

ARTIFACT = "overclaim.joblib"
META = "meta.json"
# What a scorer reads from meta.json besides the metrics.
REQUIRED_META = ("model_version", "sklearn_version", "sha256", "targets", "labels", "thresholds", "risk_label",
                 "hedging_label")
BUNDLED_DIR = Path(bundled.__file__).resolve().parent


class ModelError(RuntimeError):
    """A model directory that cannot be trusted or read; the message says why in one line."""


@dataclass(frozen=True)
class LoadedModel:
    """A fitted pipeline with the metadata that travels with it (labels, thresholds, versions, metrics)."""

    pipeline: object
    meta: dict = field(repr=False)
    path: Path

    @property
    def labels(self) -> dict[str, list[str]]:
        """Class labels of each head, as read from the fitted ``classes_`` at training time."""
        return self.meta["labels"]

    @property
    def thresholds(self) -> dict[str, float]:
        """The ``review`` and ``block`` cut points chosen on out-of-fold predictions."""
        return self.meta["thresholds"]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_model(path: str | Path | None = None) -> LoadedModel:
    """Load and verify the model in directory ``path`` (the bundled model when ``None``); cached per path."""
    return _load(Path(path).resolve() if path is not None else BUNDLED_DIR)


@lru_cache(maxsize=8)
def _load(directory: Path) -> LoadedModel:
    meta_path, artifact = directory / META, directory / ARTIFACT
    if not directory.is_dir():
        raise ModelError(f"model directory {directory} does not exist")
    if not meta_path.is_file() or not artifact.is_file():
        raise ModelError(f"{directory} is not a model directory: it needs {META} and {ARTIFACT} (train one with "
                         f"'python -m train --output {directory}')")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"{meta_path} is not readable JSON: {error}") from None
    missing = [key for key in REQUIRED_META if key not in meta] if isinstance(meta, dict) else list(REQUIRED_META)
    if missing:
        raise ModelError(f"{meta_path} lacks {', '.join(missing)}: it was not written by 'python -m train'")
    if sha256_of(artifact) != meta.get("sha256"):
        raise ModelError(f"{artifact} does not match the sha256 in {meta_path}: refusing to unpickle it")
    if meta.get("sklearn_version") != sklearn.__version__:
        raise ModelError(f"{directory} was trained with scikit-learn {meta.get('sklearn_version')}, but "
                         f"{sklearn.__version__} is installed: install scikit-learn=={meta.get('sklearn_version')}")
    pipeline = joblib.load(artifact)
    fitted = {target: [str(c) for c in classes] for target, classes in zip(meta["targets"], pipeline.classes_)}
    if fitted != meta["labels"]:
        raise ModelError(f"{artifact} has labels {fitted}, but {meta_path} declares {meta['labels']}")
    return LoadedModel(pipeline=pipeline, meta=meta, path=directory)
