"""Both simulators for the closed-loop e2e tests: the contact e2e suite's world, reused."""

from tests.e2e.conftest import world

__all__ = ["world"]
