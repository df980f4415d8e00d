"""Product masking: the model reads claim language, not which product a sentence is about."""
from __future__ import annotations

import re
import unicodedata

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
# Unicode's format characters (category Cf, as of Unicode 14): zero-width spaces and joiners, soft hyphens,
# direction marks, tags. Invisible, so a writer can put one inside every word to hide it from the model.
FORMAT_CHARACTERS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")


def mask_products(text: str) -> str:
    """Replace supplement, product and brand names by ``SUPPLEMENT`` and every digit by ``0``, after removing
    Unicode format characters and folding compatibility forms (NFKC: fullwidth letters, ligatures, "…"), so that
    invisible or look-alike characters do not change what the model reads.

    Examples
    --------
    >>> mask_products("Ashwagandha (KSM-66) cut cortisol by 27% in 2019")
    'SUPPLEMENT (SUPPLEMENT) cut cortisol by 00% in 0000'
    >>> mask_products("Tur\u00admeric c\u200bures ａｒｔｈｒｉｔｉｓ.")
    'SUPPLEMENT cures arthritis.'
    """
    if not text.isascii():
        text = FORMAT_CHARACTERS.sub("", text)
    text = _BRAND.sub(MASK, text)  # before NFKC, which spells ™ as "TM"
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
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
