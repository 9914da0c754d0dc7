"""Fixtures: the tiny core-only simulator served over real loopback sockets, and TLS files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.sandbox_core.server import SandboxServer, TLSFiles, make_tls
from tests.connectors.sandbox_core.tiny_sim import Running, TinySim, build_app, fresh


@pytest.fixture(scope="module")
def _tiny_module() -> Iterator[Running]:
    sim = TinySim()
    with SandboxServer(build_app(sim)) as server:
        yield Running(sim, server)


@pytest.fixture
def tiny(_tiny_module: Running) -> Running:
    """The tiny simulator over plain HTTP, reset to a clean state for each test."""
    fresh(_tiny_module.sim)
    return _tiny_module


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    directory: Path = tmp_path_factory.mktemp("tls")
    return make_tls(directory)
