"""The one error type the Markdown importer raises."""

from __future__ import annotations

from phasegate.errors import PhasegateError


class MarkdownImportError(PhasegateError):
    """A document cannot be imported: missing, binary, not UTF-8, or not mappable to a plan.

    Exit code 2 (nothing ran), like every plan error.
    """
