"""The HTTP service behind ``overclaim serve``: FastAPI on uvicorn, the model loaded once per scoring process.

Routes: the paste-and-score page at ``/`` (its assets under ``/static``), ``POST /v1/score``,
``POST /v1/moderate``, ``GET /v1/policies``, ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` and the OpenAPI docs at ``/docs``
(served from the package, so they work offline). Bad input is a 400, 413 or 422 with a one-line ``error``, never
a 500. Request texts are neither logged nor stored.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException

from overclaim import __version__
from overclaim.batching import MicroBatcher
from overclaim.metrics import Metrics
from overclaim.moderation import record, to_json
from overclaim.policy import ThresholdError, check_thresholds, load_policy, shipped_policies
from overclaim.scorer import MAX_CHARS

WEB_DIR = Path(__file__).resolve().parent / "web"  # the paste-and-score page, shipped in the package
MAX_BODY_BYTES = 1 << 20
MAX_ITEMS = 256
ROUTES = ("/v1/score", "/v1/moderate", "/v1/policies", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json", "/",
          "/static/app.js", "/static/style.css")


def _within_limit(text: str) -> str:
    if len(text) > MAX_CHARS:
        raise ValueError(f"{len(text):,} characters, over the limit of {MAX_CHARS:,} per text; "
                         "split it, or score files with 'overclaim batch'")
    return text


Text = Annotated[str, AfterValidator(_within_limit), Field(description=f"At most {MAX_CHARS:,} characters.")]
# A request names a shipped policy; files on the server's disk are chosen by its operator (serve --policy).
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
    results: list[ModerateResult]


class _JSON(JSONResponse):
    """JSON that UTF-8 can always encode (see :func:`overclaim.moderation.to_json`)."""

    def render(self, content) -> bytes:
        return to_json(content).encode("utf-8")


def _error(status: int, message: str, **extra) -> JSONResponse:
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


class _Gate:
    """ASGI middleware in front of every route: per-route metrics; a 413 for bodies over ``MAX_BODY_BYTES``
    (announced or streamed); and the API's bodies read as JSON whatever their declared type (``curl -d`` says
    form-urlencoded), so a body that is not JSON gets the 400 that says so."""

    def __init__(self, app, metrics: Metrics, max_bytes: int = MAX_BODY_BYTES):
        self.app, self.metrics, self.max_bytes = app, metrics, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        route = scope["path"] if scope["path"] in ROUTES else "other"
        status = 500

        async def send_counting(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            body = await self._body(scope, receive)
            if body is None:
                response = _error(413, f"request body is over the limit of {self.max_bytes:,} bytes; "
                                       f"send at most {MAX_ITEMS} items of at most {MAX_CHARS:,} characters")
                await response(scope, receive, send_counting)
                return
            if scope["path"].startswith("/v1/"):
                headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
                scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
            await self.app(scope, _replay(body, receive), send_counting)
        finally:
            self.metrics.observe_request(route, scope["method"], status, time.perf_counter() - started)

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


def _replay(body: bytes, receive):
    sent = False

    async def replayed():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def create_app(model_path=None, thresholds=None, workers: int = 1, policy=None, model_sha256=None):
    """The ASGI app: at startup, ``workers`` scoring processes each load the model in ``model_path`` (the
    bundled one by default; its digest pinned by ``model_sha256`` when given) and ``policy`` (``default`` when
    ``None``); the server takes requests once all have."""
    metrics = Metrics()
    policy = load_policy(policy)
    batcher = MicroBatcher(model_path, thresholds, workers, policy=policy, model_sha256=model_sha256)
    policies = [load_policy(name) for name in shipped_policies()]
    if policy.name not in shipped_policies():
        policies.insert(0, policy)

    @asynccontextmanager
    async def lifespan(app):
        await batcher.start()
        task = asyncio.create_task(batcher.run())
        yield
        task.cancel()
        batcher.close()

    app = FastAPIOffline(title="overclaim", version=__version__, lifespan=lifespan,
                         description="Scores health-supplement text for overclaiming risk.")
    app.add_middleware(_Gate, metrics=metrics)

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

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception):
        return _error(500, "internal error; the request was not scored")

    @app.post("/v1/score", response_model=ScoreResult, summary="Score one text")
    async def score(request: ScoreRequest):
        cuts = request.thresholds.model_dump() if request.thresholds else None
        [result] = await batcher.score([request.text], cuts, request.policy)
        metrics.observe_decisions("/v1/score", [result["decision"]])
        return _JSON(result)

    @app.post("/v1/moderate", response_model=ModerateResponse, summary="Score up to 256 items, ids echoed")
    async def moderate(request: ModerateRequest):
        cuts = request.thresholds.model_dump() if request.thresholds else None
        results = await batcher.score([item.text for item in request.items], cuts, request.policy)
        metrics.observe_decisions("/v1/moderate", [r["decision"] for r in results])
        ids = [item.id if "id" in item.model_fields_set else number
               for number, item in enumerate(request.items, start=1)]
        return _JSON({"results": [record(i, r) for i, r in zip(ids, results)]})

    @app.api_route("/v1/policies", methods=["GET", "HEAD"], summary="The policies a request may name, the server's own first, with their rules")
    async def list_policies():
        return {"default": policy.name,
                "policies": [{"name": p.name, "description": p.description, "rules": [r.name for r in p.rules]}
                             for p in policies]}

    @app.api_route("/healthz", methods=["GET", "HEAD"], summary="The process is alive")
    async def healthz():
        return {"status": "ok"}

    @app.api_route("/readyz", methods=["GET", "HEAD"], summary="Every scoring process has loaded the model: its version, sha256, thresholds")
    async def readyz():
        return {"status": "ready", "workers": workers, "model": batcher.model}

    @app.api_route("/metrics", methods=["GET", "HEAD"], summary="Prometheus metrics", response_class=PlainTextResponse)
    async def prometheus():
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index():
        return FileResponse(WEB_DIR / "index.html")

    return app


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, model_path=None, thresholds=None,
          access_log: bool = False, policy=None, model_sha256=None) -> None:
    """Run the service until interrupted: one HTTP process, ``workers`` scoring processes."""
    import uvicorn

    uvicorn.run(create_app(model_path, thresholds, workers, policy, model_sha256), host=host, port=port, access_log=access_log,
                log_level="info", timeout_graceful_shutdown=10)
