"""A marked optional part in the middle of a fence (blind round 12, issue 11 §1): a pasted
script whose comments mark a stretch the reader may skip — ``# --- optional: warm the cache
(skip if there is no traffic) ---`` … ``# --- end of optional part ---``, ``# (optional)``,
``# ส่วนที่ไม่บังคับ …`` … ``# --- จบ …``. Run as one step, the skippable part ran on the path
every time. The fence is cut there: what comes before, the optional part (a chunk named
"(optional) …", which decisions.chunk_choices turns into a decision of one option: it runs
only when the operator chooses it), and what comes after. The plan keeps one terminal per
document (shell_session), so variables and the directory carry across the cut; the script's
leading ``set -e…`` lines are repeated in the parts after it, so they fail the same way.
"""

from __future__ import annotations

import re

from phasegate.markdown.shell import Chunk

_DECOR = " \t#-=*_~[](){}<>|:"
# "optional" in the languages the importer reads, and "skip if" / "can be skipped"
_OPTIONAL = re.compile(
    r"(?<![-\w])optional\b|\bopcional\b|\boptionnel|\bfacoltativ|\bopcjonaln|\bvoliteln|\bnepovinn|"
    r"isteğe bağlı|\bistege bagli|\bvalinnai|\bvalfri|\bvalgfri|\bopsional\b|tùy chọn|"
    r"선택\s*사항|\b任意|可选|可選|необязательн|необов|προαιρετικ|אופציונלי|वैकल्पिक|"
    r"\bválaszthat|\bopțional|\bopţional|ไม่บังคับ|\bneprivalom|\bfakultat[iī]v|"
    r"\bvalikuli|\bwahlweise|\bfreiwillig|\bskip (?:this|it|if|when|on)\b|"
    r"\bcan be skipped\b|ข้ามได้|\bpuede omitirse\b|\bpeut être ignor",
    re.I,
)
# the marker that closes it: "# --- end of optional part ---", "# --- จบส่วนที่ไม่บังคับ ---"
_END = re.compile(
    r"^(?:end|ende|fin|fine|koniec|konec|loppu|son\b|biti[sş]|v[eé]ge|sf[aâ]r[sș]it|"
    r"k[eế]t th[uú]c|끝|終わり|结束|結束|конец|кінець|τέλος|סוף|समाप्त|จบ|pabaiga|beigas|l[oõ]pp|"
    r"/)",
    re.I,
)
_SETTINGS = re.compile(r"^\s*set\s+[-+][a-zA-Z]+(?:\s+\w+)*\s*$")


def _comment(line: str) -> str | None:
    stripped = line.strip()
    if not stripped.startswith("#") or stripped.startswith("#!"):
        return None
    return stripped.strip(_DECOR)


def split(chunks: list[Chunk]) -> list[Chunk]:
    """Each chunk holding a marked optional part, cut into before / optional / after."""
    out: list[Chunk] = []
    for chunk in chunks:
        out.extend(_cut(chunk))
    return out


def _cut(chunk: Chunk) -> list[Chunk]:
    lines = chunk.text.split("\n")
    for start, line in enumerate(lines):
        said = _comment(line)
        if not said or not _OPTIONAL.search(said) or (start == 0 and chunk.offset == 0):
            continue
        end = _end_of_part(lines, start + 1)
        body = [ln for ln in lines[start + 1 : end] if ln.strip() and _comment(ln) is None]
        if not body:
            continue
        before = "\n".join(lines[:start]).strip("\n")
        settings = [ln.strip() for ln in lines[:start] if _SETTINGS.match(ln)]
        closing = end < len(lines) and _closes(lines[end])
        rest_at = end + 1 if closing else end
        after = "\n".join(lines[rest_at:]).strip("\n")
        parts: list[Chunk] = []
        if before.strip():
            parts.append(Chunk(chunk.name, before, chunk.offset))
        optional = "\n".join([*settings, *lines[start + 1 : end]]).strip("\n")
        parts.append(Chunk(f"(optional) {said}", optional, chunk.offset + start))
        if after.strip():
            rest = "\n".join([*settings, after]) if settings else after
            parts.extend(_cut(Chunk(None, rest, chunk.offset + rest_at)))
        return parts
    return [chunk]


def _closes(line: str) -> bool:
    said = _comment(line)
    return said is not None and bool(_END.match(said))


def _end_of_part(lines: list[str], first: int) -> int:
    """The index of the closing marker, else of the first blank line, else the end."""
    for index in range(first, len(lines)):
        if _closes(lines[index]):
            return index
    for index in range(first, len(lines)):
        if not lines[index].strip():
            return index
    return len(lines)
