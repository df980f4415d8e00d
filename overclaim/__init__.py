"""overclaim: score health-supplement text for overclaiming risk.

>>> import overclaim                                   # doctest: +SKIP
>>> overclaim.load().score("Turmeric cures arthritis.").decision   # doctest: +SKIP
'block'
"""
from importlib.metadata import version

from overclaim.loader import ModelError, load_model
from overclaim.moderation import moderate
from overclaim.scorer import Result, Scorer, load

__all__ = ["load", "load_model", "moderate", "ModelError", "Result", "Scorer"]
__version__ = version("overclaim")  # pyproject.toml states it; this reads the installed package's
