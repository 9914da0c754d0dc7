"""Errors raised by the closed-loop reports: each says what is wrong and what to do."""

from __future__ import annotations

from syncd.errors import SyncdError


class ReportError(SyncdError):
    """A report cannot be computed as asked (wrong model for the conversion, bad parameter, ...)."""


class ModelNotApplicableError(ReportError):
    """The attribution model needs a key point that the conversion type does not have."""


class TooManyChannelsError(ReportError):
    """Exact Shapley values are only computed up to a fixed number of channels."""


class CsvDataError(ReportError):
    """One or more rows of a `--data DIR` folder could not be read; `problems` lists every one."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        super().__init__("; ".join(problems), hint=hint)
        self.problems = problems
