"""Load test of `overclaim serve` on loopback: throughput and latency, then a bad-input storm.

Usage: python bench/serve_load.py [--clients 16] [--seconds 20] [--workers 1] [--url http://127.0.0.1:PORT]
Starts `overclaim serve` on a free port (unless --url names a running server) and waits for /readyz.

Phase 1: --clients concurrent clients, each on its own keep-alive connection, POST /v1/score with ~1 KB texts
made of corpus sentences, back to back for --seconds. Prints requests/s, p50/p99 latency and errors (any
non-200 answer or broken connection). Targets: >= 300 requests/s, p99 <= 50 ms, zero errors.

Phase 2, the storm: the same clients for --seconds, every third request valid and the others malformed JSON,
bodies over 1 MiB, texts over 100,000 characters, wrong types, unknown fields and bad thresholds. Passes when
every bad request gets a 4xx (never a 5xx or a dropped connection), every valid answer equals the answer the
same text got on a quiet server, and /healthz and /readyz still answer 200 afterwards.

Phase 3, the largest requests (one client): the largest /v1/moderate the limits allow (MAX_SENTENCES_PER_REQUEST
sentences, as many per text as allowed, at most 100,000 characters each) three times, and one over it (900 KB of
short lines in 70 items, the request of issue 12); prints
the time and answer size of each and, for a server started here, the HTTP process's RSS before and after.
"""
import argparse
import asyncio
import json
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "overclaim"


def texts_of_about(size: int, count: int, seed: int = 0) -> list[str]:
    """``count`` texts of corpus sentences, each just over ``size`` characters."""
    sentences = pd.read_csv(ROOT / "data" / "corpus.csv").text.tolist()
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        while sum(map(len, parts)) + len(parts) < size:
            parts.append(rng.choice(sentences))
        texts.append(" ".join(parts))
    return texts


def bad_bodies() -> list[bytes]:
    """Requests that must be refused with a 4xx."""
    return [
        b'{"text": "Zinc cures colds.',                                   # truncated JSON
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",
        b"",
        json.dumps({"text": 42}).encode(),
        json.dumps({"text": ["a", "b"]}).encode(),
        json.dumps({"txt": "misspelled field"}).encode(),
        json.dumps({"text": "ok", "thresholds": {"review": 0.9, "block": 0.1}}).encode(),
        json.dumps({"text": "ok", "thresholds": {"review": "low", "block": 1}}).encode(),
        json.dumps({"text": "x" * 100_001}).encode(),                     # over the text limit
        json.dumps({"text": "y" * (1 << 20)}).encode(),                   # over the body limit
    ]


