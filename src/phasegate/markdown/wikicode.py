"""Code blocks written in another site's syntax (blind round 10, issue 11 §11).

- Hugo shortcodes: ``{{< highlight bash >}}`` … ``{{< /highlight >}}`` (and ``{{< code
  lang="bash" >}}``, the ``{{% … %}}`` form): a fence of that language.
- Confluence wiki markup left in a page: ``{code:bash}`` … ``{code}``, ``{noformat}`` …
  ``{noformat}`` (a text fence), ``h2. Title`` headings, ``# item`` numbered items and
  ``{{monospace}}`` — only in a document that is Confluence markup (``{code`` macros or two
  ``hN.`` headings), where ``# Disable shard allocation:`` is an item, not a heading.

Dropped, their commands would leave the plan "nothing to run" or skip steps without a word.
:func:`translate` rewrites them line for line (the report's lines stay the document's).
"""

from __future__ import annotations

import re

_HUGO_OPEN = re.compile(
    r"""^\s{0,3}\{\{[<%]\s*(?:highlight|code)\s+(?:lang\s*=\s*["']?)?([\w+#-]+)["']?[^}]*[>%]\}\}\s*$""",
    re.I,
)
_HUGO_CLOSE = re.compile(r"^\s{0,3}\{\{[<%]\s*/\s*(?:highlight|code)\s*[>%]\}\}\s*$", re.I)
_CONF_CODE = re.compile(r"^\s{0,3}\{(code|noformat)(?::([^}|]*))?(?:\|[^}]*)?\}\s*$", re.I)
_CONF_HEADING = re.compile(r"^h([1-6])\.\s+(\S.*)$")
_CONF_ITEM = re.compile(r"^(#+)\s+(\S.*)$")
_CONF_MONO = re.compile(r"\{\{([^{}\n]+)\}\}")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def _confluence(lines: list[str]) -> bool:
    headings = sum(1 for ln in lines if _CONF_HEADING.match(ln))
    macros = sum(1 for ln in lines if _CONF_CODE.match(ln))
    return macros >= 2 or headings >= 2


def translate(text: str) -> str:
    """The text with Hugo and Confluence code blocks as Markdown fences, line for line."""
    if "{{" not in text and "{code" not in text.lower() and "h1." not in text and "h2." not in text:
        return text
    lines = text.split("\n")
    confluence = _confluence(lines)
    out: list[str] = []
    fence: str | None = None  # inside a Markdown fence: left as it is
    closing: re.Pattern[str] | str | None = None  # inside a translated block: its end
    for line in lines:
        if closing is not None:
            ends = (
                closing.match(line)
                if isinstance(closing, re.Pattern)
                else line.strip().lower() == closing
            )
            if ends:
                out.append("```")
                closing = None
            else:
                out.append(line)
            continue
        marker = _FENCE.match(line)
        if fence is not None:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        if marker:
            fence = marker.group(1)
            out.append(line)
            continue
        hugo = _HUGO_OPEN.match(line)
        if hugo:
            out.append("```" + hugo.group(1).lower())
            closing = _HUGO_CLOSE
            continue
        if confluence:
            code = _CONF_CODE.match(line)
            if code:
                kind = code.group(1).lower()
                lang = (code.group(2) or "").strip().lower() if kind == "code" else "text"
                out.append("```" + lang)
                closing = "{" + kind + "}"
                continue
            heading = _CONF_HEADING.match(line)
            if heading:
                out.append("#" * int(heading.group(1)) + " " + heading.group(2))
                continue
            item = _CONF_ITEM.match(line)
            if item:
                out.append("   " * (len(item.group(1)) - 1) + "1. " + item.group(2))
                continue
            out.append(_CONF_MONO.sub(lambda m: f"`{m.group(1)}`", line))
            continue
        out.append(line)
    if closing is not None:  # never closed: the original lines, nothing guessed
        return text
    return "\n".join(out)


def changed_lines(before: str, after: str) -> list[int]:
    return [
        n
        for n, (a, b) in enumerate(zip(before.split("\n"), after.split("\n"), strict=True), 1)
        if a != b
    ]
