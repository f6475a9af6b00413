"""AsciiDoc in a Markdown file, read as what it means (blind round 8).

Runbooks move between wikis and repositories: a ``.md`` file may hold AsciiDoc, whole or in
parts. Markdown reads ``[source,bash]`` over a ``----`` block as a setext heading and the
commands as paragraphs, so nothing runs (safe, not faithful); ``== Upgrade lb-2`` is text, not
a section. The text is rewritten into the Markdown it stands for before parsing, line for line
(every Markdown line the report cites stays the document's line):

* a ``[source,LANG]`` (or ``[,LANG]``, ``[listing]``) line over a ``----`` delimited block: the
  attribute line goes blank, the delimiters become a fence of that language; always, since the
  pair means nothing in Markdown;
* in a document that is AsciiDoc (a ``= Title`` first line, or ``== Section`` headings and no
  Markdown heading): ``==`` headings become ``##``; bare ``----`` listing and ``....`` literal
  blocks become untagged fences (the importer decides whether they are shell); ``:toc:``
  attribute lines go blank; a ``.Title`` block title becomes a bold lead-in; ``NOTE:`` /
  ``WARNING:`` / ``CAUTION:`` / ``IMPORTANT:`` / ``TIP:`` paragraphs become bold labels, read as
  admonitions.
"""

from __future__ import annotations

import re

_SOURCE = re.compile(r"^\[(?:source|listing)?\s*,?\s*([A-Za-z0-9_+-]*)[^\]]*\]\s*$")
_DELIMITER = re.compile(r"^(-{4,}|\.{4,})\s*$")
_HEADING = re.compile(r"^(={1,6})\s+(\S.*?)\s*$")
_MD_HEADING = re.compile(r"^#{1,6}\s+\S")
_ATTRIBUTE = re.compile(r"^:!?[\w-]+!?:(?:\s.*)?$")
_BLOCK_TITLE = re.compile(r"^\.([^\s.].{0,100})$")
_ADMONITION = re.compile(r"^(NOTE|TIP|IMPORTANT|WARNING|CAUTION):\s+(?=\S)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def is_asciidoc(lines: list[str]) -> bool:
    """A ``= Title`` first line, or ``==`` section headings and no Markdown heading."""
    first = next((ln for ln in lines if ln.strip()), "")
    if re.match(r"^=\s+\S", first) and not first.strip().startswith("= ="):
        return True
    if any(_MD_HEADING.match(ln) for ln in lines):
        return False
    return sum(1 for ln in lines if re.match(r"^==\s+\S", ln) and '"' not in ln[:5]) >= 2


def translate(text: str) -> str:
    """The Markdown the AsciiDoc parts of ``text`` stand for, with the same lines."""
    if "----" not in text and "\n=" not in text and not text.startswith("="):
        return text
    lines = text.split("\n")
    whole = is_asciidoc(lines)
    out: list[str] = []
    in_fence = False  # a Markdown fence: left as written
    closing: str | None = None  # the delimiter that closes the listing block being read
    n = 0
    while n < len(lines):
        line = lines[n]
        if closing is not None:
            if line.strip() == closing:
                out.append("```")
                closing = None
            else:
                out.append(line)
            n += 1
            continue
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            n += 1
            continue
        if in_fence:
            out.append(line)
            n += 1
            continue
        source = _SOURCE.match(line)
        following = lines[n + 1] if n + 1 < len(lines) else ""
        delimiter = _DELIMITER.match(following)
        named = line.startswith(("[source", "[listing"))
        if source and delimiter and (named or whole):
            out += ["", f"```{source.group(1).lower()}"]
            closing = delimiter.group(1)
            n += 2
            continue
        if whole:
            bare = _DELIMITER.match(line)
            if bare and _opens_block(out):
                out.append("```")
                closing = bare.group(1)
                n += 1
                continue
            heading = _HEADING.match(line)
            if heading and not heading.group(2).startswith('"'):
                out.append(f"{'#' * len(heading.group(1))} {heading.group(2)}")
            elif _ATTRIBUTE.match(line):
                out.append("")
            elif (title := _BLOCK_TITLE.match(line)) and not line.startswith(".."):
                out.append(f"**{title.group(1).strip()}:**")
            elif admonition := _ADMONITION.match(line):
                out.append(f"**{admonition.group(1).title()}:** {line[admonition.end() :]}")
            else:
                out.append(line)
        else:
            out.append(line)
        n += 1
    return "\n".join(out)  # a block left open runs to the end, as in AsciiDoc


def _opens_block(out: list[str]) -> bool:
    """A ``----`` after a blank line or a block title opens a listing block (after a text line
    it would underline nothing in AsciiDoc either; kept as written)."""
    before = out[-1] if out else ""
    return not before.strip() or (before.startswith("**") and before.endswith(":**"))


def changed_lines(before: str, after: str) -> list[int]:
    """The 1-based lines ``translate`` rewrote (the two texts have the same lines)."""
    return [
        n
        for n, (old, new) in enumerate(zip(before.split("\n"), after.split("\n"), strict=True), 1)
        if old != new
    ]
