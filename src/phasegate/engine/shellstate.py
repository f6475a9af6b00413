"""One terminal session per plan (``shell_session: true``, issue 11 §4).

A runbook's reader types every fence into one terminal: what a fence sets or exports, and a
``cd``, is still there for the next one. With the option on, each step's bash records its
variables and working directory when it ends (and when it starts, to tell what it changed);
the change of a step that succeeded is journalled with its ``item.finished`` and folded into
``RunState.shell`` (``fold``), and the next command starts from that fold (``restore``). The
state therefore comes from the journal, not from the memory of one process: ``resume`` after
a crash sees exactly what the dead engine would have passed on.

How a command joins the session (``attach``): bash reads ``$BASH_ENV`` before the script, so
the script itself is passed unchanged (line numbers in its errors stay right). The prelude
(``PRELUDE``) removes the export attribute of the session's plain variables (their values
arrive in the environment like any secret does; only their names are in the prelude's
input), dumps the variables, sets an EXIT trap that dumps them again when the script ends
with status 0, and unsets ``BASH_ENV`` so that the bash scripts the step runs do not read it.
The dumps are NUL-separated (name, attributes, value), so newlines, quotes and any bytes
survive; arrays, namerefs and read-only variables are not carried.

Secrets: a value equal to, or containing, a secret's value (a plan variable marked
``secret``) is journalled as a reference to the secret (``{"parts": ["Bearer ", {"secret":
"TOKEN"}]}``) and re-resolved on restore; the value itself is never stored. The dump files
hold values (secrets included) for as long as it takes to journal them durably, and are
created ``0600``.

Similar systems: a Jupyter kernel keeps one interpreter across cells; GitHub Actions carries
variables between steps only through ``$GITHUB_ENV`` (explicit, exported only); a Makefile's
``.ONESHELL`` runs a recipe in one shell. phasegate follows the terminal, as the reader does.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from phasegate.masking import MIN_MASKED
from phasegate.run.records import SecretRef, ShellChange, ShellValue

if TYPE_CHECKING:
    from phasegate.engine.context import RunContext

# Changed by bash itself, not by the step (or phasegate's own): never carried.
_VOLATILE = frozenset(
    {
        "_",
        "BASH_ARGV0",
        "BASH_COMMAND",
        "BASH_ENV",
        "BASH_EXECUTION_STRING",
        "BASH_SUBSHELL",
        "BASHPID",
        "COLUMNS",
        "EPOCHREALTIME",
        "EPOCHSECONDS",
        "HISTCMD",
        "LINENO",
        "LINES",
        "OLDPWD",
        "PHASEGATE_OUTPUT",
        "PIPESTATUS",
        "PWD",
        "RANDOM",
        "SECONDS",
        "SHLVL",
        "SRANDOM",
    }
)
_INTERNAL_PREFIXES = ("__pg_", "PHASEGATE_SHELL_")

PRELUDE = r"""# phasegate shell session (engine/shellstate.py), read by a step's bash via BASH_ENV
__pg_state=${PHASEGATE_SHELL_STATE-}
if [ -n "${PHASEGATE_SHELL_BASH_ENV+x}" ]; then
  export BASH_ENV="$PHASEGATE_SHELL_BASH_ENV"
else
  unset BASH_ENV
fi
[ -z "${PHASEGATE_SHELL_PLAIN-}" ] || declare +x ${PHASEGATE_SHELL_PLAIN}
unset PHASEGATE_SHELL_STATE PHASEGATE_SHELL_PLAIN PHASEGATE_SHELL_BASH_ENV
__pg_dump() {
  local __pg_n __pg_a __pg_names
  compgen -v >"$1"
  mapfile -t __pg_names <"$1"
  {
    printf '%s\0' "$PWD"
    for __pg_n in "${__pg_names[@]}"; do
      case $__pg_n in __pg_*) continue ;; esac
      [[ -v $__pg_n ]] || continue
      __pg_a=${!__pg_n@a}
      case $__pg_a in *[aAnr]*) continue ;; esac
      printf '%s\0%s\0%s\0' "$__pg_n" "$__pg_a" "${!__pg_n}"
    done
  } >"$1"
}
__pg_exit() {
  local __pg_s=$?
  set +eux
  if [ "$__pg_s" -eq 0 ]; then __pg_dump "$__pg_state"; fi
  return "$__pg_s"
}
if [ -n "$__pg_state" ]; then
  __pg_dump "$__pg_state.start"
  trap '{ __pg_exit; } 2>/dev/null' EXIT
