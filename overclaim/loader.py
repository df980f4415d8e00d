"""Load a model directory, checking it before trusting it.

A model directory holds ``overclaim.skops`` and ``meta.json``. The artifact is read once into memory; its sha256
is checked against a digest pinned by the caller (when there is one) and against ``meta.json``, then the
scikit-learn version it was trained with; only then is it parsed, by skops, which builds nothing but the types
it trusts and runs no code from the file. The artifact holds the fitted pipeline and a copy of what the scorer
reads from ``meta.json`` (version, targets, labels, thresholds), which must agree with it: a pin on the
artifact's digest covers them too. Each directory is loaded once per process.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any
from functools import lru_cache
from pathlib import Path

import skops.io
import sklearn
from skops.io.exceptions import UntrustedTypesFoundException

import overclaim.model as bundled

ARTIFACT = "overclaim.skops"
META = "meta.json"
# The environment variable that pins the artifact's sha256 when the caller passes none.
PIN_ENV = "OVERCLAIM_MODEL_SHA256"
# What a scorer reads from meta.json besides the metrics.
REQUIRED_META = ("model_version", "sklearn_version", "sha256", "targets", "labels", "thresholds", "risk_label",
                 "hedging_label")
# The types the pipeline holds beyond those skops trusts by default (scikit-learn estimators, numpy and scipy
# arrays, plain containers). Reviewed: each is rebuilt from stored attributes - numbers, strings and arrays -
# and none calls anything named in the file. A file naming any other type is refused before it is built.
TRUSTED_TYPES = (
    "overclaim.features.CueFeatures",
    "overclaim.masking.ProductMasker",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._TemperatureScaling",
)
BUNDLED_DIR = Path(bundled.__file__).resolve().parent


class ModelError(RuntimeError):
    """A model directory that cannot be trusted or read; the message says why in one line."""


@dataclass(frozen=True)
class LoadedModel:
    """A fitted pipeline with the metadata that travels with it (labels, thresholds, versions, metrics)."""

    pipeline: Any  # a fitted sklearn Pipeline (scikit-learn ships no type information)
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


def load_model(path: str | Path | None = None, sha256: str | None = None) -> LoadedModel:
    """Load and verify the model in directory ``path`` (the bundled model when ``None``); cached per path.

    ``sha256`` (default: the ``OVERCLAIM_MODEL_SHA256`` environment variable) pins the artifact's digest: a
    file with any other digest is refused before it is parsed, whatever its ``meta.json`` says.
    """
    pin = sha256 if sha256 is not None else os.environ.get(PIN_ENV) or None
    if pin is not None:
        pin = pin.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", pin):
            raise ModelError(f"the pinned model sha256 must be 64 hex digits, got {pin[:80]!r} (from --model-sha256, "
                             f"sha256= or {PIN_ENV})")
    return _load(Path(path).resolve() if path is not None else BUNDLED_DIR, pin)


@lru_cache(maxsize=8)
def _load(directory: Path, pin: str | None) -> LoadedModel:
    meta_path, artifact = directory / META, directory / ARTIFACT
    if not directory.is_dir():
        raise ModelError(f"model directory {directory} does not exist")
    if not artifact.is_file() and (directory / "overclaim.joblib").is_file():
        raise ModelError(f"{directory} holds a pickled model from an older overclaim, which could run code when "
                         f"loaded: retrain it with 'python -m train --output {directory}'")
    if not meta_path.is_file() or not artifact.is_file():
        raise ModelError(f"{directory} is not a model directory: it needs {META} and {ARTIFACT} (train one with "
                         f"'python -m train --output {directory}')")
    # Read once: the bytes that are hashed are the bytes that are parsed, whatever happens to the file meanwhile.
    data = artifact.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if pin is not None and digest != pin:
        raise ModelError(f"{artifact} has sha256 {digest}, not the pinned {pin}: refusing to load it")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"{meta_path} is not readable JSON: {error}") from None
    missing = [key for key in REQUIRED_META if key not in meta] if isinstance(meta, dict) else list(REQUIRED_META)
    if missing:
        raise ModelError(f"{meta_path} lacks {', '.join(missing)}: it was not written by 'python -m train'")
    if digest != meta.get("sha256"):
        raise ModelError(f"{artifact} does not match the sha256 in {meta_path}: refusing to load it")
    if meta.get("sklearn_version") != sklearn.__version__:
        raise ModelError(f"{directory} was trained with scikit-learn {meta.get('sklearn_version')}, but "
                         f"{sklearn.__version__} is installed: install scikit-learn=={meta.get('sklearn_version')}")
    try:
        bundle = skops.io.loads(data, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException:
        # Listed again only on this path: the audit inside loads() keeps the names in its message alone.
        untrusted = sorted(set(skops.io.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
        raise ModelError(f"{artifact} names types overclaim does not trust ({', '.join(untrusted)}): refusing to "
                         "load it") from None
    except Exception as error:  # whatever a damaged or hostile file makes skops raise, the user gets one line
        raise ModelError(f"{artifact} is not a readable skops model ({type(error).__name__}: "
                         f"{(str(error).splitlines() or [''])[0]}): retrain it with 'python -m train'") from None
    if not (isinstance(bundle, dict) and set(bundle) == {"pipeline", "serving"} and isinstance(bundle["serving"], dict)
            and hasattr(bundle["pipeline"], "classes_")):
        raise ModelError(f"{artifact} is not an overclaim model (a pipeline with its serving metadata): retrain it "
                         "with 'python -m train'")
    pipeline = bundle["pipeline"]
    edited = sorted(key for key, value in bundle["serving"].items() if meta.get(key) != value)
    if edited:
        raise ModelError(f"{meta_path} disagrees with {artifact} on {', '.join(edited)}: it was changed after "
                         "training; restore it or retrain with 'python -m train'")
    fitted = {target: [str(c) for c in classes] for target, classes in zip(meta["targets"], pipeline.classes_)}
    if fitted != meta["labels"]:
        raise ModelError(f"{artifact} has labels {fitted}, but {meta_path} declares {meta['labels']}")
    return LoadedModel(pipeline=pipeline, meta=meta, path=directory)
