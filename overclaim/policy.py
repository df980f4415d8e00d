"""The one place where a risk becomes a decision."""
from __future__ import annotations

DECISIONS = ("allow", "review", "block")


class ThresholdError(ValueError):
    """Thresholds that are not 0 <= review <= block <= 1."""


def check_thresholds(thresholds: dict) -> dict[str, float]:
    """Return ``{"review": x, "block": y}`` as floats, or raise :class:`ThresholdError` saying what is wrong."""
    try:
        review, block = float(thresholds["review"]), float(thresholds["block"])
    except (KeyError, TypeError, ValueError):
        raise ThresholdError(f"thresholds need numeric 'review' and 'block', got {thresholds!r}") from None
    if not 0.0 <= review <= block <= 1.0:
        raise ThresholdError(f"thresholds must satisfy 0 <= review <= block <= 1, got review={review}, block={block}")
    return {"review": review, "block": block}


def decide(risk: float, thresholds: dict[str, float]) -> str:
    """``block`` at or above the block cut, ``review`` at or above the review cut, else ``allow``.

    Examples
    --------
    >>> decide(0.95, {"review": 0.3, "block": 0.9})
    'block'
    >>> decide(0.1, {"review": 0.3, "block": 0.9})
    'allow'
    """
    if risk >= thresholds["block"]:
        return "block"
    if risk >= thresholds["review"]:
        return "review"
    return "allow"
