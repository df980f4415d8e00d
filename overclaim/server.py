"""The HTTP service behind ``overclaim serve``: FastAPI on uvicorn, the model loaded once per scoring process.

Routes: the paste-and-score page at ``/`` (its assets under ``/static``), ``POST /v1/score``,
``POST /v1/moderate``, ``GET /v1/policies``, ``GET /v1/model``, ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` and the OpenAPI docs at ``/docs``
(served from the package, so they work offline). Bad input is a 400, 413, 415 or 422 with a one-line ``error``,
never a 500. Request texts are neither logged nor stored. Only this server's own pages may call it from a browser
(Host, Origin and Content-Type are checked), and every answer carries headers that keep other sites from framing
or re-typing it.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException

from overclaim import __version__
from overclaim.batching import MicroBatcher, NotReady, TooManySentences
from overclaim.connections import HEADER_TIMEOUT, MAX_CONNECTIONS, bounded_protocol
from overclaim.features import CUE_DESCRIPTIONS
from overclaim.metrics import CONTENT_TYPE, Metrics
from overclaim.moderation import record, to_json
from overclaim.policy import ThresholdError, check_thresholds, load_policy, shipped_policies
from overclaim.reasons import REASONS
from overclaim.scorer import MAX_CHARS, MAX_SENTENCES_PER_REQUEST, MAX_SENTENCES_PER_TEXT

WEB_DIR = Path(__file__).resolve().parent / "web"  # the paste-and-score page, shipped in the package
MAX_BODY_BYTES = 1 << 20
MAX_ITEMS = 256
ROUTES = ("/v1/score", "/v1/moderate", "/v1/policies", "/v1/model", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/",
          "/static/app.js", "/static/style.css")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
PROBES = ("/healthz", "/readyz")  # answered whatever the Host: probes use the pod's address, and they reveal nothing
# Same-origin only; the Swagger UI and ReDoc pages start themselves with inline scripts and styles.
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'")
DOCS_PAGES = ("/docs", "/docs/oauth2-redirect", "/redoc")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer")]


def _within_limit(text: str) -> str:
    if len(text) > MAX_CHARS:
        raise ValueError(f"{len(text):,} characters, over the limit of {MAX_CHARS:,} per text; "
                         "split it, or score files with 'overclaim batch'")
    return text


Text = Annotated[str, AfterValidator(_within_limit), Field(description=f"At most {MAX_CHARS:,} characters.")]
# A request names a shipped policy; files on the server's disk are chosen by its operator (serve --policy).
if TYPE_CHECKING:  # the names are read from the package at import, which a type checker cannot do
    PolicyName = str
else:
    PolicyName = Annotated[Literal[shipped_policies()], Field(description="A shipped policy (GET /v1/policies); the "
                                                                          "server's own when absent.")]


class Thresholds(BaseModel):
    """Cut points for this request: ``0 <= review <= block <= 1``."""

    model_config = ConfigDict(strict=True, extra="forbid")
    review: float = Field(ge=0, le=1)
    block: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self):
        try:
            check_thresholds({"review": self.review, "block": self.block})
        except ThresholdError as error:
            raise ValueError(str(error)) from None
        return self


class ScoreRequest(BaseModel):
    """One text to score."""

    model_config = ConfigDict(strict=True, extra="forbid")
    text: Text
    thresholds: Thresholds | None = None
    policy: PolicyName | None = None


class Item(BaseModel):
    """One item; fields other than ``id`` and ``text`` are ignored, as in ``overclaim moderate``."""

    model_config = ConfigDict(strict=True, extra="ignore")
    id: Any = Field(default=None, description="Echoed back; the item's 1-based position when absent.")
    text: Text


class ModerateRequest(BaseModel):
    """Up to 256 items, answered in the same order."""

    model_config = ConfigDict(strict=True, extra="forbid")
    items: list[Item] = Field(max_length=MAX_ITEMS)
    thresholds: Thresholds | None = None
    policy: PolicyName | None = None


class Sentence(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a field the document does not name is an error, not sent
    text: str
    start: int
    end: int
    risk: float
    probabilities: dict[str, float]
    hedging: float
    claim_types: list[str]
    type_probabilities: dict[str, float]
    citation: str
    reasons: list[str]
    terms: list[tuple[str, float]]
    decision: str
    rule: str


class ScoreResult(BaseModel):
    """The result record, as :meth:`overclaim.Result.to_dict` builds it."""

    model_config = ConfigDict(extra="forbid")
    risk: float
    decision: str
    rule: str
    policy: str
    citation: str
    reasons: list[str]
    claim_types: list[str]
    sentences: list[Sentence]
    model: dict[str, str]
    truncated: bool


class ModerateResult(ScoreResult):
    id: Any


class ModerateResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    results: list[ModerateResult]


class PolicyInfo(BaseModel):
    name: str
    description: str
    rules: list[str]


class PoliciesResponse(BaseModel):
    default: str = Field(description="The policy of requests that name none.")
    policies: list[PolicyInfo]


class Health(BaseModel):
    status: Literal["ok"]


class ModelInfo(BaseModel):
    version: str
    sha256: str
    thresholds: dict[str, float]
    policy: str


class Ready(BaseModel):
    status: Literal["ready"]
    workers: int
    model: ModelInfo


class ReasonInfo(BaseModel):
    name: str
    code: str
    kind: Literal["claim", "citation"]
    meaning: str
    moderator: str


class ModelDescription(BaseModel):
    model: ModelInfo | None = Field(description="None until the scoring processes have loaded the model")
    max_chars: int
    reasons: list[ReasonInfo]
    cues: dict[str, str]


class Error(BaseModel):
    """Every error the server sends: one line saying what is wrong and what to do."""

    error: str


class NotReadyError(Error):
    status: Literal["unavailable"]
    workers: int
    model: ModelInfo | None


# What each error status means, for the OpenAPI document.
ERRORS = {400: "Body not valid JSON, or a Host this server does not answer to",
          403: "A POST from another origin",
          413: f"Body over {MAX_BODY_BYTES:,} bytes, or over {MAX_SENTENCES_PER_REQUEST:,} sentences in the request",
          415: "Body not declared `Content-Type: application/json`",
          422: "A field missing, of the wrong type or over a limit",
          500: "Internal error: the request was not scored",
          503: "The scoring processes refused the model"}


def _errors(*statuses: int) -> dict:
    """The ``responses`` of a route that may answer ``statuses`` with an :class:`Error`."""
    return {status: {"model": Error, "description": ERRORS[status]} for status in statuses}


SCORING_ERRORS = _errors(400, 403, 413, 415, 422, 500, 503)


class _JSON(JSONResponse):
    """JSON that UTF-8 can always encode (see :func:`overclaim.moderation.to_json`)."""

    def render(self, content) -> bytes:
        return to_json(content).encode("utf-8")


def _checked(model: type[BaseModel], content: dict) -> JSONResponse:
    """``content`` as JSON once it is checked against ``model``, the route's documented answer (a mismatch is a 500).
    Checked, not re-serialized by FastAPI, which would turn an id that arrived as NaN into null."""
    model.model_validate(content)
    return _JSON(content)


def _error(status: int, message: str, /, **extra) -> JSONResponse:
    return _JSON({"error": message, **extra}, status_code=status)


def _describe(errors) -> str:
    """One line from pydantic's errors: where, then what."""
    parts = []
    for error in errors[:3]:
        where = ".".join(str(p) for p in error["loc"] if p != "body")
        if not where:
            parts.append("request body is empty" if error["type"] == "missing" else
                         "request body must be a JSON object")
            continue
        parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    more = len(errors) - 3
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _hostname(host: str) -> str:
    """``example.org`` of ``example.org:8000``; ``::1`` of ``[::1]:8000``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def allowed_hosts(bound: str, extra=()) -> frozenset[str] | None:
    """The ``Host`` names a server bound to ``bound`` answers: loopback names, the bound address and ``extra``;
    ``None`` (any) for a wildcard address without ``extra``, where the names clients use are not known."""
    if bound in ("0.0.0.0", "::", "") and not extra:
        return None
    return frozenset({*LOOPBACK_HOSTS, _hostname(bound), *map(_hostname, extra)})


class _Gate:
    """ASGI middleware in front of every route: per-route metrics; security headers on every answer; ``HEAD``
    answered as ``GET`` without the body, wherever ``GET`` is; a 400 for a
    ``Host`` not in ``hosts`` (DNS rebinding), a 403 for a POST from another origin, a 415 for an API body not
    declared JSON (which a cross-origin page cannot send without the browser asking first); a 413 for bodies over
    ``MAX_BODY_BYTES`` (announced or streamed); and the request cancelled when its client goes away."""

    def __init__(self, app, metrics: Metrics, max_bytes: int = MAX_BODY_BYTES, hosts=None):
        self.app, self.metrics, self.max_bytes, self.hosts = app, metrics, max_bytes, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, method = time.perf_counter(), scope["method"]
        route = scope["path"] if scope["path"] in ROUTES else "other"
        status, answered = 500, False
        csp = (DOCS_CSP if scope["path"] in DOCS_PAGES else CSP).encode()

        def observe():
            self.metrics.observe_request(route, method, status, time.perf_counter() - started)

        async def send_counting(message):
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS,
                                                  (b"content-security-policy", csp)]}
            elif method == "HEAD" and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
                observe()  # now, before a client that got its answer can ask /metrics

        try:
            refused = self._refusal(scope)
            if method == "HEAD":
                scope = {**scope, "method": "GET"}
            body = None if refused else await self._body(scope, receive)
            if body is None:
                refused = refused or (413, f"request body is over the limit of {self.max_bytes:,} bytes; send at "
                                           f"most {MAX_ITEMS} items of at most {MAX_CHARS:,} characters")
                await _error(*refused)(scope, receive, send_counting)
                return
            if await self._answer(scope, body, receive, send_counting, lambda: answered):
                status = 499  # nginx's code for a client that closed the connection before the answer
                self.metrics.observe_cancelled()
        finally:
            if not answered:
                observe()

    def _refusal(self, scope) -> tuple[int, str] | None:
        """The status and error for a request this server must not answer, if it is one."""
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        if self.hosts is not None and _hostname(host) not in self.hosts and scope["path"] not in PROBES:
            return 400, (f"this server does not answer to Host '{host}'; its operator can allow it with "
                         "'overclaim serve --allowed-host NAME'")
        if scope["method"] in ("GET", "HEAD"):
            return None
        origin = headers.get(b"origin")
        if origin is not None and urlsplit(origin.decode("latin-1")).netloc.lower() != host.lower():
            return 403, (f"cross-origin request from {origin.decode('latin-1')} refused: call the API from a "
                         "server, or from the page this server serves")
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if scope["path"].startswith("/v1/") and kind != b"application/json":
            return 415, ("request body must be declared JSON: send 'Content-Type: application/json' "
                         "(curl: -H 'Content-Type: application/json')")
        return None

    async def _answer(self, scope, body: bytes, receive, send, answered) -> bool:
        """Run the app on ``body``; if the client goes away before the answer is sent (``answered()``), cancel the
        app (its queued scoring is dropped) and return True."""
        task, gone, first = asyncio.current_task(), asyncio.Event(), True

        async def receive_body():
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def watch():
            while (await receive())["type"] != "http.disconnect":
                pass
            if not answered():
                gone.set()
                task.cancel()

        # One task watches the connection; the app runs in this one, which the watcher cancels.
        watcher = asyncio.create_task(watch())
        try:
            await self.app(scope, receive_body, send)
        except asyncio.CancelledError:
            if not gone.is_set() or task is None:
                raise
            task.uncancel()
            return True
        finally:
            watcher.cancel()
        return False

    async def _body(self, scope, receive) -> bytes | None:
        """The whole body, or None as soon as it is known to be over the limit."""
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return None
            if not message.get("more_body"):
                break
        return b"".join(chunks)


def create_app(model_path=None, thresholds=None, workers: int = 1, policy=None, hosts=None, model_sha256=None):
    """The ASGI app: at startup, ``workers`` scoring processes each load the model in ``model_path`` (the
    bundled one by default; its digest pinned by ``model_sha256`` when given) and ``policy`` (``default`` when
    ``None``); the server takes requests once all have. ``hosts`` are the ``Host`` names it answers (any when
    ``None``; see :func:`allowed_hosts`)."""
    metrics = Metrics()
    policy = load_policy(policy)
    batcher = MicroBatcher(model_path, thresholds, workers, policy=policy, on_cancel=metrics.observe_dropped,
                           on_restart=metrics.observe_restart, model_sha256=model_sha256)
    policies = [load_policy(name) for name in shipped_policies()]
    if policy.name not in shipped_policies():
        policies.insert(0, policy)

    @asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        metrics.serve_model(batcher.model, lambda: batcher.queue_depth)
        task = asyncio.create_task(batcher.run())
        yield
        task.cancel()
        batcher.close()

    app = FastAPIOffline(title="overclaim", version=__version__, lifespan=lifespan,
                         description="Scores health-supplement text for overclaiming risk. Limits: a body of at "
                                     f"most {MAX_BODY_BYTES:,} bytes (413), at most {MAX_ITEMS} items (422), "
                                     f"{MAX_CHARS:,} characters and {MAX_SENTENCES_PER_TEXT:,} sentences per text "
                                     f"(422), {MAX_SENTENCES_PER_REQUEST:,} sentences per request (413); bodies "
                                     "declared `Content-Type: application/json` (415). Every error is "
                                     "`{\"error\": \"one line\"}`. `HEAD` is answered wherever `GET` is.")
    app.add_middleware(_Gate, metrics=metrics, hosts=hosts)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        if any(e["type"] == "json_invalid" for e in error.errors()):
            return _error(400, "request body is not valid JSON")
        return _error(422, _describe(error.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        # FastAPI's only 400 is a body it could not parse at all (JSON nested too deep, say).
        message = "request body is not valid JSON" if error.status_code == 400 else str(error.detail)
        return _error(error.status_code, message)

    @app.exception_handler(TooManySentences)
    async def too_many_sentences(request: Request, error: TooManySentences):
        if error.index is None:
            return _error(413, f"more than {MAX_SENTENCES_PER_REQUEST:,} sentences in the request, the limit; "
                               "send fewer or shorter items per request")
        where = "text" if request.url.path == "/v1/score" else f"items.{error.index}.text"
        return _error(422, f"{where}: {error.count:,} sentences, over the limit of {MAX_SENTENCES_PER_TEXT:,} per "
                           "text; split it, or score files with 'overclaim batch'")

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, error: NotReady):
        return _error(503, f"not scored: {error}")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception):
        return _error(500, "internal error; the request was not scored")

    def count_decisions(route: str, cuts: dict | None, results: list[dict]) -> None:
        # Decisions at a caller's own cut points (the page's 0 and 1, say) are not the service's decisions.
        if cuts is None or (batcher.model is not None and cuts == batcher.model["thresholds"]):
            metrics.observe_decisions(route, [r["decision"] for r in results])

    @app.post("/v1/score", response_model=ScoreResult, responses=SCORING_ERRORS, summary="Score one text")
    async def score(request: ScoreRequest):
        cuts = request.thresholds.model_dump() if request.thresholds else None
        [result] = await batcher.score([request.text], cuts, request.policy)
        count_decisions("/v1/score", cuts, [result])
        return _checked(ScoreResult, result)

    @app.post("/v1/moderate", response_model=ModerateResponse, responses=SCORING_ERRORS,
              summary="Score up to 256 items, ids echoed")
    async def moderate(request: ModerateRequest):
        cuts = request.thresholds.model_dump() if request.thresholds else None
        results = await batcher.score([item.text for item in request.items], cuts, request.policy)
        count_decisions("/v1/moderate", cuts, results)
        ids = [item.id if "id" in item.model_fields_set else number
               for number, item in enumerate(request.items, start=1)]
        return _checked(ModerateResponse, {"results": [record(i, r) for i, r in zip(ids, results)]})

    @app.get("/v1/policies", response_model=PoliciesResponse, responses=_errors(400, 500),
             summary="The policies a request may name, the server's own first, with their rules")
    async def list_policies():
        return {"default": policy.name,
                "policies": [{"name": p.name, "description": p.description, "rules": [r.name for r in p.rules]}
                             for p in policies]}

    @app.get("/v1/model", response_model=ModelDescription, responses=_errors(400, 500),
             summary="The served model, the text limit, and the reason codes and cue names in words (what the page "
                     "shows)")
    async def model_description():
        return {"model": batcher.model, "max_chars": MAX_CHARS,
                "reasons": [asdict(reason) for reason in REASONS], "cues": CUE_DESCRIPTIONS}

    @app.get("/healthz", response_model=Health, responses=_errors(500), summary="The process is alive")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", response_model=Ready,
             responses={503: {"model": NotReadyError, "description": "Not ready: the reason in `error`"},
                        **_errors(500)},
             summary="200 while every scoring process is up with the model whose version, sha256 and thresholds it "
                     "reports; 503 otherwise")
    async def readyz():
        if await batcher.check():
            return {"status": "ready", "workers": workers, "model": batcher.model}
        return _error(503, f"not ready: {batcher.not_ready_reason()}", status="unavailable", workers=workers,
                      model=batcher.model)

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse,
             responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}},
                        # Not _errors(): FastAPI would document them as the route's text/plain.
                        **{status: {"description": ERRORS[status], "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}}}} for status in (400, 500)}})
    async def prometheus():
        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE)

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(WEB_DIR / "index.html")

    return app


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, model_path=None, thresholds=None,
          access_log: bool = False, policy=None, extra_hosts=(), max_connections: int = MAX_CONNECTIONS,
          header_timeout: float = HEADER_TIMEOUT, model_sha256=None) -> None:
    """Run the service until interrupted: one HTTP process, ``workers`` scoring processes; it answers the ``Host``
    names of :func:`allowed_hosts` and holds at most ``max_connections`` connections (see
    :mod:`overclaim.connections`)."""
    import resource

    import uvicorn

    # Each connection is a file descriptor: make room for the cap and the pool's pipes, as far as the system allows.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard),
                                                    hard))
    uvicorn.run(create_app(model_path, thresholds, workers, policy, allowed_hosts(host, extra_hosts), model_sha256),
                host=host,
                port=port, access_log=access_log, log_level="info", timeout_graceful_shutdown=10,
                http=bounded_protocol(max_connections, header_timeout))
