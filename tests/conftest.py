"""Shared fixtures: the real bundled model, loaded once."""
import pytest

import overclaim


@pytest.fixture(scope="session")
def scorer():
    return overclaim.load()


@pytest.fixture(scope="session")
def risk(scorer):
    """Risk of a single sentence (or a document: its riskiest sentence)."""
    return lambda text: scorer.score(text).risk
