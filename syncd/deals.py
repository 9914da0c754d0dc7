"""What crosses the connector boundary for deals besides records: pipelines and associations.

Frozen dataclasses, like `syncd.connector` and `syncd.events`: HubSpot's pipeline JSON and association
replies stay inside the connector.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PipelineStage:
    """One stage of a HubSpot deal pipeline: its id (what `dealstage` holds), label and metadata.

    HubSpot marks closed stages with `metadata.isClosed`; a closed stage with probability 1.0 is won,
    any other closed stage is lost."""

    id: str
    label: str
    is_closed: bool
    probability: float | None = None

    @property
    def is_won(self) -> bool:
        return self.is_closed and self.probability is not None and self.probability >= 1.0


@dataclass(frozen=True)
class Pipeline:
    """A deal pipeline with its stages in display order."""

    id: str
    label: str
    stages: tuple[PipelineStage, ...]

    def stage(self, stage_id: str) -> PipelineStage | None:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        return None

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(stage.id for stage in self.stages)


@dataclass(frozen=True)
class Association:
    """Record `from_id` is associated with record `to_id` (HubSpot associations v4)."""

    from_id: str
    to_id: str
