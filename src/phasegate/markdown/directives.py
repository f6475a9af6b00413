"""What an author's annotations mean: ``<!-- phasegate: … -->`` comments and fence attributes.

Both spell the same keys, so both become one :class:`Annotation`:

- a fence's info string, ``bash { name=backup undo=./undo.sh check expect.exit=0 }`` or
  ``sh {"name": "backup"}`` — lenient, because Runme and other tools put their own keys there;
- a comment, ``<!-- phasegate: {check: true, expect: {exit: 0}} -->`` or
  ``<!-- phasegate: skip -->`` — strict, because it is addressed to phasegate alone: bad YAML
  or an unknown key is a :class:`MarkdownImportError` naming ``file:line`` and the valid keys.

Block keys apply to the block that follows the comment (or to the fence they annotate); phase
keys (``phase``, ``needs``) apply to the enclosing phase — a comment just before a heading
applies to the phase that heading opens.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, fields, replace

import yaml
from pydantic import ValidationError

from phasegate.checks.command import CommandExpect
from phasegate.markdown.deps import Edge, alternatives
from phasegate.markdown.draft import Draft, PhaseDraft
from phasegate.markdown.errors import MarkdownImportError
from phasegate.markdown.nodes import AuthorExpect, YamlValue

KEYS: dict[str, str] = {
    "name": "names the step (and keeps the fence one step)",
    "undo": "the step's undo command",
    "check": "the block becomes checks (gates), not steps",
    "step": "the block becomes steps, even under a verify heading",
    "rollback": "the block becomes rollback actions",
    "expect": "the check's expectation, e.g. {exit: 0} or {stdout_contains: ok}",
    "skip": "the block is not imported",
    "ignore": "the same as skip",
    "phase": "the enclosing phase's id",
    "needs": "phases the enclosing phase needs (an id, a title or a list of them)",
}
FLAGS = ("check", "step", "rollback", "skip", "ignore")
PHASE_KEYS = ("phase", "needs")
_TRUE = ("1", "true", "yes", "on", "")
_DIRECTIVE = re.compile(r"<!--\s*phasegate\s*:(.*?)-->", re.I | re.S)
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Annotation:
    name: str | None = None
    undo: str | None = None
    check: bool = False
    step: bool = False
    rollback: bool = False
    skip: bool = False
    expect: AuthorExpect | None = None
    phase: str | None = None
    needs: tuple[str, ...] = ()

    def merged(self, other: Annotation | None) -> Annotation:
        """``other``'s keys win; flags add up."""
        if other is None:
            return self
        changes = {
            f.name: getattr(other, f.name)
            for f in fields(other)
            if getattr(other, f.name) not in (None, False, ())
        }
        return replace(self, **changes)

    @property
    def for_block(self) -> bool:
        """Something here applies to the next block (not only to the phase)."""
        return any(
            getattr(self, f.name) not in (None, False, ())
            for f in fields(self)
            if f.name not in PHASE_KEYS
        )

    def block_only(self) -> Annotation:
        return replace(self, phase=None, needs=())


def from_fence_attrs(attrs: dict[str, str]) -> Annotation:
    """A fence's attributes: unknown keys are other tools' business and are left alone."""
    flags: dict[str, bool] = {}
    texts: dict[str, str] = {}
    expect: AuthorExpect = {}
    for key, raw in attrs.items():
        if key in FLAGS:
            flags[key] = raw.strip().lower() in _TRUE
        elif key in ("name", "undo") and raw.strip():
            texts[key] = raw
        elif key == "expect":
            loaded = _scalar(raw)
            if isinstance(loaded, dict):
                expect.update({str(k): v for k, v in loaded.items()})
        elif key.startswith("expect."):
            expect[key.partition(".")[2]] = _scalar(raw)
    # an attribute phasegate cannot enforce (`expect.exit=zero`) leaves the default, exit 0
    return _annotation(flags, texts, (), expect if expect and _valid_expect(expect) else None)


def _annotation(
    flags: dict[str, bool],
    texts: dict[str, str],
    needs: tuple[str, ...],
    expect: AuthorExpect | None,
) -> Annotation:
    """The annotation of the keys given (``ignore`` is ``skip``)."""
    return Annotation(
        name=texts.get("name"),
        undo=texts.get("undo"),
        check=flags.get("check", False),
        step=flags.get("step", False),
        rollback=flags.get("rollback", False),
        skip=flags.get("ignore", False) or flags.get("skip", False),
        expect=expect,
        phase=texts.get("phase"),
        needs=needs,
    )


