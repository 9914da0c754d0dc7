"""Fixtures of the lifecycle end-to-end tests: simulators per session, a fresh store per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e_campaigns.world import World, open_world


@pytest.fixture(scope="session")
def world_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from open_world(tmp_path_factory.mktemp("e2e_lifecycle"))


@pytest.fixture
def world(world_session: World, store_url: str) -> World:
    """Freshly seeded simulators and a new store on the backend under test (nobody linked yet)."""
    world_session.reseed(store_url)
    return world_session
