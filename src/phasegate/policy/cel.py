"""CEL policies: ``*.cel.yaml`` files of short rules, each evaluated on every node of a kind.

```yaml
level: soft                      # advisory | soft | hard (default hard)
rules:
  - each: steps                  # plan | phases | steps | vars
    deny: "has(step.set_weight) && next == null"
    message: a traffic change is not followed by an analysis or a gate
    at: [set_weight]             # where to point, relative to the node (first that exists)
```
One file is one policy, named by its stem unless ``policy:`` names it. Each rule sees the
node it is evaluated on, by name (see ``SCOPES``); a rule that is true is a violation at
that node. Only the names an expression uses are converted for it (the CEL binding's
conversion, not the evaluation, is what costs on a big plan).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phasegate.errors import PlanError
from phasegate.expr import ExprError, cel_binding, compile_expr
from phasegate.plan.yamlsource import SourceMap, load_yaml
from phasegate.policy import cel_regex
from phasegate.policy.errors import PolicyPackError
from phasegate.policy.model import LEVELS, JsonPath, Level, Violation
from phasegate.run.record import JsonDict, JsonValue

# The names each kind of node is seen with.
SCOPES: dict[str, tuple[str, ...]] = {
    # plan: the plan less its phases; phases: each phase less its steps; gates: every check
    # of every phase's `gates` and every step's `pre_gates`
    "plan": ("plan", "phases", "gates"),
    # phase: the phase as written; plan: the plan less its phases
    "phases": ("phase", "plan"),
    # step; index in its phase; prev/next: the neighbouring steps (null at the ends);
    # phase: its phase less the steps; plan: the plan less its phases
    "steps": ("step", "index", "prev", "next", "phase", "plan"),
    # run: only before a phase starts at run time (never at validate or admission): the run's
    # facts (`input.run` in Rego: id, phase, now, weekday, hour, started_by, vars, phases);
    # phase: the phase about to start, as written; plan: the plan less its phases and run
    "run": ("run", "phase", "plan"),
    # name: the variable's name; value: its value as written (a scalar or a mapping)
    "vars": ("name", "value"),
}
_RULE_KEYS = {"each", "deny", "warn", "message", "at", "if_has"}
_FILE_KEYS = {"policy", "level", "rules", "description"}
_IDENT = re.compile(r"(?<![.\w])([A-Za-z_]\w*)")


@dataclass(frozen=True)
class CelRule:
    each: str
    expression: str
    level: Level
    message: str
    at: tuple[JsonPath, ...]
    names: tuple[str, ...]  # the scope's names the expression uses
    where: str  # file:line of the rule, for errors
    # Keys the node must have for the rule to apply, checked before any CEL conversion (an
    # index: a rule on `set_weight` steps converts nothing for the other steps).
    if_has: tuple[str, ...] = ()


@dataclass(frozen=True)
class CelPolicy:
    name: str
    file: Path
    rules: tuple[CelRule, ...]


def read_cel(path: Path) -> CelPolicy:
    try:
        text = path.read_text(encoding="utf-8")
        data, smap = load_yaml(text, str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyPackError(f"{path}: cannot read the policy: {exc}") from None
    except PlanError as exc:
        raise PolicyPackError(exc.render()) from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise PolicyPackError(f"{path}: a CEL policy is a mapping with `rules:` (a list)")
    _unknown(data, _FILE_KEYS, smap, ())
    level = data.get("level", "hard")
    if level not in LEVELS:
        raise PolicyPackError(_at(smap, ("level",), f"level is {level!r}, not one of {LEVELS}"))
    rules = tuple(_rule(rule, ("rules", i), smap, level) for i, rule in enumerate(data["rules"]))
    name = str(data.get("policy") or path.name.removesuffix(".cel.yaml"))
    return CelPolicy(name, path, rules)


def _at(smap: SourceMap, path: JsonPath, message: str) -> str:
    return smap.problem(path, message).render()


def _unknown(data: JsonDict, known: set[str], smap: SourceMap, path: JsonPath) -> None:
    for key in data:
        if key not in known:
            raise PolicyPackError(
                _at(smap, (*path, key), f"unknown key {key!r}; known: {', '.join(sorted(known))}")
            )


def _rule(raw: Any, path: JsonPath, smap: SourceMap, level: Level) -> CelRule:
    if not isinstance(raw, dict):
        raise PolicyPackError(_at(smap, path, "a rule is a mapping (each, deny, message)"))
    _unknown(raw, _RULE_KEYS, smap, path)
    each = raw.get("each")
    if each not in SCOPES:
        raise PolicyPackError(
            _at(smap, (*path, "each"), f"each is {each!r}, not one of {', '.join(SCOPES)}")
        )
    if ("deny" in raw) == ("warn" in raw):
        raise PolicyPackError(_at(smap, path, "a rule has `deny:` or `warn:` (a CEL condition)"))
    key = "deny" if "deny" in raw else "warn"
    expression = str(raw[key])
    try:
        compile_expr(expression)
    except ExprError as exc:
        raise PolicyPackError(_at(smap, (*path, key), f"CEL: {exc.message}")) from None
    used = {m.group(1) for m in _IDENT.finditer(re.sub(r"'[^']*'|\"[^\"]*\"", "", expression))}
    at = raw.get("at", [])
    at = [at] if isinstance(at, str) else at
    if_has = raw.get("if_has", [])
    if_has = [if_has] if isinstance(if_has, str) else if_has
    line, _ = smap.locate(path)
    return CelRule(
        each=str(each),
        expression=expression,
        level=level if key == "deny" else "advisory",
        message=str(raw.get("message") or f"{key}: {expression}"),
        at=tuple(_dotted(str(a)) for a in at),
        names=tuple(n for n in SCOPES[str(each)] if n in used),
        where=f"{smap.file}:{line}" if line else smap.file,
        if_has=tuple(str(k) for k in if_has),
    )


def _dotted(text: str) -> JsonPath:
    return tuple(int(p) if p.isdigit() else p for p in text.split(".") if p)


# -- evaluation --------------------------------------------------------------------------------
# The names a node is seen with, each computed only when a rule reads it.
Scope = dict[str, Callable[[], JsonValue]]
Node = tuple[JsonPath, Scope]


def _without(mapping: JsonValue, key: str) -> JsonDict:
    return {k: v for k, v in mapping.items() if k != key} if isinstance(mapping, dict) else {}


def _phases(data: JsonDict) -> list[JsonValue]:
    phases = data.get("phases")
    return phases if isinstance(phases, list) else []


def _steps(phase: JsonValue) -> list[JsonValue]:
    steps = phase.get("steps") if isinstance(phase, dict) else None
    return steps if isinstance(steps, list) else []


def _gates(data: JsonDict) -> list[JsonValue]:
    out: list[JsonValue] = []
    for phase in _phases(data):
        gates = phase.get("gates") if isinstance(phase, dict) else None
        if isinstance(gates, list):
            out += gates
        for step in _steps(phase):
            pre = step.get("pre_gates") if isinstance(step, dict) else None
            if isinstance(pre, list):
                out += pre
    return out


def _given(value: JsonValue) -> Callable[[], JsonValue]:
    return lambda: value


def nodes(each: str, data: JsonDict) -> Iterator[Node]:
    """Every node of a kind with the names it is seen with (values computed lazily)."""
    plan = _without(data, "phases")
    if each == "plan":
        yield (
            (),
            {
                "plan": lambda: plan,
                "phases": lambda: [_without(p, "steps") for p in _phases(data)],
                "gates": lambda: _gates(data),
            },
        )
    elif each == "phases":
        for i, phase in enumerate(_phases(data)):
            yield ("phases", i), {"phase": _given(phase), "plan": lambda: plan}
    elif each == "steps":
        for i, phase in enumerate(_phases(data)):
            steps = _steps(phase)
            bare = _without(phase, "steps")
            for j, step in enumerate(steps):
                yield (
                    ("phases", i, "steps", j),
                    {
                        "step": _given(step),
                        "index": _given(j),
                        "prev": _given(steps[j - 1] if j > 0 else None),
                        "next": _given(steps[j + 1] if j + 1 < len(steps) else None),
                        "phase": _given(bare),
                        "plan": lambda: plan,
                    },
                )
    elif each == "run":
        facts = data.get("run")
        if isinstance(facts, dict):  # at run time only: evaluated on the phase about to start
            about = facts.get("phase", {})
            starting = about.get("id") if isinstance(about, dict) else None
            for i, phase in enumerate(_phases(data)):
                if isinstance(phase, dict) and phase.get("id") == starting:
                    yield (
                        ("phases", i),
                        {
                            "run": lambda: facts,
                            "phase": _given(phase),
                            "plan": lambda: _without(plan, "run"),
                        },
                    )
    elif each == "vars":
        variables = data.get("vars")
        for name, value in (variables if isinstance(variables, dict) else {}).items():
            yield ("vars", name), {"name": _given(name), "value": _given(value)}


# The name holding the node itself, which `if_has` looks into.
_NODE = {"phases": "phase", "steps": "step", "vars": "value"}


@dataclass(frozen=True)
class _Entry:
    """A rule as the engine runs it: its program (``matches`` rewritten, policy/cel_regex.py)
    and, per name it uses, the only fields it reads (None: the whole value; see ``_fields``)."""

    policy: CelPolicy
    rule: CelRule
    program: Any
    fields: dict[str, frozenset[str] | None] = field(default_factory=dict)

    def values(self, names: Scope) -> JsonDict:
        out: JsonDict = {}
        for name in self.rule.names:
            value = names[name]()
            keep = self.fields.get(name)
            if keep is not None and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k in keep}
            out[name] = value
        return out


@dataclass(frozen=True)
class _Batch:
    """The rules that apply to nodes with a given set of the ``if_has`` keys."""

    entries: tuple[_Entry, ...]


_STRINGS = re.compile(r"'[^']*'|\"[^\"]*\"")
_FIELD = re.compile(r"\s*\.\s*([A-Za-z_]\w*)")
_NULL_TEST = re.compile(r"\s*[!=]=\s*null\b")


def _fields(name: str, expressions: list[str]) -> frozenset[str] | None:
    """The fields of ``name`` the expressions read, when they read it only as ``name.f``
    (``has(name.f)`` included) or compare it with null; None when they use it any other way
    (``size(step)``, ``step['run']``, ``type(step)``, ``step == prev``...). Converting a node
    for CEL is what a rule costs on a big plan, so a node is converted with those fields only:
    an expression that reads nothing else evaluates the same on that part of it."""
    found: set[str] = set()
    use = re.compile(rf"(?<![.\w]){re.escape(name)}(?!\w)")
    for text in expressions:
        bare = _STRINGS.sub("''", text)
        for match in use.finditer(bare):
            after = bare[match.end() :]
            read = _FIELD.match(after)
            if read is not None:
                found.add(read.group(1))
            elif _NULL_TEST.match(after) is None:
                return None
    return frozenset(found)


class CelEngine:
    def __init__(self, policies: list[CelPolicy]) -> None:
        self.policies = policies
        # Rules grouped by the kind of node they run on: the nodes of a kind are listed once
        # and every rule of that kind evaluated on each (with only the fields it reads).
        self._groups: dict[str, list[tuple[CelPolicy, CelRule]]] = {}
        for policy in policies:
            for rule in policy.rules:
                self._groups.setdefault(rule.each, []).append((policy, rule))
        # Per kind: the keys any rule's `if_has` looks for; a node's signature is which of
        # them it has, and the batch of applicable rules is worked out once per signature
        # (a 5,000-step plan has a handful), not once per node.
        self._keys = {
            each: tuple(sorted({k for _, rule in rules for k in rule.if_has}))
            for each, rules in self._groups.items()
        }
        self._batches: dict[tuple[str, tuple[bool, ...] | None], _Batch] = {}

    def _batch(self, each: str, signature: tuple[bool, ...] | None) -> _Batch:
        found = self._batches.get((each, signature))
        if found is None:
            present = (
                {k for k, has in zip(self._keys[each], signature, strict=True) if has}
                if signature is not None
                else None
            )
            found = self._batches[(each, signature)] = _Batch(
                tuple(
                    _Entry(
                        policy,
                        rule,
                        compile_expr(cel_regex.rewrite(rule.expression)),
                        {name: _fields(name, [rule.expression]) for name in rule.names},
                    )
                    for policy, rule in self._groups[each]
                    if not rule.if_has or (present is not None and set(rule.if_has) <= present)
                )
            )
        return found

    def evaluate(self, data: JsonDict, has: Callable[[JsonPath], bool]) -> list[Violation]:
        found: list[Violation] = []
        # Verdicts by (rule, the values it reads): converting a node's values for CEL is
        # most of a rule's cost, and on a big plan many nodes show a rule the same values
        # (every step's `env`, every phase's `plan`). CEL is pure: equal values, equal
        # verdict. The key is the values' JSON (key order kept), so 1, 1.0 and true never
        # share a verdict. A rule whose values never repeat stops paying for the key.
        memo = _Memo()
        for each in self._groups:
            keys = self._keys[each]
            for path, names in nodes(each, data):
                node = names[_NODE[each]]() if each in _NODE else None
                signature = tuple(k in node for k in keys) if isinstance(node, dict) else None
                for entry in self._batch(each, signature).entries:
                    values = entry.values(names)
                    key = memo.key(entry, values)
                    hit = memo.lookup(key)
                    if hit is None:
                        hit = _hit(entry, values, path)
                        memo.remember(key, hit)
                    if hit:
                        rule = entry.rule
                        target = next((p for p in ((*path, *a) for a in rule.at) if has(p)), path)
                        found.append(
                            Violation(entry.policy.name, rule.level, rule.message, target, "cel")
                        )
        return found


_to_json = json.JSONEncoder().encode  # one encoder, not one a call


class _Memo:
    """Verdicts remembered during one evaluation, by (rule, its values' JSON)."""

    TRIAL = 64  # evaluations of a rule before giving up on a rule whose values never repeat
    LIMIT = 100_000  # verdicts remembered at most

    def __init__(self) -> None:
        self.verdicts: dict[tuple[int, str], bool] = {}
        self.tries: dict[int, int] = {}
        self.hits: dict[int, int] = {}

    def key(self, entry: _Entry, values: JsonDict) -> tuple[int, str] | None:
        ident = id(entry)
        tries = self.tries.get(ident, 0)
        if tries >= self.TRIAL and not self.hits.get(ident):
            return None
        self.tries[ident] = tries + 1
        try:
            return ident, _to_json(values)
        except (TypeError, ValueError, RecursionError):
            return None  # not JSON (a YAML date): not remembered

    def lookup(self, key: tuple[int, str] | None) -> bool | None:
        if key is None:
            return None
        verdict = self.verdicts.get(key)
        if verdict is not None:
            self.hits[key[0]] = self.hits.get(key[0], 0) + 1
        return verdict

    def remember(self, key: tuple[int, str] | None, verdict: bool) -> None:
        if key is not None and len(self.verdicts) < self.LIMIT:
            self.verdicts[key] = verdict


def _hit(entry: _Entry, values: JsonDict, path: JsonPath) -> bool:
    cel = cel_binding()

    policy, rule = entry.policy, entry.rule
    context = cel.Context(values)
    # `matches` with its compiled pattern kept (policy/cel_regex.py)
    context.add_function(cel_regex.FUNCTION, cel_regex.phasegate_matches)
    try:
        hit = entry.program.execute(context)
    except (ValueError, RuntimeError, TypeError, KeyError) as exc:
        raise PolicyPackError(
            f"{rule.where}: policy {policy.name}: the rule cannot be evaluated on "
            f"{_show(path)}: {type(exc).__name__}: {exc}",
            hint="guard optional fields with has(x.field)",
        ) from None
    if not isinstance(hit, bool):
        raise PolicyPackError(
            f"{rule.where}: policy {policy.name}: the rule gave {hit!r}, not true or false"
        )
    return hit


def _show(path: JsonPath) -> str:
    from phasegate.plan.yamlsource import format_path

    return format_path(path) or "the plan"
