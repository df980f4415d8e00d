"""The ``overclaim`` command: thin wrappers that parse, call the scorer, print and exit."""
from __future__ import annotations

import argparse
import json
import sys

from overclaim.loader import ModelError
from overclaim.policy import ThresholdError
from overclaim.scorer import load

RED, YELLOW, BOLD, RESET = "\033[31m", "\033[33m", "\033[1m", "\033[0m"


def _read_text(args) -> str:
    if args.file:
        with open(args.file, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    if not args.text or args.text == ["-"]:
        return sys.stdin.read()
    return " ".join(args.text)


def _render(record: dict, thresholds: dict, color: bool) -> str:
    paint = (lambda code, s: f"{code}{s}{RESET}") if color else (lambda code, s: s)
    decision = record["decision"].upper()
    lines = [paint(BOLD, f"{decision}  risk {record['risk']:.2f}") + f"  citation: {record['citation']}"
             + (f"  reasons: {', '.join(record['reasons'])}" if record["reasons"] else "")]
    for sentence in record["sentences"]:
        if sentence["risk"] < thresholds["review"] and sentence["citation"] in ("none", "verifiable"):
            continue
        code = RED if sentence["risk"] >= thresholds["block"] else YELLOW
        terms = ", ".join(f"{term} {weight:+.2f}" for term, weight in sentence["terms"][:3])
        lines.append(f"  {sentence['risk']:.2f} " + paint(code, sentence["text"]))
        lines.append(f"       reasons: {', '.join(sentence['reasons']) or '-'}; citation: {sentence['citation']};"
                     f" terms: {terms}")
    if record.get("truncated"):
        lines.append("  (text truncated: only the first part was scored)")
    return "\n".join(lines)


def cmd_score(args) -> int:
    scorer = load(args.model, thresholds=_thresholds(args))
    record = scorer.score(_read_text(args)).to_dict()
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    else:
        print(_render(record, scorer.thresholds, color=sys.stdout.isatty()))
    return 0


def _thresholds(args):
    if args.review is None and args.block is None:
        return None
    from overclaim.loader import load_model

    own = load_model(args.model).thresholds
    return {"review": own["review"] if args.review is None else args.review,
            "block": own["block"] if args.block is None else args.block}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="overclaim", description="Score health-supplement text for overclaiming.")
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score pasted text, a file, or stdin")
    score.add_argument("text", nargs="*", help="text to score; none or '-' reads stdin")
    score.add_argument("--file", help="read the text from this file")
    score.add_argument("--json", action="store_true", help="print the full result record as JSON")
    for command in (score,):
        command.add_argument("--model", help="model directory (default: the bundled model)")
        command.add_argument("--review", type=float, help="review threshold (default: the model's)")
        command.add_argument("--block", type=float, help="block threshold (default: the model's)")
    score.set_defaults(run=cmd_score)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``overclaim`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ModelError, ThresholdError, OSError, UnicodeError) as error:
        print(f"overclaim: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