def _valid_expect(expect: AuthorExpect) -> bool:
    try:
        _expectation(expect, "")
    except MarkdownImportError:
        return False
    return True


def _scalar(raw: str) -> YamlValue:
    try:
        loaded: YamlValue = yaml.safe_load(raw)  # the author's YAML
        return loaded
    except yaml.YAMLError:
        return raw


def read_comment(text: str, source: str, line: int) -> Annotation | None:
    """The directives of an HTML comment block, merged; None when it holds none."""
    found: Annotation | None = None
    for match in _DIRECTIVE.finditer(text):
        where = f"{source}:{line + text.count(chr(10), 0, match.start())}"
        found = (found or Annotation()).merged(_directive(match.group(1), where))
    return found


def is_directive(text: str) -> bool:
    return bool(_DIRECTIVE.search(text))


def _fail(where: str, problem: str, hint: str = "") -> MarkdownImportError:
    valid = ", ".join(f"{k} ({v})" for k, v in KEYS.items())
    return MarkdownImportError(
        f"{where}: phasegate directive: {problem}",
        hint=(hint + "; " if hint else "") + f"valid keys: {valid}",
    )


def _directive(body: str, where: str) -> Annotation:
    try:
        loaded = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else "not YAML"
        raise _fail(where, f"not valid YAML ({problem})") from None
    if isinstance(loaded, str):  # `skip`, `check rollback`: flags
        loaded = {word: True for word in re.split(r"[\s,]+", loaded.strip()) if word}
    if not isinstance(loaded, dict) or not loaded:
        raise _fail(where, "expected a key or a mapping like {check: true}")
    flags: dict[str, bool] = {}
    texts: dict[str, str] = {}
    needs: tuple[str, ...] = ()
    expect: AuthorExpect | None = None
    for raw_key, value in loaded.items():
        key = str(raw_key)
        if key not in KEYS:
            close = difflib.get_close_matches(key, list(KEYS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else ""
            raise _fail(where, f"unknown key {key!r}", hint)
        if key in FLAGS:
            flags[key] = _flag(key, value, where)
        elif key == "needs":
            needs = _needs(value, where)
        elif key == "expect":
            expect = _expectation(value, where)
        else:
            texts[key] = _text(key, value, where)
    return _annotation(flags, texts, needs, expect)


def _flag(key: str, value: YamlValue, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"{key!r} takes true or false, not {value!r}")
    return value


def _needs(value: YamlValue, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str | int) for n in names):
        raise _fail(where, "'needs' takes a phase or a list of phases")
    return tuple(str(n) for n in names)


def _text(key: str, value: YamlValue, where: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise _fail(where, f"{key!r} takes a text, not {value!r}")
    if key == "phase" and not _IDENTIFIER.match(str(value)):
        raise _fail(where, f"{value!r} is not a phase id (letters, digits, '-', '_', '.')")
    return str(value)


def _expectation(value: YamlValue, where: str) -> AuthorExpect:
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"exit": value}
    if not isinstance(value, dict) or isinstance(value.get("exit"), bool | str):
        raise _fail(where, "'expect' takes a mapping like {exit: 0}")
    try:
        CommandExpect.model_validate(value)
    except ValidationError as exc:
        fields_ = sorted(CommandExpect.model_fields)
        problem = "; ".join(e["msg"] for e in exc.errors()[:2])
        raise _fail(where, f"bad expect {value!r}: {problem}", f"expect keys: {fields_}") from None
    unknown = set(value) - set(CommandExpect.model_fields) - {"json"}
    if unknown:
        raise _fail(where, f"unknown expect key(s) {sorted(unknown)}")
    return {str(k): v for k, v in value.items()}


def apply_to_phase(draft: Draft, phase: PhaseDraft | None, note: Annotation, line: int) -> None:
    """``phase:`` renames the enclosing phase; ``needs:`` adds stated dependencies to it."""
    if phase is None:
        if note.phase or note.needs:
            where = f"{draft.source}:{line}"
            raise _fail(where, "'phase' and 'needs' only apply inside a phase's section")
        return
    if note.phase and note.phase != phase.id:
        if any(p.id == note.phase for p in draft.phases):
            raise _fail(f"{draft.source}:{line}", f"phase id {note.phase!r} is already taken")
        phase.keys.add(phase.id)
        phase.id = note.phase
        phase.keys.add(note.phase.lower())
        phase.named = True
    for name in note.needs:
        draft.edges.append(Edge(alternatives(name), (), line, "directive", phase))
