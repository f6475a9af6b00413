"""Render the report document as Markdown, HTML or JSON."""

from __future__ import annotations

import json
from typing import Any


def render(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n"
    raise NotImplementedError(fmt)
