"""The moderation hook: items in, one record per item out, same order, ids echoed.

``overclaim moderate`` (JSON lines), ``POST /v1/moderate`` and :func:`moderate` all build their records here,
so the three give the same answer for the same items.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache

from overclaim.scorer import LONE_SURROGATE, Scorer, load


def parse_item(item, number: int) -> tuple[object, str | None, str | None]:
    """``(id, text, error)`` of one decoded item: a string, or a mapping with ``text`` and an optional ``id``.

    ``id`` defaults to ``number``, the item's 1-based position.
    """
    if isinstance(item, str):
        return number, item, None
    if not isinstance(item, dict):
        return number, None, f"expected an object with 'text' or a string, got {type(item).__name__}"
    item_id = item.get("id", number)
    if "text" not in item:
        return item_id, None, "missing field 'text'"
    if not isinstance(item["text"], str):
        return item_id, None, f"'text' must be a string, got {type(item['text']).__name__}"
    return item_id, item["text"], None


def to_json(record) -> str:
    """A record as one line of strict JSON that UTF-8 can always encode: an id that arrived as a lone surrogate
    escape ("\\ud800") is echoed with U+FFFD in its place, and one that arrived as ``NaN`` or ``Infinity`` (which
    Python's parser accepts and strict parsers refuse) as the string ``"NaN"`` or ``"Infinity"``."""
    try:
        line = json.dumps(record, ensure_ascii=False, allow_nan=False)
    except ValueError:
        line = json.dumps(_finite(record), ensure_ascii=False, allow_nan=False)
    return LONE_SURROGATE.sub("\ufffd", line)


def _finite(value):
    """``value`` with every non-finite float, however deep, replaced by its JSON name as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def record(item_id, result: dict) -> dict:
    """An item's record: its id, then the result record."""
    return {"id": item_id, **result}


def records(scorer: Scorer, parsed: list[tuple], thresholds=None, policy=None) -> list[dict]:
    """One record per ``(id, text, error)``: ``{"id": ..., **result}``, or ``{"id": ..., "error": ...}``."""
    texts = [text for _, text, error in parsed if error is None]
    results = iter(scorer.score_many(texts, thresholds, policy) if texts else [])
    return [{"id": item_id, "error": error} if error else record(item_id, next(results).to_dict())
            for item_id, _, error in parsed]


@lru_cache(maxsize=4)
def _scorer(model) -> Scorer:
    return load(model)


def moderate(text_or_items, thresholds=None, policy=None, model=None):
    """Score one text, or a list of items, with the bundled model or ``model`` (each loaded once per process).

    Parameters
    ----------
    text_or_items : str or iterable
        A text gives one record. An iterable of strings or of ``{"id": ..., "text": ...}`` mappings gives a list
        of records in the same order, each with the item's ``id`` (its 1-based position when it has none). An
        item without a string ``text`` gives ``{"id": ..., "error": "..."}`` instead of failing the others.
    thresholds : dict, optional
        ``{"review": x, "block": y}`` (0 <= x <= y <= 1) overriding the model's cut points for this call.
    policy : str or Path, optional
        The moderation policy: ``default``, ``us-dshea``, ``strict-eu``, ``editorial``, or the path of a ``.toml``
        policy file (see :mod:`overclaim.policy`).
    model : str or Path, optional
        A model directory (``python -m train --output DIR``); the bundled model when ``None``.

    Returns
    -------
    dict or list of dict
        The same records as ``overclaim moderate`` and ``POST /v1/moderate``.

    Examples
    --------
    >>> import overclaim
    >>> overclaim.moderate("Turmeric cures arthritis.")["decision"]
    'block'
    >>> [r["id"] for r in overclaim.moderate([{"id": "a1", "text": "Take with food."}, {"id": "a2"}])]
    ['a1', 'a2']
    >>> overclaim.moderate("May help prevent colds.", policy="us-dshea")["rule"]
    'us-dshea/disease-claim'
    """
    scorer = _scorer(None if model is None else str(model))
    if isinstance(text_or_items, str):
        return scorer.score(text_or_items, thresholds, policy).to_dict()
    if isinstance(text_or_items, (bytes, dict)) or not hasattr(text_or_items, "__iter__"):
        raise TypeError(f"moderate() takes a text or a list of items, got {type(text_or_items).__name__}")
    parsed = [parse_item(item, number) for number, item in enumerate(text_or_items, start=1)]
    return records(scorer, parsed, thresholds, policy)
