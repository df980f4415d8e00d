"""Product masking: the model reads claim language, not which product a sentence is about."""
from __future__ import annotations

import re

from sklearn.base import BaseEstimator, TransformerMixin

from overclaim.lexicon import product_names

MASK = "SUPPLEMENT"


def _trie_pattern(words) -> str:
    """One regex matching any of ``words``, shaped as a trie: far faster than a flat alternation of hundreds."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        ends_here = "" in node
        body = branches[0] if len(branches) == 1 and not ends_here else "(?:" + "|".join(branches) + ")"
        return body + "?" if ends_here else body

    return build(trie)


_PRODUCT = re.compile(r"(?<![\w-])" + _trie_pattern(n.lower() for n in product_names()) + r"(?![\w-])", re.I)
# A marked brand: up to three capitalised words before ™ or ®. Every repetition is bounded, so the work at each
# position is bounded and a text is masked in linear time (an unbounded [\w'-]* took 20 s on "A-" * 15000).
BRAND_WORD = 40
_BRAND = re.compile(rf"\b[A-Z][\w'-]{{0,{BRAND_WORD}}}(?:\s{{1,3}}[A-Z][\w'-]{{0,{BRAND_WORD}}}){{0,2}}\s?[™®]")
_DIGIT = re.compile(r"\d")


def mask_products(text: str) -> str:
    """Replace supplement, product and brand names by ``SUPPLEMENT`` and every digit by ``0``.

    Examples
    --------
    >>> mask_products("Ashwagandha (KSM-66) cut cortisol by 27% in 2019")
    'SUPPLEMENT (SUPPLEMENT) cut cortisol by 00% in 0000'
    """
    text = _BRAND.sub(MASK, text)
    text = _PRODUCT.sub(MASK, text)
    return _DIGIT.sub("0", text)


class ProductMasker(TransformerMixin, BaseEstimator):
    """Mask product names and digits so the model learns claim language rather than topics.

    Examples
    --------
    >>> ProductMasker().fit_transform(["Turmeric cures arthritis.", "CBD cures arthritis."])
    ['SUPPLEMENT cures arthritis.', 'SUPPLEMENT cures arthritis.']
    """

    def fit(self, X, y=None):
        """Nothing to learn; returns ``self``."""
        return self

    def transform(self, X):
        """Return the masked texts as a list of strings."""
        return [mask_products(str(text)) for text in X]
