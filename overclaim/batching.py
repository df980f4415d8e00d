"""Score the texts of concurrent HTTP requests together, in a pool of scoring processes.

Two measurements shaped this (both from ``bench/serve_load.py`` and a profile of the server):

- scoring has a fixed cost per call: a 1 KB text alone takes ~5 ms, but 16 of them together ~2.3 ms each. So
  requests wait in a queue, and each free scoring process takes whatever has arrived (up to a character
  budget) in one :meth:`Scorer.score_many` call per thresholds and policy. A lone request is sent at once: nothing waits
  for company.
- with uvicorn's own worker processes, each keep-alive connection stays with the worker that accepted it, and
  16 clients ended up 11 on one worker and 5 on the other, leaving a core half idle. Here one process speaks
  HTTP and every batch goes to whichever scoring process is free, whatever connection it came from.

Each scoring process loads the model once, when it starts; :meth:`MicroBatcher.start` waits until all have, and
the batcher is :attr:`~MicroBatcher.ready` only while every scoring process it started is alive with the model
whose sha256 it reports. Work is bounded per request (:data:`~overclaim.scorer.MAX_SENTENCES_PER_TEXT`,
:data:`~overclaim.scorer.MAX_SENTENCES_PER_REQUEST`), a request whose client went away is dropped from the queue,
and a job that fails inside a batch fails alone.
"""
from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from overclaim.loader import ModelError
from overclaim.scorer import MAX_SENTENCES_PER_REQUEST, MAX_SENTENCES_PER_TEXT, Scorer, load
from overclaim.sentences import sentence_bound, sentence_spans

# Characters scored in one call at most: ~250 ms of work, which bounds how long one batch delays the next.
BATCH_CHARS = 200_000

LOG = logging.getLogger("uvicorn.error")
_SCORER: Scorer | None = None  # the model of this scoring process, loaded by _load_model when the process starts
_REFUSED = None  # why this scoring process refused its model, if it did


class TooManySentences(ValueError):
    """A request over a sentence limit: ``index`` is the position of the text over the per-text limit and ``count``
    its sentences, or ``index`` is ``None`` when the request as a whole is over its limit (counted up to the text
    that took it over)."""

    def __init__(self, count: int, index: int | None = None):
        super().__init__(count, index)
        self.count, self.index = count, index


class NotReady(RuntimeError):
    """The scoring processes are not up with the server's model; the message says why in one line."""


def _load_model(model_path, thresholds, policy, server_pid: int, sha256: str | None) -> None:
    global _SCORER, _REFUSED
    threading.Thread(target=_exit_with_server, args=(server_pid,), daemon=True).start()
    try:
        _SCORER = load(model_path, thresholds=thresholds, policy=policy, sha256=sha256)
    except (ModelError, OSError) as error:
        _REFUSED = str(error)


def _exit_with_server(server_pid: int) -> None:
    """End this scoring process when the server process is gone, however it ended (even SIGKILL, which leaves no
    chance to shut the pool down): an orphan would hold its model's memory for ever."""
    while os.getppid() == server_pid:
        time.sleep(1.0)
    os._exit(0)


def _model_info(pause: float) -> dict:
    time.sleep(pause)  # keeps this process busy so that every warm-up call lands on a process of its own
    if _REFUSED is not None:
        return {"refused": _REFUSED, "pid": os.getpid()}
    scorer = _loaded()
    return {"version": scorer.model.meta["model_version"], "sha256": scorer.model.meta["sha256"],
            "thresholds": scorer.thresholds, "policy": scorer.policy.name, "pid": os.getpid()}


def _loaded() -> Scorer:
    """The scorer of this process: a process that refused its model answers only :func:`_model_info`."""
    if _SCORER is None:
        raise ModelError(_REFUSED or "this scoring process has no model")
    return _SCORER


def _over_limit(texts: list[str]) -> TooManySentences | None:
    """The limit ``texts`` break, if any. Texts are split only when their bounds could be over a limit, and then
    only until a limit is known to be broken: at most ~7,000 sentences, ~50 ms."""
    bounds = [sentence_bound(text) for text in texts]
    if max(bounds, default=0) <= MAX_SENTENCES_PER_TEXT and sum(bounds) <= MAX_SENTENCES_PER_REQUEST:
        return None
    total = 0
    for index, text in enumerate(texts):
        count = len(sentence_spans(text))
        if count > MAX_SENTENCES_PER_TEXT:
            return TooManySentences(count, index)
        total += count
        if total > MAX_SENTENCES_PER_REQUEST:
            return TooManySentences(total)
    return None


