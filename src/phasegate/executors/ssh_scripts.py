"""The shell text that runs on a host (executors/ssh.py), and the data it reads.

``BOOTSTRAP`` runs one command per ssh channel; ``AGENT`` runs commands one after the other,
each read from its stdin, for as long as the connection lives (executors/ssh_agent.py). Both
are fixed text: what varies (the environment, the working directory, the status file, the
supervisor and the argv) arrives on stdin as data (``payload``), never as shell text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence

from phasegate.executors.supervisor import SUPERVISOR_SCRIPT

MARKER = "@@phasegate-pgid "
OUTPUTS = "@@phasegate-outputs "
DONE = "@@phasegate-done "

# Read one value line into $v: `r` and the value as it is (no newline in it: `read -r` takes
# it as data, no process started), or `b` and its base64 (a value with newlines; one ending in
# newlines survives the $(...) by the x).
READ_VALUE = (
    "d() { IFS= read -r l || exit 97; case $l in r*) v=${l#r};; "
    "*) v=$(printf '%s' \"${l#b}\" | base64 -d; echo x) || exit 97; v=${v%x};; esac; }; "
)
# One command: read its values, start it detached under the supervisor, stream its output
# files back until it ends, then its outputs; exits with its status.
_ONE = (
    'd; n=$v; i=0; while [ "$i" -lt "$n" ]; do d; k=$v; d; export "$k=$v"; i=$((i+1)); done; '
    "d; c=$v; d; s=$v; d; sup=$v; d; t=$v; d; n=$v; i=0; set --; "
    'while [ "$i" -lt "$n" ]; do d; set -- "$@" "$v"; i=$((i+1)); done; '
    "exec </dev/null; "
    '[ -d "${s%/*}" ] || mkdir -p "${s%/*}" || exit 97; '
    # Paths relative to the login's home stay so after `cd` (the status file, the outputs).
    "case $s in /*) ;; *) s=$PWD/$s;; esac; "
    'case ${PHASEGATE_OUTPUT:-/} in /*) ;; *) export PHASEGATE_OUTPUT="$PWD/$PHASEGATE_OUTPUT";; '
    "esac; "
    'if [ -n "$c" ]; then cd "$c" || { echo "@@phasegate-error no such directory $c" >&2; '
    "exit 97; }; fi; "
    ': >"$s.out"; : >"$s.err"; '
    'setsid sh -c "$sup" "$s" "$@" >"$s.out" 2>"$s.err" & p=$!; echo "$p" >"$s.pid"; '
    'echo "@@phasegate-pgid $p"; '
    'tail -s 0.02 -n +1 -f --pid="$p" "$s.out" & a=$!; '
    'tail -s 0.02 -n +1 -f --pid="$p" "$s.err" >&2 & b=$!; '
    'wait "$p"; r=$?; wait "$a" "$b"; '
    # The step's outputs come back after its output, behind a marker with the request's nonce
    # (which the step never saw), so no line the step prints can pass for them.
    'if [ -f "${PHASEGATE_OUTPUT:-/}" ] && [ -s "$PHASEGATE_OUTPUT" ]; then '
    'printf "@@phasegate-outputs %s " "$t"; head -c 1048577 "$PHASEGATE_OUTPUT" | base64 -w0; '
    "echo; fi; "
    'exit "$r"'
)
BOOTSTRAP = "umask 077; " + READ_VALUE + _ONE
# The agent: per request, a nonce line then the bootstrap's values; each request runs in a
# subshell (its exports and `cd` end with it) that reads exactly its own values from stdin;
# its end is a DONE line with the nonce on both streams (stdout with the status), so the
# controller knows both streams of this request are complete. EOF (the connection closed):
# the agent exits; a command still running goes on, detached, and its supervisor records it.
AGENT = (
    "umask 077; "
    + READ_VALUE
    + "while IFS= read -r t; do ("
    + _ONE
    + '); r=$?; echo "@@phasegate-done $t $r"; echo "@@phasegate-done $t" >&2; done'
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def payload(
    env: Mapping[str, str], cwd: str, status_file: str, argv: Sequence[str], nonce: str = ""
) -> bytes:
    """What the bootstrap reads on stdin: one line per value, counts first (``r`` + the
    value, or ``b`` + its base64 when it holds a line break)."""
    values: list[str] = []
    names = [k for k in env if _NAME.match(k)]
    values.append(str(len(names)))
    for name in names:
        values += [name, env[name]]
    values += [cwd, status_file, SUPERVISOR_SCRIPT, nonce, str(len(argv)), *argv]
    return b"".join(value_line(v) for v in values)


def value_line(value: str) -> bytes:
    if "\n" in value or "\r" in value:
        return b"b" + base64.b64encode(value.encode()) + b"\n"
    return b"r" + value.encode() + b"\n"
