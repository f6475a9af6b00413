"""Never-ending commands of a document: watched beside their phase, or left to a person.

``shellparse.never_ending`` says a command never ends by itself; this module says what
becomes of it (issue 11 §2):

- **observation** — ``watch …``, ``tail -f``, ``journalctl -f``, ``kubectl … -w``/``--watch``,
  ``kubectl port-forward``/``proxy``, ``docker logs -f``, ``stern``, ``ping`` without ``-c``,
  a ``while true`` monitoring loop: a *monitor* of the phase it is written in (plan
  ``monitors:``), started with the phase, ended with it, its output logged. ``watch -n 5 CMD``
  becomes ``run: CMD`` with ``every: 5s`` (``watch`` needs a terminal; a monitor has none).
- **interactive** — editors, ``top``/``less``, ``-it`` shells, ``attach``, a bare ``ssh host``,
  ``read`` prompts, database shells: a person does it; the importer keeps its manual step.

When the command is one part of a larger unit (``kubectl apply … && kubectl get pods -w``),
only a pipeline into filters (``| grep web``) is still observation; anything that changes
something stays with a person, never inside a monitor. A fence whose other commands only set
variables or print (a pasted ``monitor.sh``) is the monitor as a whole, so the loop sees the
variables it reads.

Everything is read with bashlex, the shell's grammar, never by words of the raw text.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

import bashlex  # type: ignore[import-untyped]

from phasegate.markdown import loops, passwords, servers, shellparse
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.nodes import MonitorNode
from phasegate.markdown.shellparse import never_ending_text
from phasegate.markdown.shellsyntax import ShellNode, ShellTree
from phasegate.plan.model import slugify

OBSERVE, INTERACTIVE = "observe", "interactive"
_KUBE = frozenset({"kubectl", "oc", "k", "kubecolor"})
_CONTAINERS = frozenset({"docker", "podman", "nerdctl"})
_FOLLOWERS = frozenset({"watch", "tail", "journalctl", "ping", "ping6", "tcpdump", "stern"})
# Reading a stream and printing what passes: still observation when piped after a watcher.
_FILTERS = frozenset(
    {"grep", "egrep", "fgrep", "awk", "sed", "jq", "yq", "cut", "tr", "column", "ts", "tee"}
)
# Commands a pasted monitoring script runs besides its loop without changing anything.
_QUIET = frozenset({"echo", "printf", "date", "true", ":", "export", "local", "declare"})
_WATCH_VALUED = frozenset({"-n", "--interval", "-q", "--equexit"})
_WATCH_DEFAULT = 2.0  # watch(1)'s default interval, in seconds


@dataclass(frozen=True)
class Watcher:
    """What to do with one never-ending unit."""

    kind: str  # OBSERVE | INTERACTIVE
    run: str  # the monitor's command (for `watch`, the command it repeats)
    every: float | None  # `watch -n N`: run again N seconds after it ends
    name: str  # a readable monitor name (unique per phase: see ``unique_name``)
    description: str | None = None  # what the document calls it


def classify(text: str) -> Watcher:
    """A never-ending unit (already known as such) read as observation or interactive."""
    if loops.watch_loop(text):
        return Watcher(OBSERVE, text.strip(), None, "monitoring-loop")
    commands = _pipeline(text)
    if commands is None:
        return Watcher(INTERACTIVE, text.strip(), None, "manual")
    kinds = [_kind(words) for words in commands]
    watchers = [i for i, kind in enumerate(kinds) if kind is not None]
    if len(watchers) != 1 or kinds[watchers[0]] != OBSERVE:
        return Watcher(INTERACTIVE, text.strip(), None, "manual")
    index = watchers[0]
    if any(i != index and _program(words)[0] not in _FILTERS for i, words in enumerate(commands)):
        return Watcher(INTERACTIVE, text.strip(), None, "manual")  # it changes something too
    words = commands[index]
    name = _name(words)
    program, args = _program(words)
    if program == "watch" and len(commands) == 1:
        repeated = _watched(args)
        if repeated is not None:
            run, every = repeated
            return Watcher(OBSERVE, run, every, _name(shlex.split(run) or [run]))
    return Watcher(OBSERVE, text.strip(), None, name)


def watches(code: str) -> bool:
    """Inline code that is an observation command (``watch -n 5 ls``), known or not to the
    importer's list of commands."""
    return (
        " " in code.strip()
        and never_ending_text(code) is not None
        and (classify(code).kind == OBSERVE)
    )


