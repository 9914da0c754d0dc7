"""Fixtures of the campaigns end-to-end suite: simulators per session, a fresh store per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .world import World, open_world


@pytest.fixture(scope="session")
def world_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from open_world(tmp_path_factory.mktemp("e2e_campaigns"))


@pytest.fixture
def world(world_session: World, store_url: str) -> World:
    """Freshly seeded simulators, a new store on the backend under test, people linked once."""
    world_session.reseed(store_url)
    world_session.sync_contacts()
    world_session.reset_counters()
    return world_session
