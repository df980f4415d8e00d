"""The ``overclaim`` command: thin wrappers that parse, call the scorer, print and exit."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from overclaim import __version__
from overclaim.batch import BatchError, Interrupted, stop_on_signals
from overclaim.check_config import FAIL_ON, FORMATS
from overclaim.connections import HEADER_TIMEOUT, MAX_CONNECTIONS
from overclaim.loader import PIN_ENV, ModelError, load_model
from overclaim.policy import DECISIONS, PolicyError, ThresholdError, shipped_policies
from overclaim.scorer import load

RED, YELLOW, BOLD, RESET = "\033[31m", "\033[33m", "\033[1m", "\033[0m"


def _read_text(args) -> str:
    if args.file:
        with open(args.file, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    if not args.text or args.text == ["-"]:
        return sys.stdin.read()
    return " ".join(args.text)


def _render(record: dict, color: bool) -> str:
    paint = (lambda code, s: f"{code}{s}{RESET}") if color else (lambda code, s: s)
    decision = record["decision"].upper()
    lines = [paint(BOLD, f"{decision}  risk {record['risk']:.2f}") + f"  rule: {record['rule']}"
             + f"  citation: {record['citation']}"
             + (f"  claim types: {', '.join(record['claim_types'])}" if record["claim_types"] else "")
             + (f"  reasons: {', '.join(record['reasons'])}" if record["reasons"] else "")]
    for sentence in record["sentences"]:
        if sentence["decision"] == "allow" and sentence["citation"] in ("none", "verifiable"):
            continue
        code = {"block": RED, "review": YELLOW}.get(sentence["decision"], RESET)
        terms = ", ".join(f"{term} {weight:+.2f}" for term, weight in sentence["terms"][:3])
        lines.append(f"  {sentence['risk']:.2f} " + paint(code, sentence["text"]))
        lines.append(f"       {sentence['decision']} by {sentence['rule']}; claim types: "
                     f"{', '.join(sentence['claim_types']) or '-'}; reasons: {', '.join(sentence['reasons']) or '-'}; "
                     f"citation: {sentence['citation']}; hedging: {sentence['hedging']:.2f}; terms: {terms}")
    if record.get("truncated"):
        lines.append("  (text truncated: only the first part was scored)")
    return "\n".join(lines)


def cmd_score(args) -> int:
    scorer = load(args.model, thresholds=_thresholds(args), policy=args.policy, sha256=args.model_sha256)
    record = scorer.score(_read_text(args)).to_dict()
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    else:
        print(_render(record, color=sys.stdout.isatty()))
    fails = args.fail_on is not None and DECISIONS.index(record["decision"]) >= DECISIONS.index(args.fail_on)
    return 1 if fails else 0


def cmd_info(args) -> int:
    info = model_info(args.model, args.model_sha256)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"overclaim {info['package_version']}\n"
          f"model {info['model_version']} at {info['model_path']}\n"
          f"  artifact sha256 {info['sha256']}\n"
          f"  trained on {info['corpus_rows']:,} corpus rows, corpus sha256 {info['corpus_sha256']}\n"
          f"  with scikit-learn {info['sklearn_version']}; heads: {', '.join(info['heads'])}\n"
          f"  thresholds: review {info['thresholds']['review']}, block {info['thresholds']['block']}\n"
          f"policies: {', '.join(info['policies'])}")
    return 0


def model_info(model_path=None, sha256: str | None = None) -> dict:
    """What ``overclaim info`` reports: package and model versions, digests, thresholds, heads and policies."""
    model = load_model(model_path, sha256)
    meta = model.meta
    return {"package_version": __version__, "model_version": meta["model_version"], "model_path": str(model.path),
            "sha256": meta["sha256"], "corpus_sha256": meta.get("corpus_sha256"), "corpus_rows": meta.get("corpus_rows"),
            "sklearn_version": meta["sklearn_version"], "heads": list(meta["targets"]),
            "thresholds": dict(model.thresholds), "policies": list(shipped_policies())}


def cmd_moderate(args) -> int:
    from overclaim import stream

    if args.batch_size < 1:
        print(f"overclaim: error: --batch-size must be at least 1, got {args.batch_size}", file=sys.stderr)
        return 2
    scorer = load(args.model, thresholds=_thresholds(args), policy=args.policy, sha256=args.model_sha256)
    try:
        stream.write_records(stream.moderate(stream.line_batches(sys.stdin, args.batch_size), scorer), sys.stdout)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def cmd_batch(args) -> int:
    try:
        with stop_on_signals():
            return _batch_on_dask(args) if args.engine == "dask" else _batch_locally(args)
    except Interrupted as stop:
        print(f"overclaim: {stop}", file=sys.stderr)
        return stop.exit_code


def _batch_locally(args) -> int:
    from tqdm import tqdm

    from overclaim import batch

    for flag, value in (("--scheduler", args.scheduler), ("--partition-size", args.partition_size)):
        if value is not None:
            raise BatchError(f"{flag} applies only to --engine dask")
    jobs = 1 if args.jobs is None else args.jobs
    batch.preflight(args.input, args.output, args.force, jobs)
    with tqdm(total=os.path.getsize(args.input), unit="B", unit_scale=True, disable=args.quiet, file=sys.stderr, desc="scoring") as bar:
        def progress(done, rows):
            bar.update(done - bar.n)
            bar.set_postfix(rows=rows, rows_per_s=f"{rows / max(bar.format_dict['elapsed'], 1e-9):,.0f}")

        summary = batch.run(args.input, args.output, args.text_column, model_path=args.model,
                            thresholds=_thresholds(args), policy=args.policy, jobs=jobs, force=args.force, encoding=args.encoding,
                            progress=progress, model_sha256=args.model_sha256, replace=args.replace,
                            per_sentence=args.per_sentence)
    print(summary.line(), file=sys.stderr)
    return 0


def _batch_on_dask(args) -> int:
    from tqdm import tqdm

    from overclaim import dask_engine

    if args.per_sentence:
        raise BatchError("--per-sentence needs --engine local")
    bar, started = None, time.perf_counter()

    def progress(done, total, rows):
        # Made on the first finished partition, so a run that stops early prints only its one-line error.
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="partition", disable=args.quiet, file=sys.stderr, desc="scoring")
        bar.set_postfix(rows=rows, rows_per_s=f"{rows / (time.perf_counter() - started):,.0f}", refresh=False)
        bar.update(done - bar.n)

    try:
        summary = dask_engine.run(args.input, args.output, args.text_column, model_path=args.model,
                                  thresholds=_thresholds(args), policy=args.policy,
                                  scheduler=args.scheduler, workers=args.jobs,
                                  partition_size=args.partition_size, force=args.force, encoding=args.encoding,
                                  progress=progress, model_sha256=args.model_sha256, replace=args.replace)
    finally:
        if bar is not None:
            bar.close()
    print(summary.line(), file=sys.stderr)
    return 0


def cmd_check(args) -> int:
    from overclaim.check import CheckError, check_file, check_text, decode, validate_codes
    from overclaim.check_config import load_config
    from overclaim.prose import kind_of
    from overclaim.sarif import sarif_log

    try:
        config = load_config(args.config)
        select = config.select if args.select is None else validate_codes(args.select, "--select")
        ignore = config.ignore if args.ignore is None else validate_codes(args.ignore, "--ignore")
        if args.stdin_filename and "-" not in args.files:
            raise CheckError("--stdin-filename names the text read from stdin; pass '-' among the files")
    except CheckError as error:
        print(f"overclaim: error: {error}", file=sys.stderr)
        return 2
    fail_on, output = args.fail_on or config.fail_on or "block", args.format or config.format or "text"
    scorer = load(args.model, thresholds=_thresholds(args), policy=args.policy or config.policy,
                  sha256=args.model_sha256)
    flagged_files, findings, failed = 0, [], False
    for path in args.files:
        try:
            if path == "-":
                name = args.stdin_filename or "-"
                text = decode(sys.stdin.buffer.read())
                found = None if text is None else check_text(text, kind_of(name), scorer, fail_on, name, select,
                                                             ignore)
            elif config.excludes(path):
                continue
            else:
                found = check_file(path, scorer, fail_on, select, ignore)
        except CheckError as error:
            print(f"overclaim: error: {error}", file=sys.stderr)
            failed = True
            continue
        if found is None:
            print(f"overclaim: {path}: skipped, binary file", file=sys.stderr)
            continue
        if output == "text":
            for finding in found:
                print(finding.line_text())
        findings += found
        flagged_files += bool(found)
    if output == "json":
        print(json.dumps([finding.to_dict() for finding in findings], ensure_ascii=False, indent=2))
    elif output == "sarif":
        print(json.dumps(sarif_log(findings), ensure_ascii=False, indent=2))
    if findings:
        print(f"overclaim: {len(findings)} sentence(s) at or above '{fail_on}' in {flagged_files} of "
              f"{len(args.files)} file(s)", file=sys.stderr)
    return 2 if failed else 1 if findings else 0


def cmd_serve(args) -> int:
    try:
        from overclaim import server
    except ImportError as error:
        print(f"overclaim: error: serve needs the serve extra ({error.name} is missing): "
              "pip install 'overclaim[serve]'", file=sys.stderr)
        return 2
    if args.workers < 1 or not 0 <= args.port <= 65535:
        print(f"overclaim: error: need --workers >= 1 and a --port in 0-65535, got {args.workers} and {args.port}",
              file=sys.stderr)
        return 2
    load_model(args.model, args.model_sha256)  # a bad model or pin fails here, in one line, before any worker starts
    if args.max_connections < 1 or args.header_timeout <= 0:
        print(f"overclaim: error: need --max-connections >= 1 and --header-timeout > 0, got "
              f"{args.max_connections} and {args.header_timeout}", file=sys.stderr)
        return 2
    server.serve(args.host, args.port, args.workers, args.model, _thresholds(args), policy=args.policy,
                 access_log=args.access_log, extra_hosts=args.allowed_host, max_connections=args.max_connections,
                 header_timeout=args.header_timeout, model_sha256=args.model_sha256)
    return 0


def _thresholds(args):
    if args.review is None and args.block is None:
        return None
    own = load_model(args.model, args.model_sha256).thresholds
    return {"review": own["review"] if args.review is None else args.review,
            "block": own["block"] if args.block is None else args.block}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="overclaim", description="Score health-supplement text for overclaiming.")
    parser.add_argument("--version", action="version", version=f"overclaim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score pasted text, a file, or stdin")
    score.add_argument("text", nargs="*", help="text to score; none or '-' reads stdin")
    score.add_argument("--file", help="read the text from this file")
    score.add_argument("--json", action="store_true", help="print the full result record as JSON")
    score.add_argument("--fail-on", choices=DECISIONS[1:], help="exit 1 when the text's decision is this or more "
                                                                "severe (default: exit 0 whatever the decision)")
    moderate = commands.add_parser("moderate", help="JSON lines in on stdin, one result line out per line in")
    moderate.add_argument("--batch-size", type=int, default=256, help="most lines scored together (default 256)")
    moderate.set_defaults(run=cmd_moderate)
    batch = commands.add_parser("batch", help="score a CSV, Parquet or JSON-lines file into a new file")
    batch.add_argument("input", help="input file (.csv, .tsv, .parquet, .jsonl); with --engine dask also a glob or "
                                     "a directory of .csv or .parquet files")
    batch.add_argument("-o", "--output", required=True, help="output file; its extension sets the format (with "
                                                             "--engine dask: a directory of .csv or .parquet parts)")
    batch.add_argument("--text-column", required=True, help="column holding the text to score")
    batch.add_argument("--jobs", type=int, help="parallel worker processes (default 1; with --engine dask, the "
                                                "local cluster's workers, default one per core)")
    batch.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="local: this process and --jobs workers; dask: a Dask cluster (pip install "
                            "'overclaim[dask]')")
    batch.add_argument("--scheduler", help="with --engine dask: address of an existing cluster's scheduler "
                                           "(tcp://host:8786); default: start a local cluster")
    batch.add_argument("--partition-size", help="with --engine dask: input bytes per partition (default 16MB), or "
                                                "'file' for one partition per file")
    batch.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    batch.add_argument("--encoding", default="utf-8", help="input text encoding (default utf-8)")
    batch.add_argument("--replace", action="store_true", help="re-score an input scored before: drop its "
                                                              "overclaim_* columns and write them afresh")
    batch.add_argument("--per-sentence", action="store_true", help="one output row per sentence, with its offsets "
                                                                   "and scores, instead of one per input row")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.set_defaults(run=cmd_batch)
    check = commands.add_parser("check", help="lint Markdown, HTML and text files; exit 1 when a sentence fails")
    check.add_argument("files", nargs="+", help="files to check (.md, .html; anything else is read as text); "
                                                "'-' reads stdin")
    check.add_argument("--fail-on", choices=FAIL_ON,
                       help="decision that fails the check and is reported (default block)")
    codes = lambda text: [code.strip() for code in text.split(",") if code.strip()]
    check.add_argument("--select", type=codes, help="report only these codes or code prefixes, e.g. OC1,OC202")
    check.add_argument("--ignore", type=codes, help="never report these codes or code prefixes, e.g. OC202")
    check.add_argument("--format", choices=FORMATS,
                       help="text: one line per sentence (default); json: one list; sarif: SARIF 2.1.0")
    check.add_argument("--stdin-filename", help="with '-': the name shown for stdin, whose extension sets how it "
                                                "is read (.md, .html)")
    check.add_argument("--config", help="settings file (default: the nearest .overclaim.toml, or pyproject.toml "
                                        "with [tool.overclaim], from the current folder up)")
    check.set_defaults(run=cmd_check)
    serve = commands.add_parser("serve", help="HTTP service: /v1/score, /v1/moderate, /metrics, docs at /docs")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="scoring processes, each with the model (default 1; 2 on a 2-core machine)")
    serve.add_argument("--access-log", action="store_true", help="log one line per request (never the text)")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                       help="a Host name clients may use besides the bound address and localhost (repeatable; "
                            "needed behind a proxy or DNS name; bound to 0.0.0.0 without it, any Host is answered)")
    serve.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                       help=f"open connections at most; the oldest idle one is closed past it (default {MAX_CONNECTIONS})")
    serve.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT,
                       help=f"seconds a connection may take to send its request headers (default {HEADER_TIMEOUT:g})")
    serve.set_defaults(run=cmd_serve)
    info = commands.add_parser("info", help="the package and model versions, digests, thresholds and policies")
    info.add_argument("--json", action="store_true", help="print them as JSON")
    info.add_argument("--model", help="model directory (default: the bundled model)")
    info.add_argument("--model-sha256", metavar="HEX", help=f"refuse the model unless its artifact has this sha256 "
                                                             f"(default: ${PIN_ENV})")
    info.set_defaults(run=cmd_info)
    for command in (score, moderate, batch, check, serve):
        command.add_argument("--model", help="model directory (default: the bundled model)")
        command.add_argument("--model-sha256", metavar="HEX",
                             help=f"refuse the model unless its artifact has this sha256 (default: ${PIN_ENV})")
        command.add_argument("--review", type=float, help="review threshold (default: the model's)")
        command.add_argument("--block", type=float, help="block threshold (default: the model's)")
        command.add_argument("--policy", default=None,
                             help=f"moderation policy: {', '.join(shipped_policies())}, or the path of a .toml "
                                  "policy file (default: default)")
    score.set_defaults(run=cmd_score)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``overclaim`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ModelError, ThresholdError, PolicyError, BatchError, OSError, UnicodeError) as error:
        print(f"overclaim: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
