"""Serves a simulator's ASGI app with uvicorn on loopback, in a background thread, optionally over TLS."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from connectors.sandbox_core.middleware import ABORT_EXTENSION

logger = logging.getLogger(__name__)

_CA_FILE = "sandbox-ca.pem"
_CERT_FILE = "sandbox-server.pem"
_KEY_FILE = "sandbox-server.key"


@dataclass(frozen=True)
class TLSFiles:
    """A test CA and a server certificate for loopback, as PEM files."""

    ca_pem: Path
    cert_pem: Path
    key_pem: Path


def make_tls(directory: Path) -> TLSFiles:
    """A trustme CA and a server certificate for 127.0.0.1, localhost and ::1, written to `directory`.

    Files already there are reused, so clients that trust the CA keep working across restarts.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(directory / _CA_FILE, directory / _CERT_FILE, directory / _KEY_FILE)
    if files.ca_pem.is_file() and files.cert_pem.is_file() and files.key_pem.is_file():
        return files
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca.cert_pem.write_to_path(str(files.ca_pem))
    files.cert_pem.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(files.key_pem))
    files.key_pem.chmod(0o600)
    return files


class _SandboxMixin:
    """What the simulators add to uvicorn's HTTP protocols: Nagle disabled, and a way for faults to
    drop the connection."""

    app: ASGIApp
    transport: asyncio.Transport
    cycle: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner: ASGIApp = self.app

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            extensions = scope.get("extensions") or {}
            scope["extensions"] = {**extensions, ABORT_EXTENSION: self._abort}
            await inner(scope, receive, send)

        self.app = app

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Keep-alive clients otherwise stall ~40 ms per request (Nagle + delayed ACK).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[misc]  # the protocol class mixed in

    def drop_if_idle(self) -> None:
        """Close at once when no request is in flight (a TLS close would wait on the client's reply)."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()

    def _abort(self, reset: bool) -> None:
        if reset:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                # Linger 0: close sends RST, so clients see a connection reset rather than a clean close.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


class _H11Protocol(_SandboxMixin, H11Protocol):
    pass


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class _HttpToolsProtocol(_SandboxMixin, HttpToolsProtocol):
        pass
except ImportError:  # httptools is optional; h11 is pure Python and always there
    _SandboxProtocol: type[_H11Protocol] | type[_HttpToolsProtocol] = _H11Protocol
else:
    # httptools (C) parses requests several times faster than h11: the simulators must never be
    # the bottleneck of a benchmark.
    _SandboxProtocol = _HttpToolsProtocol


class _Server(uvicorn.Server):
    """uvicorn's server, telling the starting thread once it listens.

    It runs off the main thread, so uvicorn installs no signal handlers: the host process keeps its own.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for connection in list(self.server_state.connections):
            if isinstance(connection, _SandboxProtocol):
                connection.drop_if_idle()
        await super().shutdown(sockets=sockets)
        # Connections still hanging in a fault after the grace period: drop them so no transport leaks.
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        await asyncio.sleep(0)


class SandboxServer:
    """Serves an ASGI app with uvicorn on `host` (loopback) in a background thread.

    Port 0 picks a free port (read `port` / `base_url` after `start()`). TCP_NODELAY is set on every
    accepted socket. With `tls`, serves HTTPS with the given certificate (see `make_tls`).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TLSFiles | None = None,
        start_timeout: float = 10.0,
        grace_seconds: int = 1,
    ) -> None:
        self._app = app
        self.host = host
        self.port = port
        self.tls = tls
        self._start_timeout = start_timeout
        self._grace_seconds = grace_seconds
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start serving; returns once the socket accepts connections."""
        if self._thread is not None:
            raise RuntimeError(f"sandbox server on {self.base_url} is already started")
        sock = self._bind()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            http=_SandboxProtocol,
            loop="asyncio",
            lifespan="off",
            access_log=False,
            log_config=None,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=self._grace_seconds,
            # Longer than uvicorn's 5 s, so a test that pauses does not race the server closing an idle
            # keep-alive connection (requests does not retry that); stop() drops idle ones at once anyway.
            timeout_keep_alive=60,
            ssl_certfile=str(self.tls.cert_pem) if self.tls else None,
            ssl_keyfile=str(self.tls.key_pem) if self.tls else None,
        )
        server = _Server(config)
        thread = threading.Thread(
            target=self._run, args=(server, sock), name=f"sandbox-server-{self.port}", daemon=True
        )
        self._server, self._thread, self._error = server, thread, None
        thread.start()
        if not server.ready.wait(self._start_timeout) or not server.started:
            self.stop()
            raise RuntimeError(
                f"sandbox server on {self.base_url} did not start within {self._start_timeout} s"
            ) from self._error
        logger.debug("sandbox server listening on %s", self.base_url)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, close every connection and the listening socket, and join the thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"sandbox server on {self.base_url} did not stop within {2 * timeout} s")
        self._server, self._thread = None, None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        return sock

    def _run(self, server: _Server, sock: socket.socket) -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit from a failed start-up included: report it to start()
            self._error = exc
            logger.error("sandbox server on port %d failed: %s", self.port, type(exc).__name__)
        finally:
            sock.close()
            server.ready.set()
