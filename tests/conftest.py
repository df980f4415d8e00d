"""Shared fixtures: the real bundled model, loaded once, and the real server on a free loopback port."""
import http.client
import json
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

import overclaim

BIN = Path(sys.executable).parent / "overclaim"


@pytest.fixture(scope="session")
def scorer():
    return overclaim.load()


@pytest.fixture(scope="session")
def risk(scorer):
    """Risk of a single sentence (or a document: its riskiest sentence)."""
    return lambda text: scorer.score(text).risk


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """A running ``overclaim serve``: its URL, its process, and plain HTTP requests to it."""

    def __init__(self, process, port, log):
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"

    def request(self, method, path, body=None, headers=None):
        """``(status, headers, parsed JSON or text)``; a dict body is sent as JSON."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = headers or {}
            if body is not None:
                headers = {"Content-Type": "application/json", **headers}
            connection.request(method, path, body=body, headers=headers,
                               encode_chunked=headers.get("Transfer-Encoding") == "chunked")
            reply = connection.getresponse()
            data = reply.read()
        finally:
            connection.close()
        kind = reply.getheader("content-type", "")
        return reply.status, dict(reply.getheaders()), json.loads(data) if "json" in kind and data else data.decode()

    def post(self, path, body, **kwargs):
        return self.request("POST", path, body, **kwargs)


@contextmanager
def running_server(args, tmp_path, env=None, cwd=None, timeout=90):
    """Start ``args`` (a serve command missing only ``--port``) and wait until /readyz answers."""
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([*map(str, args), "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                   env=env, cwd=cwd)
    server = LiveServer(process, port, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                if server.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after {timeout} s: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One real server for the session, with two scoring processes."""
    with running_server([BIN, "serve", "--workers", "2"], tmp_path_factory.mktemp("server")) as live:
        yield live
