"""Bounds on the HTTP connections of ``overclaim serve``: how many may be open, and how long one may take to send
its request headers.

uvicorn caps neither: a connection that sends nothing, or a header a byte at a time, stays open for ever, and
20,200 of them exhausted the server's file descriptors (issue 12). Here the oldest idle connection is closed when
a new one would go over :data:`MAX_CONNECTIONS` (so a flood of idle sockets cannot lock out real clients), and a
connection that has not sent complete headers :data:`HEADER_TIMEOUT` seconds after it opened, or after it started
its next request, is closed.
"""
from __future__ import annotations

import asyncio
import time

MAX_CONNECTIONS = 1_000
HEADER_TIMEOUT = 10.0


def bounded_protocol(max_connections: int = MAX_CONNECTIONS, header_timeout: float = HEADER_TIMEOUT) -> type:
    """uvicorn's httptools protocol with these bounds, for ``uvicorn.run(http=...)``."""
    # Imported here so that the CLI can read the defaults above without the serve extra installed.
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpTools(HttpToolsProtocol):
        opened = 0.0
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self.opened = time.monotonic()
            self._await_headers()
            # Every connection of this server is one of ours (uvicorn's set is typed as any protocol).
            open_: list[BoundedHttpTools] = [c for c in self.connections  # type: ignore[misc]
                                             if not c.transport.is_closing()]
            if len(open_) > max_connections:
                idle = [c for c in open_ if c is not self and c._idle()]
                (min(idle, key=lambda c: c.opened) if idle else self).transport.close()

        def _idle(self) -> bool:
            """No request of this connection is being answered (it may be sending headers)."""
            return self.cycle is None or self.cycle.response_complete

        def _await_headers(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def _stop_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._await_headers()

        def on_headers_complete(self) -> None:
            self._stop_timer()
            super().on_headers_complete()

        def connection_lost(self, exc) -> None:
            self._stop_timer()
            super().connection_lost(exc)

    return BoundedHttpTools