def quiet_setup(text: str) -> bool:
    """A unit that only sets variables or prints (``LOG=x``, ``echo "start" > $LOG``)."""
    try:
        tree: ShellTree = bashlex.parse(loops.arithmetic_as_command(text))
    except Exception:  # bashlex raises its own errors, and sometimes plain ones
        return False
    found: list[list[ShellNode]] = []

    class _Visitor(bashlex.ast.nodevisitor):  # type: ignore[misc]
        def visitcommand(self, node: ShellNode, parts: Sequence[ShellNode]) -> None:
            found.append(list(node.parts))

    for node in tree:
        if node.kind not in ("command", "list"):
            return False
        _Visitor().visit(node)
    for parts in found:
        words = [p.word for p in parts if p.kind == "word"]
        if words and words[0] not in _QUIET:
            return False
    return True


def unique_name(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _pipeline(text: str) -> list[list[str]] | None:
    """The simple commands of a unit that is one command or one pipeline, else None."""
    try:
        tree: ShellTree = bashlex.parse(text)
    except Exception:  # bashlex raises its own errors, and sometimes plain ones
        return None
    if len(tree) != 1 or tree[0].kind not in ("command", "pipeline"):
        return None
    node = tree[0]
    parts = [node] if node.kind == "command" else [p for p in node.parts if p.kind != "pipe"]
    commands = []
    for part in parts:
        if part.kind != "command":
            return None
        words = [p.word for p in part.parts if p.kind == "word"]
        if not words:
            return None
        commands.append(words)
    return commands


def _program(words: list[str]) -> tuple[str, list[str]]:
    name, args = words[0].rsplit("/", 1)[-1], words[1:]
    while name in ("sudo", "env", "nohup", "time", "exec", "stdbuf") and args:
        while args and (args[0].startswith("-") or "=" in args[0]):
            args = args[1:]
        if not args:
            break
        name, args = args[0].rsplit("/", 1)[-1], args[1:]
    return name, args


def _kind(words: list[str]) -> str | None:
    """OBSERVE or INTERACTIVE for a command that never ends, None for one that does."""
    if never_ending_text(shlex.join(words)) is None:
        return None
    name, args = _program(words)
    if passwords.asks_password(name, args):
        return INTERACTIVE  # `docker login -u x`: a person types the password (round 10)
    if servers.server(name, args) is not None:
        return INTERACTIVE  # a server is started by a person, never killed with a phase
    flags = {a for a in args if a.startswith("-")}
    interactive_tty = bool(
        flags & {"-it", "-ti"} or {"-i", "-t"} <= flags or {"--interactive", "--tty"} <= flags
    )
    if name in _KUBE | _CONTAINERS:
        if interactive_tty or args[:1] in (["attach"], ["edit"], ["exec"], ["run"]):
            return INTERACTIVE
        return OBSERVE
    if name in _FOLLOWERS or name == "minikube":
        return OBSERVE
    if "--watch" in flags or any(a.startswith("--watch=") for a in flags):
        return OBSERVE
    return INTERACTIVE


def _watched(args: list[str]) -> tuple[str, float] | None:
    """``watch [options] CMD…`` -> (CMD as the shell line watch would run, interval)."""
    every = _WATCH_DEFAULT
    exec_form = False
    rest = list(args)
    while rest and rest[0].startswith("-") and rest[0] != "--":
        flag = rest.pop(0)
        value: str | None = None
        if flag.startswith("--interval="):
            value = flag.partition("=")[2]
        elif flag.startswith("-n") and len(flag) > 2:
            value = flag[2:]
        elif flag in _WATCH_VALUED:
            if not rest:
                return None
            value = rest.pop(0)
            if flag not in ("-n", "--interval"):
                value = None
        elif flag in ("-x", "--exec"):
            exec_form = True
        if value is not None:
            try:
                every = max(float(value), 0.1)
            except ValueError:
                return None
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if not rest:
        return None
    # watch(1) hands its words, joined by spaces, to `sh -c` (or, with -x, runs them as argv)
    run = shlex.join(rest) if exec_form else " ".join(rest)
    return run, every


def _name(words: list[str]) -> str:
    name, args = _program(words)
    keep = [name, *[a for a in args if not a.startswith("-")][:2]]
    return slugify(" ".join(keep))[:40].strip("-") or "monitor"


# -- into the draft ------------------------------------------------------------------------


def adopt(draft: Draft, phase: PhaseDraft | None, command: str, line: int, why: str) -> bool:
    """A never-ending command written inline (a list item, a table cell): a monitor of
    ``phase`` when it observes; False when a person must do it (or there is no phase)."""
    if phase is None:
        return False
    watcher = classify(command)
    if watcher.kind != OBSERVE:
        return False
    _add(draft, phase, watcher, line, why)
    return True


def take(
    draft: Draft,
    phase: PhaseDraft,
    text: str,
    cleaned: shellparse.Cleaned,
    line: int,
    label: str | None = None,
) -> shellparse.Cleaned:
    """A fence (``line``: its first line; ``label``: what the document calls it) whose
    never-ending units were taken out: the observing ones become monitors of ``phase``; the
    rest stay in ``forever`` for a person."""
    units = shellparse.analyse(text)
    watchers = {u.start: classify(u.text) for u in units if u.kind == "command" and u.forever}
    observed = {start: w for start, w in watchers.items() if w.kind == OBSERVE}
    if not observed:
        return cleaned
    if label and len(observed) == 1:  # "Terminal 1: Watch portfolio status" names it best
        [(start, watcher)] = observed.items()
        named = slugify(label)[:48].strip("-")
        if not named or (named == "step" and "step" not in label.lower()):
            named = watcher.name  # a label in another script (查看回滚日志) slugs to nothing
        observed[start] = Watcher(watcher.kind, watcher.run, watcher.every, named, label)
    setup = [u for u in units if u.kind == "command" and not u.forever]
    if (
        len(observed) == 1
        and len(watchers) == 1
        and setup
        and not cleaned.texts
        and all(quiet_setup(u.text) for u in setup)
    ):
        # A pasted monitoring script: its variables belong to its loop; all of it watches.
        [(start, watcher)] = observed.items()
        whole = Watcher(OBSERVE, text.strip(), None, watcher.name, watcher.description)
        name = _add(draft, phase, whole, line, next(u.forever or "" for u in units if u.forever))
        script = "\n".join(f"# [monitor {name}] {ln.strip()}" for ln in text.splitlines())
        return shellparse.Cleaned(script.strip(), [], [], 0)
    out: list[str] = []
    for unit in units:
        if unit.is_text:
            out.extend(f"# [not run: {unit.kind}] {ln.strip()}" for ln in unit.lines)
        elif unit.start in observed:
            why = unit.forever or "never ends"
            name = _add(draft, phase, observed[unit.start], line + unit.start, why)
            out.extend(f"# [monitor {name}] {ln.strip()}" for ln in unit.lines)
        elif unit.forever:
            out.extend(f"# [not run: never ends] {ln.strip()}" for ln in unit.lines)
        else:
            out.extend(unit.lines)
    forever = [u for u in cleaned.forever if u.start not in observed]
    return shellparse.Cleaned("\n".join(out).strip("\n"), cleaned.texts, forever, cleaned.commands)


def _add(draft: Draft, phase: PhaseDraft, watcher: Watcher, line: int, why: str) -> str:
    name = unique_name(watcher.name, {str(e.data["name"]) for e in phase.monitors})
    data: MonitorNode = {"name": name, "run": watcher.run}
    if watcher.every is not None:
        data["every"] = f"{watcher.every:g}s"
    if watcher.description:
        data["description"] = watcher.description
    phase.monitors.append(Entry(data, line))
    draft.note(
        "monitors",
        phase=phase.id,
        line=line,
        what=watcher.run.splitlines()[0][:100] if watcher.run else watcher.run,
        why=f"{why}: a monitor of the phase (runs beside it, ended with it)",
    )
    return name
