"""The HTTP service, started for real on a loopback port (see the ``server`` fixture in conftest)."""
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import BIN, running_server
from overclaim.features import CUE_DESCRIPTIONS
from overclaim.loader import ARTIFACT, BUNDLED_DIR, META, load_model, sha256_of
from overclaim.reasons import REASONS
from overclaim.scorer import MAX_CHARS, MAX_SENTENCES_PER_REQUEST, MAX_SENTENCES_PER_TEXT

CLAIM = "Our turmeric cures arthritis and has no side effects."
MILD = "Magnesium may help some people fall asleep, though trials are small."


def test_score_returns_the_record_the_library_builds(server, scorer):
    status, _, body = server.post("/v1/score", {"text": f"{CLAIM} {MILD}"})
    assert status == 200
    assert body == scorer.score(f"{CLAIM} {MILD}").to_dict()
    assert body["decision"] == "block" and len(body["sentences"]) == 2


def test_moderate_answers_in_order_with_ids_echoed_or_numbered(server):
    items = [{"id": "sku-1", "text": CLAIM}, {"text": MILD}, {"id": 7, "text": ""}, {"id": None, "text": "Hi."}]
    status, _, body = server.post("/v1/moderate", {"items": items})
    assert status == 200
    assert [r["id"] for r in body["results"]] == ["sku-1", 2, 7, None]
    assert [r["decision"] for r in body["results"]][:3] == ["block", "allow", "allow"]


def test_moderate_gives_exactly_what_overclaim_moderate_gives(server):
    items = [{"id": f"n{i}", "text": text} for i, text in enumerate([
        CLAIM, MILD, "A 2019 study in the Journal of Clinical Psychopharmacology proved it works.",
        "Kratom is a tree native to Southeast Asia. Some users report relief.", "", "Ünïcödé ✓ 漢字 cures all."])]
    _, _, body = server.post("/v1/moderate", {"items": items})
    lines = "".join(json.dumps(item) + "\n" for item in items)
    done = subprocess.run([str(BIN), "moderate"], input=lines, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert body["results"] == [json.loads(line) for line in done.stdout.splitlines()]


def test_thresholds_in_a_request_override_the_models_for_that_request_only(server):
    strict = {"review": 0.0, "block": 0.0}
    lenient = {"review": 1.0, "block": 1.0}
    assert server.post("/v1/score", {"text": MILD, "thresholds": strict})[2]["decision"] == "block"
    assert server.post("/v1/score", {"text": CLAIM, "thresholds": lenient})[2]["decision"] in ("allow", "block")
    _, _, body = server.post("/v1/moderate", {"items": [MILD_ITEM := {"text": MILD}], "thresholds": strict})
    assert body["results"][0]["decision"] == "block"
    assert server.post("/v1/moderate", {"items": [MILD_ITEM]})[2]["results"][0]["decision"] == "allow"


def test_health_readiness_and_model_identity(server):
    meta = load_model().meta
    assert server.request("GET", "/healthz")[:3:2] == (200, {"status": "ok"})
    status, _, body = server.request("GET", "/readyz")
    assert status == 200 and body["status"] == "ready" and body["workers"] == 2
    assert body["model"]["sha256"] == meta["sha256"] and body["model"]["version"] == meta["model_version"]
    assert body["model"]["thresholds"] == meta["thresholds"]



def test_the_page_reads_the_model_limit_reasons_and_cue_words_from_v1_model(server):
    """What the page shows is stated once in the package and served here (it had its own copies)."""
    status, _, body = server.request("GET", "/v1/model")
    assert status == 200 and body["model"]["sha256"] == load_model().meta["sha256"]
    assert body["max_chars"] == MAX_CHARS and body["cues"] == CUE_DESCRIPTIONS
    assert [r["code"] for r in body["reasons"]] == [r.code for r in REASONS]
    assert {"name", "kind", "meaning", "moderator"} <= set(body["reasons"][0])


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/metrics", "/v1/policies", "/v1/model", "/openapi.json",
                                  "/docs", "/redoc", "/docs/oauth2-redirect", "/static/app.js"])
