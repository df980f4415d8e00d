"""The one place where scores become a decision: thresholds, and the moderation policies that apply them.

A policy is a TOML file of ordered rules. Each sentence is judged by the first rule whose conditions all hold
(``allow`` by ``<policy>/no-rule`` when none does); a text takes the most severe decision among its sentences,
and the rule that gave it. The shipped policies live in ``overclaim/policies/``; a user may pass the path of
their own file, which is validated with one-line errors naming the key and its line.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NoReturn

DECISIONS = ("allow", "review", "block")
DEFAULT_POLICY = "default"
CLAIM_TYPES = ("disease", "structure_function", "safety", "substantiation")
CITATION_LABELS = ("none", "vague", "unverifiable", "verifiable")
# A head's probability at or above this counts as "the sentence carries the type" or "is hedged": the heads
# are calibrated, so this is "more likely than not".
PRESENT = 0.5

# The US disclaimer that DSHEA requires beside a structure/function claim (21 CFR 101.93(c)), in any of its
# usual wordings; and the wording of the EU register of authorised nutrient function claims (Regulation (EU)
# 432/2012). Both are bounded, linear-time patterns.
FDA_DISCLAIMER = re.compile(
    r"not been evaluated by the (?:U\.?S\.? )?food (?:and|&) drug administration"
    r"|not intended to diagnose,? treat,? cure,? (?:or|and) prevent any disease", re.IGNORECASE)
AUTHORISED_WORDING = re.compile(
    r"\bcontributes? to (?:the )?(?:normal|maintenance of normal|reduction of tiredness|protection of cells)"
    r"|\b(?:is|are) needed for (?:the )?normal\b|\bha(?:s|ve) a role in the process of\b", re.IGNORECASE)

CONDITIONS = {
    "types": "list of claim types: the sentence carries at least one of them",
    "no_types": "true: the sentence carries no claim type",
    "hedged": "true or false: the sentence's wording is tentative (hedging >= 0.5)",
    "risk_at_least": "a number in [0, 1], or 'review' or 'block' for the active thresholds",
    "risk_below": "a number in [0, 1], or 'review' or 'block' for the active thresholds",
    "citation": "list of citation labels: the sentence's citation is one of them",
    "disclaimer": "true or false: the text carries the FDA structure/function disclaimer",
    "authorised_wording": "true or false: the sentence is worded as an authorised nutrient function",
}
RULE_KEYS = ("name", "decision", *CONDITIONS)
POLICY_KEYS = ("name", "description", "rules")


class ThresholdError(ValueError):
    """Thresholds that are not 0 <= review <= block <= 1."""


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the file, the key and its line."""


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


def has_disclaimer(text: str) -> bool:
    """Whether ``text`` carries the FDA structure/function disclaimer.

    >>> has_disclaimer("These statements have not been evaluated by the Food and Drug Administration.")
    True
    """
    return FDA_DISCLAIMER.search(text) is not None


@dataclass(frozen=True)
class Rule:
    """One rule: its full name (``policy/rule``), the decision it gives, and the conditions that must all hold."""

    name: str
    decision: str
    conditions: tuple = ()  # (key, value) pairs, lists as tuples: a policy is hashable and travels to workers

    def matches(self, sentence: dict, disclaimer: bool, thresholds: dict[str, float]) -> bool:
        """Whether every condition holds for ``sentence`` (a scored sentence record) in a text with or without
        the disclaimer."""
        types = set(sentence.get("claim_types", ()))
        for key, wanted in self.conditions:
            if key == "types":
                ok = bool(types & set(wanted))
            elif key == "no_types":
                ok = (not types) == wanted
            elif key == "hedged":
                ok = (sentence.get("hedging", 0.0) >= PRESENT) == wanted
            elif key == "risk_at_least":
                ok = sentence.get("risk", 0.0) >= thresholds.get(wanted, wanted)
            elif key == "risk_below":
                ok = sentence.get("risk", 0.0) < thresholds.get(wanted, wanted)
            elif key == "citation":
                ok = sentence.get("citation", "none") in wanted
            elif key == "disclaimer":
                ok = disclaimer == wanted
            else:  # authorised_wording
                ok = (AUTHORISED_WORDING.search(sentence.get("text", "")) is not None) == wanted
            if not ok:
                return False
        return True


@dataclass(frozen=True)
class Policy:
    """A named, ordered list of rules; :meth:`judge` gives a sentence's decision and the rule that fired."""

    name: str
    description: str
    rules: tuple[Rule, ...]

    def judge(self, sentence: dict, disclaimer: bool, thresholds: dict[str, float]) -> tuple[str, str]:
        """``(decision, rule name)`` of the first rule that matches, or ``("allow", "<policy>/no-rule")``."""
        for rule in self.rules:
            if rule.matches(sentence, disclaimer, thresholds):
                return rule.decision, rule.name
        return "allow", f"{self.name}/no-rule"


