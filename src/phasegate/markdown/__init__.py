"""Import rollout plans written as Markdown: parse -> map -> emit (see docs/markdown-import.md)."""

from __future__ import annotations

from phasegate.markdown.emit import ImportResult, import_markdown, import_markdown_file
from phasegate.markdown.errors import MarkdownImportError

__all__ = ["ImportResult", "MarkdownImportError", "import_markdown", "import_markdown_file"]