def test_head_is_answered_where_get_is_not_405(server, path):
    """Regression (issue 15): the docs pages answered HEAD with 405."""
    status, headers, body = server.request("HEAD", path)
    assert status == 200 and body in ("", b"")
    if path != "/metrics":  # whose counts change between the two requests
        assert headers["content-length"] == server.request("GET", path)[1]["content-length"]


def _metric(live, name: str, **labels) -> float:
    """The sum of the samples ``name`` (with ``labels``) in /metrics, parsed as Prometheus text."""
    text = live.request("GET", "/metrics")[2]
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and labels.items() <= sample.labels.items())


def test_metrics_count_requests_latency_and_decisions(server):
    server.post("/v1/score", {"text": CLAIM})
    server.post("/v1/score", {"text": 5})
    status, headers, _ = server.request("GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert _metric(server, "overclaim_requests_total", route="/v1/score", method="POST", status="200") >= 1
    assert _metric(server, "overclaim_requests_total", route="/v1/score", method="POST", status="422") >= 1
    assert _metric(server, "overclaim_request_seconds_bucket", route="/v1/score", le="+Inf") >= 2
    assert _metric(server, "overclaim_decisions_total", route="/v1/score", decision="block") >= 1


def test_metrics_hand_written_now_standard_process_model_and_queue_metrics(server):
    """Regression (issue 15): /metrics was Prometheus text written by hand, without process, model or queue
    metrics. It is now prometheus_client's, and parses as Prometheus text."""
    status, _, text = server.request("GET", "/metrics")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert status == 200
    for name in ("process_resident_memory_bytes", "process_cpu_seconds", "process_open_fds", "python_info"):
        assert families[name].samples, name
    assert _metric(server, "process_resident_memory_bytes") > 0
    meta = load_model().meta
    [info] = families["overclaim_model_info"].samples
    assert info.labels == {"version": meta["model_version"], "sha256": meta["sha256"]} and info.value == 1
    assert families["overclaim_queue_depth"].type == "gauge" and _metric(server, "overclaim_queue_depth") == 0
    assert families["overclaim_worker_restarts"].type == "counter"
    assert families["overclaim_request_seconds"].type == "histogram"


def test_metrics_page_thresholds_counted_as_decisions_no_more(server):
    """Regression (issue 15): the page's own requests (thresholds 0 and 1) counted as the service's decisions.
    Decisions are counted only for requests scored with the model's thresholds (absent, or the same)."""
    own = server.request("GET", "/readyz")[2]["model"]["thresholds"]
    before = _metric(server, "overclaim_decisions_total")
    server.post("/v1/score", {"text": MILD, "thresholds": {"review": 0.0, "block": 1.0}})
    server.post("/v1/moderate", {"items": [{"text": MILD}] * 3, "thresholds": {"review": 0.0, "block": 0.0}})
    assert _metric(server, "overclaim_decisions_total") == before
    server.post("/v1/score", {"text": MILD, "thresholds": own})
    server.post("/v1/moderate", {"items": [{"text": CLAIM}, {"text": MILD}]})
    assert _metric(server, "overclaim_decisions_total") == before + 3


def _documented(spec: dict, method: str, path: str, status: int, body) -> None:
    """Fail unless ``status`` is documented for ``method path`` in ``spec`` and ``body`` matches its schema."""
    answers = spec["paths"][path][method.lower()]["responses"]
    assert str(status) in answers, f"{method} {path}: {status} is not documented"
    content = answers[str(status)]["content"]
    if "application/json" not in content:
        assert isinstance(body, str) and list(content) == ["text/plain"]
        return
    schema = {**content["application/json"]["schema"], "components": spec["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_openapi_lies_every_answer_and_error_matches_the_documented_schema(server):
    """Regression (issue 15): the spec documented errors as HTTPValidationError {detail} while the server sends
    {"error": ...}, left 400 and 413 out, and the declared response models were bypassed."""
    spec = server.request("GET", "/openapi.json")[2]
    json_body = {"Content-Type": "application/json"}
    cases = [
        ("POST", "/v1/score", {"text": f"{CLAIM} {MILD}"}, {}, 200),
        ("POST", "/v1/moderate", b'{"items": [{"id": NaN, "text": "Zinc cures colds."}, {"text": ""}]}', json_body,
         200),
        ("GET", "/v1/policies", None, {}, 200),
        ("GET", "/v1/model", None, {}, 200),
        ("GET", "/healthz", None, {}, 200),
        ("GET", "/readyz", None, {}, 200),
        ("GET", "/metrics", None, {}, 200),
        ("POST", "/v1/score", b'{"text": ', json_body, 400),
        ("GET", "/v1/policies", None, {"Host": "evil.example"}, 400),
        ("GET", "/metrics", None, {"Host": "evil.example"}, 400),
        ("POST", "/v1/moderate", {"items": []}, {"Origin": "http://evil.example"}, 403),
        ("POST", "/v1/score", {"text": "y" * (1 << 20)}, {}, 413),
        ("POST", "/v1/moderate", {"items": [{"text": "Zinc may help.\n" * MAX_SENTENCES_PER_TEXT}] * 3}, {}, 413),
        ("POST", "/v1/score", b'{"text": "a"}', {"Content-Type": "text/plain"}, 415),
        ("POST", "/v1/score", {"text": 5}, {}, 422),
        ("POST", "/v1/moderate", {"items": [{"id": 1}]}, {}, 422),
    ]
    for method, path, body, headers, status in cases:
        got, _, reply = server.request(method, path, body, headers=headers)
        assert got == status, (method, path, status, reply)
        _documented(spec, method, path, status, reply)
        if path == "/v1/moderate" and status == 200:
            assert reply["results"][0]["id"] == "NaN"  # strict JSON has no NaN
    # every documented operation was answered above (a new route needs a case here)
    assert {(method.lower(), path) for method, path, *_ in cases} == {(m, p) for p in spec["paths"]
                                                                       for m in spec["paths"][p]}
    operations = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(operations) == len(set(operations))
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_openapi_docs_are_served_from_the_package(server):
    status, _, page = server.request("GET", "/docs")
    assert status == 200 and "swagger-ui" in page
    assert "cdn" not in page.lower() and "https://" not in page
    script = page.split('src="')[1].split('"')[0]
    assert server.request("GET", script)[0] == 200
    spec = server.request("GET", "/openapi.json")[2]
    assert {"/v1/score", "/v1/moderate", "/healthz", "/readyz", "/metrics"} <= set(spec["paths"])


@pytest.mark.parametrize("body, status, message", [
    (b'{"text": "unclosed', 400, "not valid JSON"),
    (b"\xff\xfe", 400, "not valid JSON"),
    (b"[" * 200_000, 400, "not valid JSON"),
    (b"", 422, "request body is empty"),
    (b"[1, 2]", 422, "must be a JSON object"),
    (b'"just a string"', 422, "must be a JSON object"),
    (b'{"txt": "typo"}', 422, "text: Field required"),
    (b'{"text": 5}', 422, "text: Input should be a valid string"),
    (b'{"text": null}', 422, "text: Input should be a valid string"),
    (b'{"text": "a", "extra": 1}', 422, "extra: Extra inputs are not permitted"),
    (b'{"text": "a", "thresholds": {"review": 0.9, "block": 0.1}}', 422, "0 <= review <= block <= 1"),
    (b'{"text": "a", "thresholds": {"review": "0.1", "block": 0.5}}', 422, "thresholds.review"),
    (b'{"text": "a", "thresholds": {"review": 0.1, "block": 1.5}}', 422, "thresholds.block"),
    (b'{"text": "a", "thresholds": {"review": 0.1}}', 422, "thresholds.block: Field required"),
    (json.dumps({"text": "x" * 100_001}).encode(), 422, "over the limit of 100,000"),
])
def test_bad_score_requests_get_a_4xx_saying_what_is_wrong(server, body, status, message):
    got, _, reply = server.post("/v1/score", body, headers={"Content-Type": "application/json"})
    assert got == status
    assert message in reply["error"] and "\n" not in reply["error"]


@pytest.mark.parametrize("body, message", [
    ({"items": "abc"}, "items: Input should be a valid list"),
    ({"items": [{"id": 1}]}, "items.0.text: Field required"),
    ({"items": [{"text": "ok"}, {"text": ["a"]}]}, "items.1.text: Input should be a valid string"),
    ({"items": [{"text": "a"}] * 257}, "at most 256 items"),
    ({"items": [{"text": "y" * 100_001}]}, "items.0.text: 100,001 characters, over the limit of 100,000"),
    ({}, "items: Field required"),
])
def test_bad_moderate_requests_get_a_422_naming_the_item(server, body, message):
    status, _, reply = server.post("/v1/moderate", body)
    assert status == 422 and message in reply["error"]


def test_a_lone_surrogate_is_scored_not_a_500(server):
    status, _, body = server.post("/v1/score", b'{"text": "Zinc cures colds. a\\ud800b"}')
    assert status == 200 and body["sentences"][-1]["text"] == "a\ufffdb"
    status, _, body = server.post("/v1/moderate", b'{"items": [{"id": "sku\\udc00", "text": "x"}]}')
    assert status == 200 and body["results"][0]["id"] == "sku\ufffd"


def test_a_text_of_exactly_the_limit_is_scored(server):
    sentence = "Zinc may help some people sleep better at night, and trials are small. "
    text = sentence * (MAX_CHARS // len(sentence)) + "x" * (MAX_CHARS % len(sentence))
    status, _, body = server.post("/v1/score", {"text": text})
    assert status == 200 and body["truncated"] is False and len(text) == MAX_CHARS


def test_unbounded_work_sentences_past_a_limit_get_422_per_text_and_413_per_request(server):
    """Regression (issue 12, item 3): 900 KB of short lines in one request took 26 s of a scoring process and a
    72 MB answer; sentences are now capped per text and per request, and counted before any is scored."""
    lines = lambda n: "Zinc may help.\n" * n
    status, _, body = server.post("/v1/score", {"text": lines(MAX_SENTENCES_PER_TEXT)})
    assert status == 200 and len(body["sentences"]) == MAX_SENTENCES_PER_TEXT
    status, _, reply = server.post("/v1/score", {"text": lines(MAX_SENTENCES_PER_TEXT + 1)})
    assert status == 422 and reply["error"].startswith(f"text: {MAX_SENTENCES_PER_TEXT + 1:,} sentences, over")
    items = [{"text": CLAIM}, {"text": lines(MAX_SENTENCES_PER_TEXT + 1)}]
    status, _, reply = server.post("/v1/moderate", {"items": items})
    assert status == 422 and reply["error"].startswith("items.1.text: ")
    count = MAX_SENTENCES_PER_REQUEST // MAX_SENTENCES_PER_TEXT + 1
    status, _, reply = server.post("/v1/moderate", {"items": [{"text": lines(MAX_SENTENCES_PER_TEXT)}] * count})
    assert status == 413 and f"more than {MAX_SENTENCES_PER_REQUEST:,} sentences" in reply["error"]
    # the limits are documented where clients read them
    description = server.request("GET", "/openapi.json")[2]["info"]["description"]
    assert f"{MAX_SENTENCES_PER_TEXT:,} sentences per text" in description
    assert f"{MAX_SENTENCES_PER_REQUEST:,} sentences per request" in description


def test_bodies_over_one_mebibyte_get_413_announced_or_streamed(server):
    big = json.dumps({"text": "y" * (1 << 20)}).encode()
    status, _, reply = server.post("/v1/score", big)
    assert status == 413 and "1,048,576 bytes" in reply["error"]
    chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))
    status, _, reply = server.post("/v1/score", chunks, headers={"Transfer-Encoding": "chunked"})
    assert status == 413


@pytest.mark.parametrize("kind", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data", None])
def test_cross_origin_post_a_body_not_declared_json_gets_415(server, kind):
    """Regression (issue 12, item 8): every body was read as JSON, so a page on any site could POST one as a "simple"
    request (form-urlencoded, text/plain, multipart or no type) that the browser sends without asking first."""
    status, _, reply = server.post("/v1/score", b'{"text": "Zinc cures colds."}',
                                   headers={"Content-Type": kind} if kind else {"Content-Type": ""})
    assert status == 415 and "Content-Type: application/json" in reply["error"]
    status, _, _ = server.post("/v1/score", b'{"text": "Zinc cures colds."}',
                               headers={"Content-Type": "application/json; charset=utf-8"})
    assert status == 200


def test_cross_origin_post_from_another_origin_gets_403(server):
    """Regression (issue 12, item 8): a page on another site could POST to the service."""
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{server.port + 1}"):
        status, _, reply = server.post("/v1/score", {"text": CLAIM}, headers={"Origin": origin})
        assert status == 403 and origin in reply["error"] and "\n" not in reply["error"]
    status, _, body = server.post("/v1/score", {"text": CLAIM}, headers={"Origin": server.url})
    assert status == 200 and body["decision"] == "block"


def test_dns_rebinding_a_host_header_not_allowed_gets_400(server):
    """Regression (issue 12, item 8): bound to loopback, the service answered any Host, so a site whose name was
    re-pointed at 127.0.0.1 could read its answers."""
    for path in ("/metrics", "/v1/policies", "/"):
        status, _, reply = server.request("GET", path, headers={"Host": f"evil.example:{server.port}"})
        assert status == 400 and "--allowed-host" in reply["error"]
    for host in (f"localhost:{server.port}", f"[::1]:{server.port}", "127.0.0.1"):
        assert server.request("GET", "/metrics", headers={"Host": host})[0] == 200
    # probes come with the pod's address as Host
    assert server.request("GET", "/healthz", headers={"Host": "10.1.2.3:8000"})[0] == 200


@pytest.mark.parametrize("path, method", [("/", "GET"), ("/healthz", "GET"), ("/v1/score", "POST"),
                                          ("/nowhere", "GET"), ("/docs", "GET"), ("/static/app.js", "GET")])
def test_missing_security_headers_every_answer_carries_them(server, path, method):
    """Regression (issue 12, item 8): no Content-Security-Policy, X-Content-Type-Options or X-Frame-Options."""
    _, headers, _ = server.request(method, path, {"text": CLAIM} if method == "POST" else None)
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert ("'unsafe-inline'" in policy) == (path == "/docs")  # Swagger UI starts with an inline script


def test_unknown_routes_and_methods_get_json_errors(server):
    assert server.request("GET", "/v2/score")[::2] == (404, {"error": "Not Found"})
    assert server.request("GET", "/v1/score")[::2] == (405, {"error": "Method Not Allowed"})


def test_request_texts_are_not_logged_even_with_the_access_log(tmp_path):
    secret = "Zanzibar-elixir-8841 cures everything"
    with running_server([BIN, "serve", "--access-log"], tmp_path) as live:
        assert live.post("/v1/score", {"text": secret})[0] == 200
        assert live.post("/v1/score", {"text": 7, "note": secret})[0] == 422
        live.process.send_signal(signal.SIGINT)
        live.process.wait(timeout=30)
    log = live.log.read_text()
    assert "POST /v1/score" in log and "Zanzibar" not in log


def test_a_killed_scoring_process_is_replaced_counted_and_requests_go_on(tmp_path):
    with running_server([BIN, "serve", "--workers", "1"], tmp_path) as live:
        assert live.post("/v1/score", {"text": CLAIM})[0] == 200
        scoring = _children(live.process.pid)
        assert scoring, "no scoring process found"
        for pid in scoring:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        status, _, body = live.post("/v1/score", {"text": CLAIM})
        assert status == 200 and body["decision"] == "block"
        assert set(_children(live.process.pid)).isdisjoint(scoring)
        assert _metric(live, "overclaim_worker_restarts_total") == 1


def _children(pid: int) -> list[int]:
    """Child processes that are scoring processes (spawned Python), not the multiprocessing resource tracker."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            for child in map(int, handle.read().split()):
                with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                    if b"spawn_main" in cmdline.read():
                        found.append(child)
    return found


@pytest.mark.parametrize("args, message", [
    (["--model", "{tmp}"], "not a model directory"),
    (["--workers", "0"], "need --workers >= 1"),
    (["--port", "70000"], "a --port in 0-65535"),
    (["--policy", "lenient"], "no policy 'lenient'"),
])
def test_serve_usage_errors_are_one_line_before_listening(tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    done = subprocess.run([str(BIN), "serve", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_scoring_processes_end_with_the_server(tmp_path, stop):
    """Regression: uvicorn re-raises the signal it caught, so exit-time handlers never ran and every stopped
    server left its scoring processes (and their models' memory) behind."""
    with running_server([BIN, "serve", "--workers", "2"], tmp_path) as live:
        scoring = _children(live.process.pid)
        assert len(scoring) == 2
        live.process.send_signal(stop)
        live.process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") for pid in scoring) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in scoring)


def _wait_for(check, seconds: float = 60):
    """Poll ``check`` until it is true (a guard against hangs, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _raw_post(live, path: str, payload) -> socket.socket:
    body = json.dumps(payload).encode()
    sock = socket.create_connection(("127.0.0.1", live.port))
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return sock


@contextmanager
def _stopped(pid: int):
    """The scoring process ``pid`` paused (SIGSTOP), so that requests pile up in the queue, then resumed."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_unbounded_work_of_a_client_that_went_away_is_dropped_unscored(tmp_path):
    """Regression (issue 12, item 3): abandoned requests were still scored."""
    with running_server([BIN, "serve", "--workers", "1"], tmp_path) as live, ThreadPoolExecutor(4) as pool:
        [scoring] = _children(live.process.pid)
        with _stopped(scoring):
            first = pool.submit(live.post, "/v1/score", {"text": CLAIM})  # takes the one scoring process
            time.sleep(0.5)
            heavy = {"items": [{"text": "Zinc may help.\n" * 1000}] * 4}
            abandoned = [_raw_post(live, "/v1/moderate", heavy) for _ in range(3)]
            _wait_for(lambda: _metric(live, "overclaim_queue_depth") == 3)  # queued behind the first
            for sock in abandoned:
                sock.close()
            _wait_for(lambda: _metric(live, "overclaim_cancelled_requests_total") == 3)
        assert first.result(timeout=60)[0] == 200
        _wait_for(lambda: _metric(live, "overclaim_abandoned_jobs_total", stage="queued") == 3)
        assert _metric(live, "overclaim_requests_total", route="/v1/moderate", method="POST", status="499") == 3
        assert live.post("/v1/score", {"text": CLAIM})[0] == 200


def test_unbounded_work_one_failing_job_does_not_fail_the_jobs_batched_with_it(tmp_path):
    """Regression (issue 12, item 3): an innocent request batched with a failing one got a 500. The failure is real:
    the scoring process is held to 8 MB more memory than it has (RLIMIT_DATA), which a 4,000-sentence request needs
    and a one-sentence request does not."""
    with running_server([BIN, "serve", "--workers", "1"], tmp_path) as live, ThreadPoolExecutor(4) as pool:
        [scoring] = _children(live.process.pid)
        with _stopped(scoring):
            first = pool.submit(live.post, "/v1/score", {"text": MILD})  # takes the one scoring process
            time.sleep(0.5)
            lines = "Zinc may help some people sleep better at night.\n" * MAX_SENTENCES_PER_TEXT
            heavy = pool.submit(live.post, "/v1/moderate", {"items": [{"text": lines}] * 2})
            time.sleep(0.5)
            innocent = pool.submit(live.post, "/v1/score", {"text": CLAIM})
            time.sleep(0.5)  # both queued: the scoring process takes them in one batch when the first is done
            with open(f"/proc/{scoring}/status") as status:
                data = int(next(line for line in status if line.startswith("VmData:")).split()[1]) * 1024
            resource.prlimit(scoring, resource.RLIMIT_DATA, (data + (8 << 20), resource.RLIM_INFINITY))
        assert first.result(timeout=60)[0] == 200
        status, _, body = innocent.result(timeout=60)
        assert status == 200 and body["decision"] == "block"
        status, _, reply = heavy.result(timeout=60)
        assert status == 500 and "\n" not in reply["error"]
        _documented(live.request("GET", "/openapi.json")[2], "POST", "/v1/moderate", status, reply)
        resource.prlimit(scoring, resource.RLIMIT_DATA, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        assert live.post("/v1/moderate", {"items": [{"text": lines}] * 2})[0] == 200


def test_readiness_lies_readyz_is_503_while_the_scoring_processes_restart(tmp_path):
    """Regression (issue 12, item 6): /readyz stayed 200 while the pool was rebuilt."""
    with running_server([BIN, "serve", "--workers", "1"], tmp_path) as live:
        [scoring] = _children(live.process.pid)
        os.kill(scoring, signal.SIGKILL)
        _wait_for(lambda: live.request("GET", "/readyz")[0] == 503, 10)
        status, _, body = live.request("GET", "/readyz")
        assert status in (200, 503) and body["model"]["sha256"] == load_model().meta["sha256"]
        _wait_for(lambda: live.request("GET", "/readyz")[0] == 200)
        assert live.post("/v1/score", {"text": CLAIM})[0] == 200
        assert _children(live.process.pid) != [scoring]


@pytest.mark.parametrize("change", ["overwritten", "replaced with its meta.json"])
def test_readiness_lies_a_changed_model_file_is_refused_not_served_as_500s(tmp_path, change):
    """Regression (issue 12, item 6): a model file changed under a running server gave 500s with /readyz 200.
    Overwritten: the artifact no longer matches meta.json. Replaced with its meta.json: a consistent model, but not
    the one the server reports."""
    model = tmp_path / "model"
    model.mkdir()
    for name in (META, ARTIFACT):
        shutil.copy(BUNDLED_DIR / name, model / name)
    with running_server([BIN, "serve", "--workers", "1", "--model", model], tmp_path) as live:
        sha256 = live.request("GET", "/readyz")[2]["model"]["sha256"]
        with open(model / ARTIFACT, "ab") as artifact:
            artifact.write(b"\0" * 16)
        if change == "replaced with its meta.json":
            meta = json.loads((model / "meta.json").read_text())
            meta["sha256"] = sha256_of(model / ARTIFACT)
            (model / "meta.json").write_text(json.dumps(meta))
        assert live.post("/v1/score", {"text": CLAIM})[0] == 200  # the running process keeps its model
        os.kill(_children(live.process.pid)[0], signal.SIGKILL)
        _wait_for(lambda: live.request("GET", "/readyz")[0] == 503, 10)
        _wait_for(lambda: "refused" in live.request("GET", "/readyz")[2]["error"])
        status, _, body = live.request("GET", "/readyz")
        assert status == 503 and body["model"]["sha256"] == sha256 and "\n" not in body["error"]
        spec = live.request("GET", "/openapi.json")[2]
        _documented(spec, "GET", "/readyz", status, body)
        for _ in range(3):
            status, _, reply = live.post("/v1/score", {"text": CLAIM})
            assert status == 503 and "refused the model" in reply["error"]
        _documented(spec, "POST", "/v1/score", status, reply)
        assert live.request("GET", "/readyz")[0] == 503
    refusals = [line for line in live.log.read_text().splitlines() if "refused the model" in line]
    assert len(refusals) == 1 and "Traceback" not in live.log.read_text()


def test_idle_connections_exhaust_file_descriptors_no_more_they_are_capped_and_timed_out(tmp_path):
    """Regression (issue 12, item 8): 20,200 idle connections exhausted the server's file descriptors: none was
    ever closed and there was no cap. Also: --allowed-host adds a Host name the server answers."""
    args = [BIN, "serve", "--workers", "1", "--max-connections", "50", "--header-timeout", "2",
            "--allowed-host", "overclaim.example"]
    with running_server(args, tmp_path) as live:
        descriptors = lambda: len(os.listdir(f"/proc/{live.process.pid}/fd"))
        before = descriptors()
        idle = []
        for number in range(300):
            sock = socket.create_connection(("127.0.0.1", live.port))
            if number % 2:  # slowloris: a request line and part of the headers, never finished
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            idle.append(sock)
        assert live.request("GET", "/healthz")[0] == 200  # the oldest idle connections made room
        assert live.request("GET", "/metrics", headers={"Host": "overclaim.example"})[0] == 200
        assert descriptors() <= before + 50 + 5
        for sock in idle:  # every idle socket is closed by the server within the header timeout
            sock.settimeout(30)
            try:
                assert sock.recv(1024) == b""
            except ConnectionResetError:
                pass
            sock.close()
        assert live.request("GET", "/healthz")[0] == 200