@lru_cache(maxsize=1)
def shipped_policies() -> tuple[str, ...]:
    """Names of the policies shipped in the package, ``default`` first."""
    names = sorted(p.name.removesuffix(".toml") for p in resources.files("overclaim.policies").iterdir()
                   if p.name.endswith(".toml"))
    return (DEFAULT_POLICY, *[n for n in names if n != DEFAULT_POLICY])


def load_policy(name_or_path: str | Path | None = None) -> Policy:
    """The shipped policy of that name, or the policy in that ``.toml`` file (``default`` when ``None``).

    Examples
    --------
    >>> load_policy("us-dshea").rules[0].name
    'us-dshea/disease-claim'
    """
    if isinstance(name_or_path, Policy):
        return name_or_path
    name = DEFAULT_POLICY if name_or_path is None else str(name_or_path)
    if name in shipped_policies():
        return _shipped(name)
    path = Path(name)
    if path.suffix != ".toml" or not path.is_file():
        raise PolicyError(f"no policy {name!r}: use one of {', '.join(shipped_policies())} or the path of a "
                          f".toml policy file")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as error:
        raise PolicyError(f"{path}: cannot read the policy: {error}") from None
    policy = parse_policy(source, str(path))
    if policy.name in shipped_policies():
        raise PolicyError(f"{path}: line {_line_of(source.splitlines(), 'name', None)}: name {policy.name!r} is a "
                          "shipped policy's; give your policy its own name")
    return policy


@lru_cache(maxsize=None)
def _shipped(name: str) -> Policy:
    source = resources.files("overclaim.policies").joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return parse_policy(source, f"policy {name}")


def parse_policy(source: str, where: str = "policy") -> Policy:
    """A :class:`Policy` from TOML text, or :class:`PolicyError` naming ``where``, the key and its line."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{where}: not valid TOML: {error}") from None
    lines = source.splitlines()

    def fail(message: str, key: str, rule: int | None = None) -> NoReturn:
        raise PolicyError(f"{where}: line {_line_of(lines, key, rule)}: {message}")

    for key in data:
        if key not in POLICY_KEYS:
            fail(f"unknown key {key!r}; a policy has {', '.join(POLICY_KEYS)}", key)
    name, description = data.get("name"), data.get("description", "")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        fail(f"'name' must be lower-case letters, digits, '-' or '_', got {name!r}", "name")
    if not isinstance(description, str):
        fail("'description' must be a string", "description")
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        fail("a policy needs at least one [[rules]] table", "rules")
    parsed, seen = [], set()
    for number, rule in enumerate(rules):
        for key in rule:
            if key not in RULE_KEYS:
                fail(f"unknown key {key!r} in rule {number + 1}; a rule has name, decision and the conditions "
                     f"{', '.join(CONDITIONS)}", key, number)
        rule_name = rule.get("name")
        if not isinstance(rule_name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", rule_name):
            fail(f"rule {number + 1} needs a 'name' of lower-case letters, digits, '-' or '_'", "name", number)
        if rule_name in seen:
            fail(f"rule name {rule_name!r} is used twice", "name", number)
        seen.add(rule_name)
        if rule.get("decision") not in DECISIONS:
            fail(f"rule {rule_name!r}: 'decision' must be one of {', '.join(DECISIONS)}, got {rule.get('decision')!r}",
                 "decision", number)
        conditions = []
        for key, value in rule.items():
            if key in CONDITIONS:
                problem = _condition_problem(key, value)
                if problem:
                    fail(f"rule {rule_name!r}: {key!r} {problem}", key, number)
                conditions.append((key, tuple(value) if isinstance(value, list) else value))
        parsed.append(Rule(f"{name}/{rule_name}", rule["decision"], tuple(conditions)))
    return Policy(name=name, description=description, rules=tuple(parsed))


def _condition_problem(key: str, value) -> str | None:
    """What is wrong with one condition's value, or ``None``."""
    if key in ("types", "citation"):
        allowed = CLAIM_TYPES if key == "types" else CITATION_LABELS
        if not isinstance(value, list) or not value or any(v not in allowed for v in value):
            return f"must be a non-empty list of {', '.join(allowed)}, got {value!r}"
    elif key in ("risk_at_least", "risk_below"):
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0
        if not number and value not in ("review", "block"):
            return f"must be a number in [0, 1], 'review' or 'block', got {value!r}"
    elif not isinstance(value, bool):
        return f"must be true or false, got {value!r}"
    return None


def _line_of(lines: list[str], key: str, rule: int | None) -> int:
    """1-based line of ``key = ...`` at the top level (``rule`` None) or in the ``rule``-th ``[[rules]]`` table."""
    start, tables = 0, -1
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[[rules]]"):
            tables += 1
            if rule is not None and tables == rule:
                start = number
        if rule is None and stripped.startswith("["):
            break
        if number >= start and (rule is None or tables == rule) and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number + 1
    return start + 1
