"""Every flow the configuration accepts can be built: none is accepted and then silently skipped."""

from __future__ import annotations

from syncd.cli.flows import BUILDERS
from syncd.config.flows import FLOW_NAMES


def test_every_configurable_flow_has_a_builder() -> None:
    assert sorted(BUILDERS) == sorted(FLOW_NAMES)