class Client:
    """One keep-alive HTTP/1.1 connection; a reply is (status, body bytes)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        try:
            await self.writer.drain()
            header = await self.reader.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            # The server may answer 413 before reading a huge body, then close; the answer is still readable.
            await self.close()
            raise
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(fields.get("content-length", fields.get("Content-Length", 0)))
        data = await self.reader.readexactly(length)
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, data

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def load(host, port, texts, clients: int, seconds: float, storm: bool, expected: dict) -> dict:
    latencies, errors, mismatches, server_errors = [], [], 0, 0
    bad = bad_bodies()
    deadline = time.perf_counter() + seconds

    async def one_client(number: int):
        nonlocal mismatches, server_errors
        client, i = Client(host, port), number
        while time.perf_counter() < deadline:
            i += clients
            valid = not storm or i % 3 == 0
            text = texts[i % len(texts)]
            body = json.dumps({"text": text}).encode() if valid else bad[i % len(bad)]
            started = time.perf_counter()
            try:
                status, data = await client.post("/v1/score", body)
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as error:
                errors.append(f"connection: {type(error).__name__}")
                continue
            if valid:
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(f"HTTP {status}: {data[:120]!r}")
                elif storm and json.loads(data) != expected[text]:
                    mismatches += 1
            elif status >= 500 or status < 400:
                server_errors += 1
                errors.append(f"bad input got HTTP {status}: {data[:120]!r}")
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    return {"valid": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "errors": errors, "mismatches": mismatches, "server_errors": server_errors}


def largest(host: str, port: int, pid: int | None) -> str:
    """Phase 3: the largest legal /v1/moderate, and the 900 KB request of short lines that is refused."""
    from overclaim.scorer import MAX_SENTENCES_PER_REQUEST, MAX_SENTENCES_PER_TEXT

    rss = lambda: (int(next(line for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS")).split()[1])
                   // 1024 if pid else None)
    line = "Zinc may help some people sleep a bit better.\n"  # 2,000 of them fit in 100,000 characters
    sizes = [MAX_SENTENCES_PER_TEXT] * (MAX_SENTENCES_PER_REQUEST // MAX_SENTENCES_PER_TEXT)
    sizes.append(MAX_SENTENCES_PER_REQUEST - sum(sizes))
    legal = json.dumps({"items": [{"text": line * n} for n in sizes if n]}).encode()
    over = json.dumps({"items": [{"text": "Zinc.\n" * 2_000}] * 70}).encode()

    async def post(body):
        client = Client(host, port)
        started = time.perf_counter()
        status, data = await client.post("/v1/moderate", body)
        await client.close()
        return status, time.perf_counter() - started, len(data)

    before = rss()
    runs = [asyncio.run(post(legal)) for _ in range(3)]
    refused = asyncio.run(post(over))
    return (f"largest: {MAX_SENTENCES_PER_REQUEST:,} sentences ({len(legal) / 1e6:.2f} MB): HTTP "
            f"{'/'.join(str(r[0]) for r in runs)} in {', '.join(f'{r[1]:.2f}' for r in runs)} s, answer "
            f"{runs[0][2] / 1e6:.1f} MB; 900 KB of short lines ({len(over) / 1e6:.2f} MB): HTTP {refused[0]} in "
            f"{refused[1]:.2f} s" + (f"; HTTP process RSS {before} -> {rss()} MB" if pid else ""))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} not ready after {timeout:.0f} s")


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status
    except OSError as error:
        return getattr(error, "code", 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (when it is started here)")
    parser.add_argument("--text-size", type=int, default=1000, help="characters per text (default 1000)")
    parser.add_argument("--url", help="a running server to test instead of starting one")
    args = parser.parse_args()

    server = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--workers", str(args.workers)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(url)
        host, port = url.removeprefix("http://").split(":")
        texts = texts_of_about(args.text_size, 200)
        print(f"{url}: {args.clients} clients, {args.seconds:.0f} s per phase, texts of ~{args.text_size} "
              f"characters, server workers: {args.workers if server else 'as running'}")

        quiet = asyncio.run(load(host, int(port), texts, args.clients, args.seconds, False, {}))
        print(f"load:  {quiet['rps']:.0f} requests/s, p50 {quiet['p50_ms']:.1f} ms, p99 {quiet['p99_ms']:.1f} ms, "
              f"errors {len(quiet['errors'])} (targets: >= 300/s, p99 <= 50 ms, 0 errors)")

        async def reference():
            client = Client(host, int(port))
            answers = {text: json.loads((await client.post("/v1/score", json.dumps({"text": text}).encode()))[1])
                       for text in texts}
            await client.close()
            return answers

        expected = asyncio.run(reference())
        storm = asyncio.run(load(host, int(port), texts, args.clients, args.seconds, True, expected))
        healthy = status_of(url + "/healthz") == 200 and status_of(url + "/readyz") == 200
        print(f"storm: {storm['valid']} valid requests beside ~{2 * storm['valid']} bad ones; "
              f"valid answers changed: {storm['mismatches']}; bad input answered 5xx or 2xx: "
              f"{storm['server_errors']}; errors {len(storm['errors'])}; healthy after: {healthy}")
        print(largest(host, int(port), server.pid if server else None))
        for error in sorted(set(quiet["errors"] + storm["errors"]))[:10]:
            print("  ", error)
        ok = not quiet["errors"] and not storm["errors"] and not storm["mismatches"] and healthy
        return 0 if ok else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
