"""Findings of ``overclaim check`` as a SARIF 2.1.0 log, the format GitHub code scanning reads."""
from __future__ import annotations

import hashlib
from pathlib import PurePath
from urllib.parse import quote

from overclaim import __version__
from overclaim.check import Finding
from overclaim.reasons import REASONS, Reason

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"block": "error", "review": "warning"}


def _rule(reason: Reason) -> dict:
    return {"id": reason.code, "name": "".join(word.title() for word in reason.name.split("_")),
            "shortDescription": {"text": reason.moderator}, "fullDescription": {"text": reason.meaning},
            "defaultConfiguration": {"level": "error"}}


def _result(finding: Finding, rule_index: dict) -> dict:
    region = {"startLine": finding.line, "startColumn": finding.column, "endLine": finding.end_line,
              "endColumn": finding.end_column, "snippet": {"text": finding.sentence}}
    # Stable across edits elsewhere in the file: what is flagged, not where.
    fingerprint = hashlib.sha256(f"{finding.code}\0{finding.sentence}".encode()).hexdigest()[:32]
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index[finding.code],
        "level": LEVELS[finding.decision],
        "message": {"text": f"{finding.reason} (risk {finding.risk:.2f}, {finding.decision} by {finding.rule}, "
                            f"types {', '.join(finding.claim_types) or '-'}): {finding.sentence}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": quote(PurePath(finding.path).as_posix())}, "region": region}}],
        "partialFingerprints": {"overclaimSentence/v1": fingerprint},
        "properties": {"risk": finding.risk, "decision": finding.decision, "rule": finding.rule,
                       "claimTypes": list(finding.claim_types)},
    }


def sarif_log(findings: list[Finding]) -> dict:
    """A SARIF 2.1.0 log of one run: every code as a rule, every finding as a result (columns in code points)."""
    rules = [_rule(reason) for reason in REASONS]
    rule_index = {rule["id"]: index for index, rule in enumerate(rules)}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "overclaim", "version": __version__, "rules": rules}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, rule_index) for finding in findings],
    }]}
