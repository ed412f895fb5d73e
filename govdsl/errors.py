"""The exception tree of govdsl; every exception the CLI reports derives from GovdslError."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from govdsl.diagnostics import Diagnostic


class GovdslError(Exception):
    """Base class of all errors govdsl reports to its user."""

    exit_code = 2


class InvalidInputError(GovdslError):
    """Input that cannot be used: a policy, catalog or bundle with errors; nothing is evaluated.

    Carries every diagnostic found, and the source texts the diagnostics point into,
    so the caller can render them with their source lines.
    """

    def __init__(
        self, diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None
    ) -> None:
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        first = self.diagnostics[0].message if self.diagnostics else "invalid input"
        super().__init__(first)


class InternalError(GovdslError):
    """A bug in govdsl itself, never a problem with the user's input."""

    exit_code = 3
