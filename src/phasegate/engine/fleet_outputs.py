"""A host's step outputs, for the later steps and gates on the same host.

A command on a host publishes values as a local step does (``KEY=VALUE`` lines in
``$PHASEGATE_OUTPUT``); they come back with its end (the ssh executor sends them on the same
channel), masked, and are journalled with its item ``phase/step@host``. Later on *that* host:

- CEL (a step's ``when:``, a host gate's ``expr:``) reads ``steps.<id>.outputs.KEY`` as this
  host's value: ``steps.<id>`` is the host's item of step ``<id>`` (its phase's step first,
  then an earlier phase's), as ``steps.<id>`` is the step's item in a run without hosts.
- ``${steps.<id>.outputs.KEY}`` in a step's ``run:`` and ``env:`` and in a host gate's fields
  is the host's value. In a shell script it becomes a reference to an environment variable
  carrying the value (``${PHASEGATE_OUT_<id>__KEY}``, exported to the command): a value is
  data, never spliced into shell text. In an argv list or a check's field it is the value.

Values are the journalled ones, so a secret a command printed into its outputs reaches later
steps masked, as it reaches the journal; and a resumed run sees exactly what the dead one did.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from phasegate.plan.model import Phase, step_ids

if TYPE_CHECKING:
    from phasegate.run.state import RunState

OUTPUT_REF = re.compile(r"\$\{steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z_][A-Za-z0-9_]*)\}")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def env_name(step_id: str, key: str) -> str:
    return f"PHASEGATE_OUT_{_NOT_NAME.sub('_', step_id)}__{key}"


def host_items(state: RunState, phase: Phase, host: str) -> dict[str, Any]:
    """The host's step items by step id: the phase's own steps first, then earlier phases'
    steps on the host (``phase/step@host``), each also under its ``phase/step`` key."""
    suffix = f"@{host}"
    found: dict[str, Any] = {}
    own = {f"{phase.id}/{sid}": sid for sid in step_ids(phase)}
    for key, item in state.items.items():
        if item.kind != "step" or not key.endswith(suffix):
            continue
        step_key = key[: -len(suffix)]
        found[step_key] = item
        if step_key in own:
            found[own[step_key]] = item
    for step_key, item in list(found.items()):
        short = step_key.split("/", 1)[-1]
        if "/" in step_key and short not in found:
            found[short] = item
    return found


def host_outputs(state: RunState, phase: Phase, host: str) -> dict[str, dict[str, str]]:
    """Outputs of the host's succeeded steps, by step id (and ``phase/step``)."""
    return {
        sid: {str(k): str(v) for k, v in (item.data.get("outputs") or {}).items()}
        for sid, item in host_items(state, phase, host).items()
        if item.status == "succeeded"
    }


def output_env(outputs: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    return {
        env_name(sid, key): value
        for sid, values in outputs.items()
        if "/" not in sid
        for key, value in values.items()
    }


def in_shell(script: str) -> str:
    """``${steps.ID.outputs.KEY}`` -> ``${PHASEGATE_OUT_ID__KEY}`` (the shell expands it)."""
    return OUTPUT_REF.sub(lambda m: "${" + env_name(m.group(1), m.group(2)) + "}", script)


def in_text(text: str, outputs: Mapping[str, Mapping[str, str]]) -> str:
    """``${steps.ID.outputs.KEY}`` -> the value (unknown references are left as written)."""

    def value(match: re.Match[str]) -> str:
        found = outputs.get(match.group(1), {}).get(match.group(2))
        return match.group(0) if found is None else found

    return OUTPUT_REF.sub(value, text)


def host_activation(
    base: Callable[[], dict[str, Any]],
    state: RunState,
    phase: Phase,
    host: str,
    labels: Mapping[str, Any],
) -> dict[str, Any]:
    """CEL's view for one host: ``steps.<id>`` is the host's item; ``host: {name, labels}``."""
    found = base()
    steps = dict(found.get("steps") or {})
    for sid, item in host_items(state, phase, host).items():
        steps[sid] = {
            "status": item.status,
            "exit_code": item.exit_code if item.exit_code is not None else -1,
            "outputs": dict(item.data.get("outputs") or {}),
            "phase": item.phase or "",
        }
    found["steps"] = steps
    found["host"] = {"name": host, "labels": dict(labels)}
    return found
