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

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phasegate.errors import PlanError
from phasegate.expr import ExprError, compile_expr
from phasegate.plan.yamlsource import SourceMap, load_yaml
from phasegate.policy.errors import PolicyPackError
from phasegate.policy.model import LEVELS, JsonPath, Level, Violation

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


def _unknown(data: dict[str, Any], known: set[str], smap: SourceMap, path: JsonPath) -> None:
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
Node = tuple[JsonPath, dict[str, Any]]


def _without(mapping: Any, key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key} if isinstance(mapping, dict) else {}


def _phases(data: dict[str, Any]) -> list[Any]:
    phases = data.get("phases")
    return phases if isinstance(phases, list) else []


def _steps(phase: Any) -> list[Any]:
    steps = phase.get("steps") if isinstance(phase, dict) else None
    return steps if isinstance(steps, list) else []


def _gates(data: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for phase in _phases(data):
        if isinstance(phase, dict) and isinstance(phase.get("gates"), list):
            out += phase["gates"]
        for step in _steps(phase):
            if isinstance(step, dict) and isinstance(step.get("pre_gates"), list):
                out += step["pre_gates"]
    return out


def nodes(each: str, data: dict[str, Any]) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
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
            yield ("phases", i), {"phase": lambda p=phase: p, "plan": lambda: plan}
    elif each == "steps":
        for i, phase in enumerate(_phases(data)):
            steps = _steps(phase)
            bare = _without(phase, "steps")
            for j, step in enumerate(steps):
                yield (
                    ("phases", i, "steps", j),
                    {
                        "step": lambda s=step: s,
                        "index": lambda j=j: j,
                        "prev": lambda s=steps, j=j: s[j - 1] if j > 0 else None,
                        "next": lambda s=steps, j=j: s[j + 1] if j + 1 < len(s) else None,
                        "phase": lambda b=bare: b,
                        "plan": lambda: plan,
                    },
                )
    elif each == "run":
        facts = data.get("run")
        if isinstance(facts, dict):  # at run time only: evaluated on the phase about to start
            starting = facts.get("phase", {}).get("id")
            for i, phase in enumerate(_phases(data)):
                if isinstance(phase, dict) and phase.get("id") == starting:
                    yield (
                        ("phases", i),
                        {
                            "run": lambda: facts,
                            "phase": lambda p=phase: p,
                            "plan": lambda: _without(plan, "run"),
                        },
                    )
    elif each == "vars":
        variables = data.get("vars")
        for name, value in (variables if isinstance(variables, dict) else {}).items():
            yield ("vars", name), {"name": lambda n=name: n, "value": lambda v=value: v}


# The name holding the node itself, which `if_has` looks into.
_NODE = {"phases": "phase", "steps": "step", "vars": "value"}


@dataclass(frozen=True)
class _Batch:
    """The rules that apply to nodes with a given set of the ``if_has`` keys, the names they
    need, and (with several rules) one program computing all their verdicts at once."""

    entries: tuple[tuple[CelPolicy, CelRule, Any], ...]
    needed: tuple[str, ...]
    combined: Any = None
    # name -> the only fields the rules read of it (None: the whole value); see `_fields`
    fields: dict[str, frozenset[str] | None] = field(default_factory=dict)

    def value(self, name: str, value: Any) -> Any:
        keep = self.fields.get(name)
        if keep is None or not isinstance(value, dict):
            return value
        return {k: v for k, v in value.items() if k in keep}


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
        # Rules grouped by the kind of node they run on: each node's names are converted
        # for CEL once (one Context) and every rule of that kind evaluated on it.
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
            entries = tuple(
                (policy, rule, compile_expr(rule.expression))
                for policy, rule in self._groups[each]
                if not rule.if_has or (present is not None and set(rule.if_has) <= present)
            )
            needed = tuple(sorted({n for _, rule, _ in entries for n in rule.names}))
            # One execution for all the rules of a node instead of one each: the binding's
            # per-call cost is a good part of a rule's on a big plan. Verdicts are the same
            # (each list element is the rule's expression, evaluated alone); anything but a
            # list of booleans falls back to rule by rule, which reports the rule at fault.
            texts = [rule.expression for _, rule, _ in entries]
            combined = _combined(texts)
            fields = {name: _fields(name, texts) for name in needed}
            found = self._batches[(each, signature)] = _Batch(entries, needed, combined, fields)
        return found

    def evaluate(self, data: dict[str, Any], has: Any) -> list[Violation]:
        import cel

        found: list[Violation] = []
        for each in self._groups:
            keys = self._keys[each]
            for path, names in nodes(each, data):
                node = names[_NODE[each]]() if each in _NODE else None
                signature = tuple(k in node for k in keys) if isinstance(node, dict) else None
                batch = self._batch(each, signature)
                if not batch.entries:
                    continue
                context = cel.Context({n: batch.value(n, names[n]()) for n in batch.needed})
                for policy, rule in _hits(batch, context, path):
                    target = next((p for p in ((*path, *a) for a in rule.at) if has(p)), path)
                    found.append(Violation(policy.name, rule.level, rule.message, target, "cel"))
        return found


def _combined(expressions: list[str]) -> Any:
    """One program whose value is the list of the expressions' values; None for one rule.
    Each expression passed ``compile_expr``'s limits on its own, so the list is compiled as
    is (its token count is their sum)."""
    if len(expressions) < 2:
        return None
    import cel

    try:
        return cel.compile("[" + ", ".join(f"({text})" for text in expressions) + "]")
    except (ValueError, RuntimeError):
        return None  # rule by rule, then


def _hits(batch: _Batch, context: Any, path: JsonPath) -> list[tuple[CelPolicy, CelRule]]:
    """The batch's rules that are true on the node, in the pack's order."""
    if batch.combined is not None:
        try:
            verdicts = batch.combined.execute(context)
        except (ValueError, RuntimeError, TypeError, KeyError):
            verdicts = None
        if (
            isinstance(verdicts, list)
            and len(verdicts) == len(batch.entries)
            and all(isinstance(v, bool) for v in verdicts)
        ):
            return [(p, r) for (p, r, _), hit in zip(batch.entries, verdicts, strict=True) if hit]
    return [(p, r) for p, r, program in batch.entries if _hit(p, r, program, context, path)]


def _hit(policy: CelPolicy, rule: CelRule, program: Any, context: Any, path: JsonPath) -> bool:
    try:
        hit = program.execute(context)
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