def _score_jobs(jobs: list[tuple[list[str], dict | None, str | None]]) -> list[list[dict] | Exception]:
    """The records of each job's texts, or the exception that job alone raised; jobs with the same thresholds and
    policy are scored in one call."""
    answers: list = [_over_limit(texts) for texts, _, _ in jobs]  # each job's entry is set below
    by_settings: dict[tuple, list[int]] = {}
    for index, (_, thresholds, policy) in enumerate(jobs):
        if answers[index] is None:
            key = (None if thresholds is None else (thresholds["review"], thresholds["block"]), policy)
            by_settings.setdefault(key, []).append(index)
    for indices in by_settings.values():
        try:
            _score_together(jobs, indices, answers)
        except Exception:  # noqa: BLE001 - scored again one job at a time, so only the job at fault fails
            for i in indices:
                try:
                    _score_together(jobs, [i], answers)
                except Exception as error:  # noqa: BLE001 - the answer of this job
                    answers[i] = error
    return answers


def _score_together(jobs, indices: list[int], answers: list) -> None:
    texts = [text for i in indices for text in jobs[i][0]]
    _, thresholds, policy = jobs[indices[0]]
    results = iter(_loaded().score_many(texts, thresholds, policy))
    for i in indices:
        answers[i] = [next(results).to_dict() for _ in jobs[i][0]]