fi
if [ -n "${BASH_ENV+x}" ] && [ -r "$BASH_ENV" ]; then . "$BASH_ENV"; fi
"""


@dataclass(frozen=True)
class Session:
    """The terminal as the journal says the earlier steps left it, resolved for one command."""

    env: dict[str, str]  # the run's environment with the session's variables applied
    plain: frozenset[str]  # shell variables, not exported
    cwd: str | None  # where the last `cd` went; None: the command's own default


@dataclass(frozen=True)
class Capture:
    """Where one command's bash writes its variables when it starts and when it ends."""

    end: Path

    @property
    def start(self) -> Path:
        return self.end.with_name(self.end.name + ".start")


# -- the fold (pure: the journal's events are its only input) -----------------------------


# -- before the command --------------------------------------------------------------------


def restore(ctx: RunContext, state: Mapping[str, Any]) -> Session:
    env = dict(ctx.base_env)
    plain: set[str] = set()
    for name, entry in (state.get("vars") or {}).items():
        if entry is None:
            env.pop(name, None)
            plain.discard(name)
            continue
        env[name] = _resolve(ctx, entry)
        if not entry.get("export", True):
            plain.add(name)
        else:
            plain.discard(name)
    cwd = state.get("cwd")
    return Session(env, frozenset(plain), _resolve(ctx, cwd) if cwd is not None else None)


def attach(
    ctx: RunContext, session: Session, key: str, attempt: int, argv: list[str], env: dict[str, str]
) -> Capture | None:
    """Prepare ``env`` for a command of the session; a bash script's changes are captured
    (returns where), any other command (an argv list, another shell) only inherits the
    exported variables and the working directory, as a program started from the terminal."""
    if not _is_bash_script(argv):
        for name in session.plain:
            env.pop(name, None)
        return None
    capture = _capture(ctx, key, attempt)
    for path in (capture.end, capture.start):
        # 0600 before bash writes values (secrets among them) into it: `>` keeps the mode.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    if "BASH_ENV" in env:
        env["PHASEGATE_SHELL_BASH_ENV"] = env["BASH_ENV"]
    env["BASH_ENV"] = str(_prelude(ctx))
    env["PHASEGATE_SHELL_STATE"] = str(capture.end)
    names = sorted(n for n in session.plain if n in env)
    if names:
        env["PHASEGATE_SHELL_PLAIN"] = " ".join(names)
    return capture


def _is_bash_script(argv: list[str]) -> bool:
    return len(argv) >= 2 and os.path.basename(argv[0]) == "bash" and "-c" in argv[1:-1]


def _prelude(ctx: RunContext) -> Path:
    # Among the logs: $RUN_DIR itself belongs to the plan's commands (markers, backups).
    path = ctx.run_dir / "logs" / "shell-session.bash"
    if not path.is_file():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(PRELUDE, encoding="utf-8")
        tmp.replace(path)
    return path


# -- after the command ---------------------------------------------------------------------


def collect(ctx: RunContext, capture: Capture, succeeded: bool) -> ShellChange | None:
    """The change a command made to the session, ready for the journal (secrets as references),
    or None when it failed or left no record (an `exec`, its own EXIT trap)."""
    if not succeeded:
        discard(capture)
        return None
    before = _read(capture.start)
    after = _read(capture.end)
    if before is None or after is None:
        return None
    change = diff(before, after)
    return encode(ctx, change)


def discard(capture: Capture | None) -> None:
    """Remove the dumps (they hold values, secrets included), once journalled."""
    if capture is None:
        return
    for path in (capture.end, capture.start):
        with contextlib.suppress(OSError):
            path.unlink()


