"""Score the texts of concurrent HTTP requests together, in a pool of scoring processes.

Two measurements shaped this (both from ``bench/serve_load.py`` and a profile of the server):

- scoring has a fixed cost per call: a 1 KB text alone takes ~5 ms, but 16 of them together ~2.3 ms each. So
  requests wait in a queue, and each free scoring process takes whatever has arrived (up to a character
  budget) in one :meth:`Scorer.score_many` call per thresholds and policy. A lone request is sent at once: nothing waits
  for company.
- with uvicorn's own worker processes, each keep-alive connection stays with the worker that accepted it, and
  16 clients ended up 11 on one worker and 5 on the other, leaving a core half idle. Here one process speaks
  HTTP and every batch goes to whichever scoring process is free, whatever connection it came from.

Each scoring process loads the model once, when it starts; :meth:`MicroBatcher.start` waits until all have.
"""
from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from overclaim.scorer import load

# Characters scored in one call at most: ~250 ms of work, which bounds how long one batch delays the next.
BATCH_CHARS = 200_000

_SCORER = None  # the model of this scoring process, loaded by _load_model when the process starts


def _load_model(model_path, thresholds, policy, server_pid: int, sha256) -> None:
    global _SCORER
    threading.Thread(target=_exit_with_server, args=(server_pid,), daemon=True).start()
    _SCORER = load(model_path, thresholds=thresholds, policy=policy, sha256=sha256)


def _exit_with_server(server_pid: int) -> None:
    """End this scoring process when the server process is gone, however it ended (even SIGKILL, which leaves no
    chance to shut the pool down): an orphan would hold its model's memory for ever."""
    while os.getppid() == server_pid:
        time.sleep(1.0)
    os._exit(0)


def _model_info(pause: float) -> dict:
    time.sleep(pause)  # keeps this process busy so that every warm-up call lands on a process of its own
    return {"version": _SCORER.model.meta["model_version"], "sha256": _SCORER.model.meta["sha256"],
            "thresholds": _SCORER.thresholds, "policy": _SCORER.policy.name}


def _score_jobs(jobs: list[tuple[list[str], dict | None, str | None]]) -> list[list[dict]]:
    """The records of each job's texts; jobs with the same thresholds and policy are scored in one call."""
    by_settings = {}
    for index, (_, thresholds, policy) in enumerate(jobs):
        key = (None if thresholds is None else (thresholds["review"], thresholds["block"]), policy)
        by_settings.setdefault(key, []).append(index)
    answers = [None] * len(jobs)
    for indices in by_settings.values():
        texts = [text for i in indices for text in jobs[i][0]]
        _, thresholds, policy = jobs[indices[0]]
        results = iter(_SCORER.score_many(texts, thresholds, policy))
        for i in indices:
            answers[i] = [next(results).to_dict() for _ in jobs[i][0]]
    return answers


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
    """

    def __init__(self, model_path=None, thresholds=None, workers: int = 1, batch_chars: int = BATCH_CHARS,
                 policy=None, model_sha256=None):
        self.model_path, self.thresholds, self.policy = model_path, thresholds, policy
        self.model_sha256 = model_sha256
        self.workers, self.batch_chars = workers, batch_chars
        self.model: dict | None = None
        self._pool = None
        self._queue: asyncio.Queue | None = None
        self._free: asyncio.Semaphore | None = None
        self._busy = 0

    async def start(self) -> None:
        """Start the scoring processes and return once each has loaded the model."""
        self._queue, self._free = asyncio.Queue(), asyncio.Semaphore(self.workers)
        self._pool = self._new_pool()
        loop = asyncio.get_running_loop()
        infos = await asyncio.gather(*(loop.run_in_executor(self._pool, _model_info, 0.2)
                                       for _ in range(self.workers)))
        self.model = infos[0]

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: this process runs an event loop and executor threads, which fork does not copy safely.
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_load_model, initargs=(self.model_path, self.thresholds, self.policy,
                                                                            os.getpid(), self.model_sha256))

    def close(self) -> None:
        """Stop the scoring processes and wait for them to exit (uvicorn ends the process with the signal it
        caught, so nothing may be left to exit-time handlers)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    async def score(self, texts: list[str], thresholds: dict | None = None, policy: str | None = None) -> list[dict]:
        """The records of ``texts``, scored together with whatever other requests are waiting; ``policy`` names a
        shipped policy (the server's when ``None``)."""
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((texts, thresholds, policy, future))
        return await future

    async def run(self) -> None:
        """Hand batches to free scoring processes until cancelled."""
        pending = set()
        while True:
            await self._free.acquire()
            jobs = [await self._queue.get()]
            # What is waiting is shared among the free processes, so one of them does not take it all.
            share = math.ceil((1 + self._queue.qsize()) / (self.workers - self._busy))
            size = sum(map(len, jobs[0][0]))
            while not self._queue.empty() and len(jobs) < share and size < self.batch_chars:
                jobs.append(self._queue.get_nowait())
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
                answers = await loop.run_in_executor(pool, _score_jobs, payload)
            except BrokenProcessPool:
                # A scoring process died (killed, out of memory): start fresh ones and try this batch once more.
                if self._pool is pool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._new_pool()
                answers = await loop.run_in_executor(self._pool, _score_jobs, payload)
        except Exception as error:  # noqa: BLE001 - each waiting request gets the error
            answers = [error] * len(jobs)
        finally:
            self._busy -= 1
            self._free.release()
        for (*_, future), answer in zip(jobs, answers):
            if future.done():  # the client went away
                continue
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)
