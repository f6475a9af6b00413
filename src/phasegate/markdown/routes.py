"""A decision tree: "→ Go to 3a" / "→ go to 3b" routes to sections (blind round 7, issue 11).

An on-call playbook's "## 2. Decide" lists situations, each sending the reader to a section
("**Consumers = 0** → the workers are down. Go to 3a.", "… → go to 3b", "→ do nothing").
The sections it routes to are branches: the operator says which situation holds and only
that branch runs — never all of them one after another. The importer makes one decision at
the router's place (decisions.decide: a pause that passes only with a choice) whose options
are the sections routed to, plus each situation that routes nowhere ("do nothing, re-check in
15 minutes"), and puts a ``when:`` on every branch.

The routing words in English, German, French, Spanish, Portuguese, Italian, Dutch, Polish,
Russian, Turkish, Chinese, Japanese and Korean; a target is named by the label its heading
starts with ("3a", "Step 4").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phasegate.markdown.memo import memo
from phasegate.markdown.parse import Item, Paragraph, Section

_ROUTE = re.compile(
    r"(?:\bgo (?:on )?to|\bgoto|\bproceed (?:to|with)|\bcontinue (?:at|with)|\bjump to|\bskip to|"
    r"\bturn to|\bfollow|\bsee|\bgehe? zu|\bweiter (?:mit|bei)|\bsiehe|\baller (?:à|a)|"
    r"\bpasse[rz]? (?:à|a)|\bvoir|\bir a|\bve a|\bpasa[r]? a|\bv[aá] para|\bir para|\bvai a|"
    r"\bpassa a|\bvedi|\bga naar|\bzie|\bprzejd[zź] do|\bzobacz|\bперейд\w* к|\bсм\.|"
    r"→|->|=>|⇒)\s*(?:\*\*|__)?\s*(?:to\s+)?(?:step|section|schritt|abschnitt|[ée]tape|paso|"
    r"passo|stap|krok|шаг|пункт|adım|步骤|ステップ|단계|§)?\s*#?"
    r"(?P<label>\d{1,2}[a-z]?)(?!\w)(?!\.\d)",
    re.I,
)
_LABEL = re.compile(
    r"^[\W_]*(?:step|section|schritt|[ée]tape|paso|passo|stap|krok|шаг|adım|§)?\s*#?"
    r"(?P<label>\d{1,2}[a-z]?)(?:[.):]|\s|$)",
    re.I,
)


@dataclass
class Situation:
    """A situation of the router that sends the reader nowhere ("→ do nothing, re-check")."""

    title: str
    line: int


def _label(title: str) -> str | None:
    found = _LABEL.match(title.strip())
    return found.group("label").lower() if found else None


_DIGIT = re.compile(r"\d")


def _routes(block: Item | Paragraph) -> tuple[str, ...]:
    return _routes_in(block.text)


@memo()  # a section is read as a router of its children and again of its later siblings
def _routes_in(text: str) -> tuple[str, ...]:
    if not _DIGIT.search(text):  # every route names a numbered label
        return ()
    return tuple(m.group("label").lower() for m in _ROUTE.finditer(text))


def branches(router: Section, candidates: list[Section]) -> list[Section | Situation]:
    """The sections among ``candidates`` the router's list items or paragraphs send the
    reader to (two or more, from two or more blocks, else none), then the router's situations
    that route nowhere."""
    by_label: dict[str, Section] = {}
    for section in candidates:
        label = _label(section.title)
        if label and label not in by_label:
            by_label[label] = section
    own = _label(router.title)
    found: list[Section] = []
    rest: list[Section | Situation] = []
    routing = 0
    # Blocks and sections by identity: a dataclass's == compares whole subtrees.
    listed = sum(isinstance(b, Item) for b in router.blocks)
    for block in router.blocks:
        if not isinstance(block, (Item, Paragraph)):
            continue
        labels = [x for x in _routes(block) if x in by_label and x != own]
        routing += bool(labels)
        for label in labels:
            if not any(by_label[label] is f for f in found):
                found.append(by_label[label])
        # a listed situation that routes nowhere ("→ do nothing") is an option too
        if not labels and isinstance(block, Item) and listed >= 2:
            rest.append(Situation(" ".join(block.text.split())[:80], block.line))
    # each situation on its own: two blocks routing to two sections ("continue with step 3;
    # if it fails, see step 6" in one sentence is an order and a remedy, no tree)
    if len(found) < 2 or routing < 2:
        return []
    return [*found, *rest]
