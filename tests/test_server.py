"""The HTTP service, started for real on a loopback port (see the ``server`` fixture in conftest)."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BIN, running_server
from overclaim.loader import load_model

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


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/metrics", "/v1/policies"])
def test_head_is_answered_where_get_is_not_405(server, path):
    status, _, body = server.request("HEAD", path)
    assert status == 200 and body in ("", b"")


def test_metrics_count_requests_latency_and_decisions(server):
    server.post("/v1/score", {"text": CLAIM})
    server.post("/v1/score", {"text": 5})
    status, headers, text = server.request("GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert 'overclaim_requests_total{route="/v1/score",method="POST",status="200"}' in text
    assert 'overclaim_requests_total{route="/v1/score",method="POST",status="422"}' in text
    assert 'overclaim_request_seconds_bucket{route="/v1/score",le="+Inf"}' in text
    assert 'overclaim_decisions_total{route="/v1/score",decision="block"}' in text


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
    status, _, body = server.post("/v1/score", {"text": "Zinc may help. " * 6666 + "x" * 10})
    assert status == 200 and body["truncated"] is False


def test_bodies_over_one_mebibyte_get_413_announced_or_streamed(server):
    big = json.dumps({"text": "y" * (1 << 20)}).encode()
    status, _, reply = server.post("/v1/score", big)
    assert status == 413 and "1,048,576 bytes" in reply["error"]
    chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))
    status, _, reply = server.post("/v1/score", chunks, headers={"Transfer-Encoding": "chunked"})
    assert status == 413


def test_any_declared_content_type_is_read_as_json(server):
    """curl -d sends form-urlencoded; the body is still JSON and is read as such."""
    status, _, body = server.post("/v1/score", b'{"text": "Zinc cures colds."}',
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and body["decision"] in ("review", "block")


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


def test_a_killed_scoring_process_is_replaced_and_requests_go_on(tmp_path):
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