def capture_of(ctx: RunContext, key: str, attempt: int) -> Capture | None:
    """The dumps an attempt left, found after a crash (the engine that spawned it is gone)."""
    capture = _capture(ctx, key, attempt)
    return capture if capture.start.exists() else None


Dump = tuple[str, dict[str, tuple[bool, str]]]  # (cwd, {name: (exported, value)})


def _read(path: Path) -> Dump | None:
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if not raw:
        return None
    fields = raw.split(b"\0")
    if fields[-1] != b"" or (len(fields) - 2) % 3:
        return None  # cut short: no record rather than a wrong one
    text = [f.decode("utf-8", errors="surrogateescape") for f in fields[:-1]]
    cwd, rest = text[0], text[1:]
    variables = {
        rest[i]: ("x" in rest[i + 1], rest[i + 2])
        for i in range(0, len(rest), 3)
        if rest[i] not in _VOLATILE and not rest[i].startswith(_INTERNAL_PREFIXES)
    }
    return cwd, variables


class SessionDiff(TypedDict, total=False):
    """What a command changed, read from its dumps: {name: (exported, value)} set, names
    unset, the new working directory (values in clear: :func:`encode` makes the journal's)."""

    set: dict[str, tuple[bool, str]]
    unset: list[str]
    cwd: str


def diff(before: Dump, after: Dump) -> SessionDiff:
    """What the command changed: variables set (value and export flag), unset, and a `cd`."""
    (cwd_before, old), (cwd_after, new) = before, after
    changed: dict[str, tuple[bool, str]] = {
        name: value for name, value in new.items() if old.get(name) != value
    }
    change: SessionDiff = {}
    if changed:
        change["set"] = changed
    unset = sorted(name for name in old if name not in new)
    if unset:
        change["unset"] = unset
    if cwd_after != cwd_before:
        change["cwd"] = cwd_after
    return change


def encode(ctx: RunContext, change: SessionDiff) -> ShellChange:
    out: ShellChange = {}
    if "set" in change:
        out["set"] = {
            name: {**_value(ctx, value), "export": exported}
            for name, (exported, value) in sorted(change["set"].items())
        }
    if "unset" in change:
        out["unset"] = list(change["unset"])
    if "cwd" in change:
        out["cwd"] = _value(ctx, change["cwd"])
    return out


def _secrets(ctx: RunContext) -> list[tuple[str, str]]:
    """(name, value) of the run's secrets, longest value first (so a secret containing
    another is referenced whole)."""
    values = ctx.variables.values
    pairs = [(n, values[n]) for n in ctx.variables.secrets if values.get(n)]
    return sorted(pairs, key=lambda p: (-len(p[1]), p[0]))


def _value(ctx: RunContext, value: str) -> ShellValue:
    """A value as the journal keeps it: literal, or parts with the secrets as references."""
    secrets = _secrets(ctx)
    for name, secret in secrets:
        if value == secret:
            return {"parts": [{"secret": name}]}
    parts: list[str | SecretRef] = [value]
    for name, secret in secrets:
        if len(secret) < MIN_MASKED:
            continue  # as the masker: too short to tell from ordinary text
        split: list[str | SecretRef] = []
        for part in parts:
            if not isinstance(part, str) or secret not in part:
                split.append(part)
                continue
            pieces = part.split(secret)
            for index, piece in enumerate(pieces):
                if index:
                    split.append({"secret": name})
                if piece:
                    split.append(piece)
        parts = split
    if parts == [value]:
        return {"value": value}
    return {"parts": parts}


def _resolve(ctx: RunContext, entry: Mapping[str, Any]) -> str:
    if "value" in entry:
        return str(entry["value"])
    values = ctx.variables.values
    out = []
    for part in entry.get("parts", []):
        if isinstance(part, str):
            out.append(part)
        else:
            # Re-resolved now: a resumed run passes its secrets again (--var, environment).
            out.append(values.get(str(part.get("secret")), ""))
    return "".join(out)


def _capture(ctx: RunContext, key: str, attempt: int) -> Capture:
    # Beside the supervisor's status file of the same attempt (which makes the directory).
    return Capture(ctx.status_path(key, attempt).with_suffix(".shell"))