class MicroBatcher:
    """Queue texts from many coroutines and score them in batches on ``workers`` processes.

    Parameters
    ----------
    model_path : str or Path, optional
        Model directory (the bundled model when ``None``).
    thresholds : dict, optional
        The server's default ``{"review": x, "block": y}``; a request may bring its own.
    policy : Policy, optional
        The server's default policy (``default`` when ``None``); a request may name a shipped one.
    workers : int
        Scoring processes, each with its own copy of the model.
    model_sha256 : str, optional
        The artifact's digest each scoring process requires before it parses the model.
    batch_chars : int
        Most characters sent to one process in one call.
    on_cancel : callable, optional
        Called with ``"queued"`` for each job dropped unscored because its client went away, and ``"scoring"`` for
        each whose answer came too late.
    on_restart : callable, optional
        Called each time the scoring processes are restarted because one died.
    """

    def __init__(self, model_path=None, thresholds=None, workers: int = 1, batch_chars: int = BATCH_CHARS,
                 policy=None, on_cancel=None, on_restart=None, model_sha256=None):
        self.model_path, self.thresholds, self.policy = model_path, thresholds, policy
        self.model_sha256 = model_sha256
        self.workers, self.batch_chars = workers, batch_chars
        self.on_cancel = on_cancel or (lambda stage: None)
        self.on_restart = on_restart or (lambda: None)
        self.model: dict | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._pids: set[int] = set()
        self._refused: str | None = None
        # asyncio's primitives bind to the running loop when first used, not here.
        self._rebuilding = asyncio.Lock()
        self._restart: asyncio.Task | None = None  # held so that the event loop does not drop it half done
        self._queue: asyncio.Queue = asyncio.Queue()
        self._free = asyncio.Semaphore(workers)
        self._busy = 0

    async def start(self) -> None:
        """Start the scoring processes and return once each has loaded the model."""
        await self._warm_up()
        if self._refused is not None:
            raise ModelError(self._refused)

    async def _warm_up(self) -> None:
        """A new pool, ready only when every process has loaded the model the server reports."""
        self._pids = set()
        self._pool = pool = self._new_pool()
        loop = asyncio.get_running_loop()
        infos: dict[int, dict] = {}
        try:
            # A process still loading takes no call, so calls are sent until every process has answered one.
            while len(infos) < self.workers and not any("refused" in info for info in infos.values()):
                for info in await asyncio.gather(*(loop.run_in_executor(pool, _model_info, 0.2)
                                                   for _ in range(self.workers))):
                    infos[info["pid"]] = info
        except BrokenProcessPool as error:
            infos = {0: {"refused": f"a scoring process died while loading the model ({error})"}}
        answered = list(infos.values())
        refusal = next((info["refused"] for info in answered if "refused" in info), None)
        if refusal is not None:
            self._refused = refusal
            pool.shutdown(wait=False, cancel_futures=True)
            LOG.error("overclaim: the scoring processes refused the model: %s; /readyz answers 503 and requests "
                      "get 503 until the server is restarted with a model that loads", refusal)
            return
        self.model = self.model or {k: v for k, v in answered[0].items() if k != "pid"}
        self._pids = {info["pid"] for info in answered}

    @property
    def ready(self) -> bool:
        """Every scoring process started is alive, with the model of :attr:`model`."""
        alive = {process.pid for process in multiprocessing.active_children()}
        return bool(self._pids) and self._pids <= alive

    @property
    def queue_depth(self) -> int:
        """Jobs waiting for a free scoring process (those of clients that went away until they are dropped)."""
        return self._queue.qsize()

    def not_ready_reason(self) -> str:
        """One line: why the batcher is not :attr:`ready`."""
        if self._refused is not None:
            return f"the scoring processes refused the model: {self._refused}"
        return "the scoring processes are (re)starting"

    async def check(self) -> bool:
        """:attr:`ready`; when a scoring process has died, new ones are started (in the background)."""
        if self.ready:
            return True
        if self._refused is None and not self._rebuilding.locked():
            self._restart = asyncio.get_running_loop().create_task(self._rebuild(self._pool))
        return False

    async def _rebuild(self, broken) -> None:
        """Replace the pool ``broken`` unless someone already has."""
        async with self._rebuilding:
            if self._pool is broken and broken is not None and self._refused is None:
                broken.shutdown(wait=False, cancel_futures=True)
                self.on_restart()
                await self._warm_up()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: this process runs an event loop and executor threads, which fork does not copy safely.
        # A replacement process must serve the model the server reports: its digest is pinned, checked by the
        # loader before the file is parsed (the first processes take the caller's pin, if any).
        sha256 = self.model["sha256"] if self.model else self.model_sha256
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_load_model, initargs=(self.model_path, self.thresholds, self.policy,
                                                                      os.getpid(), sha256))

    def close(self) -> None:
        """Stop the scoring processes and wait for them to exit (uvicorn ends the process with the signal it
        caught, so nothing may be left to exit-time handlers)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    async def score(self, texts: list[str], thresholds: dict | None = None, policy: str | None = None) -> list[dict]:
        """The records of ``texts``, scored together with whatever other requests are waiting; ``policy`` names a
        shipped policy (the server's when ``None``). Raises :class:`TooManySentences` past a sentence limit and
        :class:`NotReady` when the scoring processes refused the model; cancelling the call drops the job."""
        if self._refused is not None:
            raise NotReady(self.not_ready_reason())
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((texts, thresholds, policy, future))
        return await future

    async def _next_job(self) -> tuple:
        while True:
            job = await self._queue.get()
            if not job[-1].cancelled():
                return job
            self.on_cancel("queued")

    async def run(self) -> None:
        """Hand batches to free scoring processes until cancelled."""
        pending = set()
        while True:
            await self._free.acquire()
            jobs = [await self._next_job()]
            # What is waiting is shared among the free processes, so one of them does not take it all.
            share = math.ceil((1 + self._queue.qsize()) / (self.workers - self._busy))
            size = sum(map(len, jobs[0][0]))
            while not self._queue.empty() and len(jobs) < share and size < self.batch_chars:
                job = self._queue.get_nowait()
                if job[-1].cancelled():
                    self.on_cancel("queued")
                    continue
                jobs.append(job)
                size += sum(map(len, jobs[-1][0]))
            self._busy += 1
            task = asyncio.create_task(self._dispatch(jobs))
            pending.add(task)
            task.add_done_callback(pending.discard)

    async def _dispatch(self, jobs: list) -> None:
        loop = asyncio.get_running_loop()
        payload = [(texts, thresholds, policy) for texts, thresholds, policy, _ in jobs]
        pool = self._pool
        try:
            try:
                if self._refused is not None:
                    raise NotReady(self.not_ready_reason())
                answers = await loop.run_in_executor(pool, _score_jobs, payload)
            except BrokenProcessPool:
                # A scoring process died (killed, out of memory): start fresh ones and try this batch once more.
                await self._rebuild(pool)
                if self._refused is not None:
                    raise NotReady(self.not_ready_reason()) from None
                answers = await loop.run_in_executor(self._pool, _score_jobs, payload)
        except Exception as error:  # noqa: BLE001 - each waiting request gets the error
            answers = [error] * len(jobs)
        finally:
            self._busy -= 1
            self._free.release()
        for (*_, future), answer in zip(jobs, answers):
            if future.done():  # the client went away
                self.on_cancel("scoring")
                continue
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)
