"""Human decisions kept where they are in the flow (issue 11 §7).

A confirmation ("[YOU must explicitly confirm]", "do not do this autonomously", go/no-go), a
numbered prose procedure (steps a person does by hand) and a sign-off table all become a
``pause: approve`` step at their place among the phase's steps: the run stops there (exit 4)
until an operator runs ``phasegate approve``. Nothing a human is asked to decide passes
silently, and nothing after it runs first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from phasegate.markdown import rules
from phasegate.markdown.nodes import StepNode

_ROLE_COL = re.compile(r"\brole\b|\bteam\b|\bapprover\b|\bfunction\b|角色", re.I)
# `\bsign`: "Sign-off", "Signature", "Signed", never "Team Assignment" (doc 58's work matrix)
_SIGN_COL = re.compile(r"\bsign|approv|\bdate\b|签", re.I)


def confirmation(text: str) -> StepNode:
    plain = _plain(text)
    if len(" ".join(plain.split())) > 160:
        # a long paragraph: what it says to do (its first sentence: "Install the build and
        # click through the stories.") and the sentences that ask the person, not the first
        # 160 characters ("… Do not activate on more POPs until it matches." at its end)
        sentences = re.split(r"(?<=[.!?])\s+", " ".join(plain.split()))
        asking = [s for s in sentences if rules.asks_human(s)]
        if asking:
            first = [] if asking[0] == sentences[0] else [rules.one_line(sentences[0], 120)]
            return {
                "name": f"Confirm: {rules.one_line(' … '.join([*first, ' '.join(asking)]), 360)}",
                "pause": "approve",
            }
    return {"name": f"Confirm: {rules.one_line(plain, 240)}", "pause": "approve"}


def procedure(items: list[str]) -> StepNode:
    """Numbered prose items done by hand: one step the operator acknowledges."""
    listed = "; ".join(f"{n}. {_gist(t)}" for n, t in enumerate(items, 1))
    return {"name": f"Do by hand, then approve: {listed}", "pause": "approve"}


# a sentence that asks something of a person: kept in a long item's gist
_ASKS = re.compile(
    r"\b(?:make sure|ensure|must|approv\w*|sign[\s-]?off|majority|vote|wait (?:for|until))\b",
    re.I,
)


def _gist(text: str) -> str:
    """A long item's first sentence and the sentences that ask something of a person
    ("Make sure to reach a majority of approvals …"): what the operator must not miss."""
    plain = _plain(text)
    if len(plain) <= 100:
        return plain
    sentences = re.split(r"(?<=[.!?])\s+", plain)
    kept = [rules.one_line(sentences[0], 100)]
    kept += [rules.one_line(s, 120) for s in sentences[1:] if _ASKS.search(s)]
    return rules.one_line(" … ".join(kept), 400)


def prose_step(title: str, text: str) -> StepNode:
    """A numbered section that says what to do in prose only: one step the operator does and
    acknowledges, named by its heading and its first sentence."""
    first = re.split(r"(?<=[.!?。！？])\s*", _plain(text), maxsplit=1)[0]
    return {
        "name": f"Do by hand, then approve: {rules.one_line(_plain(title), 80)} — "
        f"{rules.one_line(first, 120)}",
        "pause": "approve",
    }


def signoff(header: list[str], rows: list[list[str]], title: str) -> StepNode | None:
    """A "Role | Name | Signature" table: an approval with the listed roles."""
    role = next((i for i, h in enumerate(header) if _ROLE_COL.search(h)), None)
    signed = any(_SIGN_COL.search(h) for h in header) or rules.is_checklist_text(title)
    if role is None or not signed or not re.search(r"\bsign|approv|签", f"{title} {header}", re.I):
        return None
    roles = [_plain(r[role]) for r in rows if role < len(r) and _plain(r[role])]
    if not roles:
        return None
    return {
        "name": f"Sign-off by {', '.join(roles)}",
        "pause": {"until": "approve", "approvers": max(1, min(len(roles), 20))},
    }


def comments_only(command: object) -> list[str] | None:
    """The comment paragraphs of a shell text that has nothing else, each paragraph's lines
    joined (None when something runs, or when there is not even a comment): what the author
    wanted a person to do or look at."""
    if not isinstance(command, str) or not command.strip():
        return None
    lines = [ln.strip() for ln in command.splitlines()]
    if not all(not ln or (ln.startswith("#") and not ln.startswith("#!")) for ln in lines):
        return None
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        said = line.lstrip("#").strip()
        if not said:
            paragraphs.append([]) if paragraphs[-1] else None
        elif not said.startswith("[not run"):
            paragraphs[-1].append(said)
    joined = [", ".join(p) for p in paragraphs if p]
    return joined or None


def by_hand(said: list[str]) -> StepNode:
    """What a fence of comments asks, word for word (names and thresholds kept), as one step
    the operator does and acknowledges."""
    return {
        "name": f"Do by hand, then approve: {rules.one_line('; '.join(said), 600)}",
        "pause": "approve",
    }


_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(?:\S*|'[^']*'|\"[^\"]*\")$")


def referenced_names(texts: Iterable[str]) -> set[str]:
    """Every variable the document reads somewhere ($NAME, ${NAME})."""
    return {m.group(1) for text in texts for m in _REFERENCE.finditer(text)}


def config_settings(command: object, referenced: set[str]) -> list[str] | None:
    """A fence of bare `NAME=value` lines ("# Set feature flag to disable admin adjustments /
    ADMIN_ADJUSTMENTS_ENABLED=false") that nothing in the document reads: settings a person
    puts into the service's configuration. Run as a step it would set a shell variable and
    pass, while the feature stays on. None when any line is something else or a name is read
    later (then it is a shell variable the session carries)."""
    if not isinstance(command, str):
        return None
    lines = [ln.strip() for ln in command.splitlines() if ln.strip()]
    settings = [ln for ln in lines if not ln.startswith("#")]
    if not settings:
        return None
    names = []
    for line in settings:
        match = _ASSIGNMENT.match(line)
        if match is None:
            return None
        names.append(match.group(1))
    if any(name in referenced for name in names):
        return None
    return settings


def _plain(text: str) -> str:
    """The text without Markdown marks; a code span keeps its own text (`HEALTH_OK`, not
    HEALTHOK), and an underscore inside a word is no emphasis."""
    parts = re.split(r"(`[^`\n]*`)", text)
    out = [
        part.strip("`")
        if part.startswith("`") and part.endswith("`") and len(part) > 1
        else re.sub(r"\*+|(?<!\w)_+|_+(?!\w)|`+|\[|\]", "", part)
        for part in parts
    ]
    return "".join(out).strip()
