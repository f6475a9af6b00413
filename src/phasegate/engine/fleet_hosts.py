"""One command on one host of a fleet phase: how the host is reached, what it receives, and
its journal item ``phase/step@host`` (or ``undo:phase/step@host``).

What a host's command sees: the plan's variables (secrets included, as environment values sent
over the channel's stdin, never on a command line), the step's ``env:``, and the host itself:
``PHASEGATE_HOST`` (its inventory name) and ``HOST_<LABEL>`` for each label whose name is an
identifier (``az`` -> ``HOST_AZ``). Nothing else of phasegate's own environment reaches a
remote host (its ``PATH``/``HOME`` are the host's). With ``targets.executor: local`` the
command runs on this machine instead (rehearsals, tests), with this machine's environment.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phasegate.engine.fleet_outputs import host_outputs, in_shell, in_text, output_env
from phasegate.engine.outputs_file import FILE_LIMIT, parse_head, read_outputs
from phasegate.engine.steplog import StepLog
from phasegate.executors.base import Executor, ProcessResult
from phasegate.executors.local import LocalExecutor
from phasegate.executors.ssh import (
    RemoteRecord,
    SshExecutor,
    SshPool,
    SshTarget,
    read_remote_file,
    read_remote_records,
)
from phasegate.executors.stopping import StopRequest
from phasegate.executors.supervisor import StatusRecord, read_status
from phasegate.fleet.inventory import PRIVATE_LABELS
from phasegate.fleet.spec import Targets
from phasegate.plan.model import Action, Step
from phasegate.plugin import command_argv, describe_command
from phasegate.run.events import FinishDetails, item_finished, item_started
from phasegate.run.record import JsonDict, JsonValue
from phasegate.run.records import ItemBase
from phasegate.store.steplogs import safe_name

if TYPE_CHECKING:
    from phasegate.engine.port import FleetPort, RunView

_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def host_key(step_key: str, host: str) -> str:
    return f"{step_key}@{host}"


def split_host_key(key: str) -> tuple[str, str] | None:
    """``phase/step@host`` -> (``phase/step``, ``host``); None for any other key."""
    head, sep, host = key.rpartition("@")
    if not sep or "/" not in head or not host:
        return None
    return head, host


@dataclass
class Fleet:
    """A run's connections to its hosts (one pool, reused by every fleet phase and the
    rollback), closed when the engine exits."""

    targets: Targets
    plan_dir: str
    pool: SshPool = field(default_factory=SshPool)
    local: LocalExecutor = field(default_factory=LocalExecutor)

    def __post_init__(self) -> None:
        self.pool.limit = self.targets.ssh.max_connections

    def target(self, name: str, labels: Mapping[str, Any]) -> SshTarget:
        ssh = self.targets.ssh
        key_file = labels.get("ansible_ssh_private_key_file")
        identity = [str(key_file)] if key_file else ssh.identity
        become = labels.get("ansible_become", ssh.become)
        return SshTarget(
            name=name,
            address=str(labels.get("ansible_host") or name),
            port=int(labels.get("ansible_port") or ssh.port),
            user=str(labels.get("ansible_user") or ssh.user or "") or None,
            identity=tuple(self._path(p) for p in identity),
            known_hosts=self._path(ssh.known_hosts) if ssh.known_hosts else None,
            insecure=ssh.insecure_skip_host_key_check,
            agent=ssh.agent,
            connect_timeout=ssh.connect_timeout,
            keepalive=ssh.keepalive,
            become=become in (True, "true", "True", "yes", "1"),
            become_user=ssh.become_user,
        )

    def _path(self, text: str) -> str:
        path = os.path.expanduser(text)
        return path if os.path.isabs(path) else os.path.join(self.plan_dir, path)

    def executor(self, name: str, labels: Mapping[str, Any]) -> Executor:
        if self.targets.executor == "local":
            return self.local
        return SshExecutor(self.pool, self.target(name, labels))

    def status_file(self, runner: RunView, key: str, attempt: int) -> str:
        if self.targets.executor == "local":
            return str(runner.ctx.status_path(key, attempt))
        return f"{self.targets.ssh.run_dir}/{runner.ctx.run_id}/{safe_name(key)}.{attempt}"

    def output_file(self, runner: RunView, key: str, attempt: int) -> str:
        """``$PHASEGATE_OUTPUT`` of a host's command (beside its status file on the host)."""
        path = self.output_file_path(runner, key, attempt)
        if self.targets.executor == "local":
            Path(path).unlink(missing_ok=True)
        return path

    async def read_outputs(
        self, runner: RunView, key: str, attempt: int, name: str, labels: Mapping[str, Any]
    ) -> dict[str, str]:
        """The ``KEY=VALUE`` lines the command wrote to ``$PHASEGATE_OUTPUT`` (none when
        the host cannot be read now: outputs are optional)."""
        path = self.output_file_path(runner, key, attempt)
        if self.targets.executor == "local":
            found = read_outputs(Path(path))
        else:
            try:
                text = await read_remote_file(
                    self.pool, self.target(name, labels), path, FILE_LIMIT + 1
                )
            except Exception:
                return {}
            found = parse_head(text)
        return {k: runner.ctx.masker.text(v) for k, v in found.items()}

    async def outputs_of(
        self,
        runner: RunView,
        key: str,
        attempt: int,
        name: str,
        labels: Mapping[str, Any],
        result: ProcessResult,
    ) -> dict[str, str]:
        """The outputs of a finished attempt: sent back with its end (ssh), else read from
        the file (the local executor; a step whose end came from its record after a lost
        connection: one more round trip, only then)."""
        if result.published is not None:
            return {k: runner.ctx.masker.text(v) for k, v in parse_head(result.published).items()}
        return await self.read_outputs(runner, key, attempt, name, labels)

    def output_file_path(self, runner: RunView, key: str, attempt: int) -> str:
        if self.targets.executor == "local":
            return str(runner.ctx.output_path(f"{key}.{attempt}"))
        return self.status_file(runner, key, attempt) + ".output"

    async def read_record(
        self, runner: RunView, key: str, attempt: int, name: str, labels: Mapping[str, Any]
    ) -> StatusRecord | str | None:
        """The supervisor's record of an attempt on its host ("running" while it runs)."""
        records = await self.read_records(runner, name, labels, [(key, attempt)])
        return records[(key, attempt)].record

    async def read_records(
        self,
        runner: RunView,
        name: str,
        labels: Mapping[str, Any],
        attempts: list[tuple[str, int]],
    ) -> dict[tuple[str, int], RemoteRecord]:
        """The supervisor records (and outputs) of several attempts on one host, in one round
        trip; every record unknown (None) when the host cannot be read now."""
        paths = {attempt: self.status_file(runner, *attempt) for attempt in attempts}
        if self.targets.executor == "local":
            return {
                (key, attempt): RemoteRecord(
                    read_status(Path(path)),
                    _file_text(self.output_file_path(runner, key, attempt)),
                )
                for (key, attempt), path in paths.items()
            }
        try:
            found = await read_remote_records(
                self.pool, self.target(name, labels), list(paths.values())
            )
        except Exception:  # unreachable now: the outcomes stay unknown
            return {attempt: RemoteRecord(None) for attempt in attempts}
        return {attempt: found[path] for attempt, path in paths.items()}

    def outputs_from(self, runner: RunView, text: str) -> dict[str, str]:
        """Parsed, masked ``KEY=VALUE`` outputs (``read_records``' output text)."""
        return {k: runner.ctx.masker.text(v) for k, v in parse_head(text).items()}

    async def close(self) -> None:
        await self.pool.close()


def _file_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def fleet_of(runner: FleetPort) -> Fleet:
    if runner.fleet is None:
        assert runner.ctx.plan.targets is not None
        runner.fleet = Fleet(runner.ctx.plan.targets, runner.ctx.plan_dir)
    fleet = runner.fleet
    assert isinstance(fleet, Fleet)
    return fleet


def public_labels(labels: Mapping[str, JsonValue]) -> JsonDict:
    return {k: v for k, v in labels.items() if k not in PRIVATE_LABELS}


def host_env(name: str, labels: Mapping[str, Any]) -> dict[str, str]:
    """The host's values: ``PHASEGATE_HOST``, ``HOST_ADDRESS`` (the address phasegate
    connects to: ``ansible_host``, else the name; a label ``address`` wins) and
    ``HOST_<LABEL>`` per label."""
    env = {"PHASEGATE_HOST": name, "HOST_ADDRESS": str(labels.get("ansible_host") or name)}
    for label, value in labels.items():
        if _LABEL.match(label) and label not in PRIVATE_LABELS and not label.startswith("ansible_"):
            env[f"HOST_{label.upper()}"] = value if isinstance(value, str) else _text(value)
    return env


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class HostRun:
    """What running one command on one host came to."""

    status: str  # succeeded | failed
    unreachable: bool
    result: ProcessResult


async def run_host_undo(runner: FleetPort, key: str) -> None:
    """``undo:phase/step@host``: the step's undo, on the host where the step completed."""
    split = split_host_key(key.removeprefix("undo:"))
    assert split is not None
    step_key, host = split
    target = runner.targets.step(step_key)
    undo = target.step.undo
    assert undo is not None
    fleet_item = runner.state.items.get(f"{target.phase.id}/fleet")
    hosts = fleet_item.data.get("hosts") if fleet_item is not None else None
    labels = next((h.get("labels") or {} for h in hosts or () if h.get("name") == host), {})
    name = f"{runner.ctx.variables.expand(undo.name or target.step.label)} @ {host}"
    await run_on_host(
        runner,
        key,
        kind="undo",
        phase=target.phase.id,
        name=name,
        action=undo,
        host=host,
        labels=labels,
        retries=fleet_of(runner).targets.ssh.connect_retries,
        stop=runner.stops.get(key),
    )


async def run_on_host(
    runner: FleetPort,
    key: str,
    *,
    kind: str,
    phase: str,
    name: str,
    action: Action | Step,
    host: str,
    labels: Mapping[str, Any],
    retries: int,
    stop: StopRequest | None,
    backoff: float | None = None,
) -> HostRun:
    """Journal the start durably, run the command on the host (reconnecting ``retries``
    times when it is unreachable), journal its end. With ``backoff`` (an attempt the step's
    ``retries:`` allow another after), a failure is journalled ``retrying`` with its delay
    instead of ``failed``: the caller runs the next attempt."""
    ctx = runner.ctx
    fleet = fleet_of(runner)
    item = runner.state.items.get(key)
    attempt = (item.attempt if item is not None else 0) + 1
    base: ItemBase = {"key": key, "kind": kind, "phase": phase, "name": name}
    assert action.run is not None
    # Durable before the command is sent; hosts starting together share one commit.
    command = describe_command(action.run)
    await runner.journal_durably(item_started(base, attempt=attempt, command=command))
    remote = ctx.plan.targets is not None and ctx.plan.targets.executor == "ssh"
    env: dict[str, str] = {} if remote else dict(ctx.base_env)
    published = host_outputs(runner.state, ctx.plan.phase(phase), host)
    env.update(ctx.variables.values)
    env.update(output_env(published))
    env.update({k: in_text(ctx.variables.expand(v), published) for k, v in action.env.items()})
    env.update(host_env(host, labels))
    env["PHASEGATE_RUN_ID"] = ctx.run_id
    env["PHASEGATE_OUTPUT"] = fleet.output_file(runner, key, attempt)
    run = (
        in_shell(action.run)
        if isinstance(action.run, str)
        else [in_text(part, published) for part in action.run]
    )
    argv = command_argv(run, ctx.shell(action.shell), ctx.variables.values)
    cwd = ctx.variables.expand(action.cwd) if action.cwd else ("" if remote else ctx.plan_dir)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    log = StepLog(
        ctx.logs,
        ctx.masker,
        key,
        f"=== {key} attempt {attempt} at {stamp}\n$ {describe_command(action.run)}\n",
        ctx.plan.defaults.log_limit,
    )

    def sink(stream: str, line: str) -> None:
        clean = ctx.masker.text(line)
        capped = log.capped
        if log.write(clean + "\n" if stream == "stdout" else f"[stderr] {clean}\n"):
            ctx.console.output(key, stream, f"[{host}] {clean}")
        elif not capped:
            ctx.console.note(f"{key}: log limit reached, its further output is not kept", "yellow")

    executor = fleet.executor(host, labels)
    timeout = action.timeout if action.timeout is not None else ctx.plan.defaults.timeout
    try:
        for reconnect in range(retries + 1):
            result = await executor.run(
                argv,
                env=env,
                cwd=cwd,
                timeout=timeout,
                on_output=sink,
                capture_limit=64 * 1024,
                stop=stop,
                status_file=fleet.status_file(runner, key, attempt),
            )
            if result.connection_lost:
                # The command may go on (or have ended) on the host: its supervisor's record
                # says how, once a new connection can read it.
                result = await _after_lost_connection(runner, key, attempt, host, labels, result)
                break
            if not result.unreachable or reconnect == retries:
                break
            delay = min(2.0**reconnect, 10.0)
            if stop is not None and await stop.pause(delay):
                break
            if stop is None:
                await asyncio.sleep(delay)
        log.footer(f"=== {_message(result)} in {result.duration:.3f}s\n")
    finally:
        log.close()
    ok = result.ok
    status = "succeeded" if ok else "failed"
    again = (
        not ok
        and backoff is not None
        and not result.unreachable
        and not (stop is not None and stop.requested)
    )
    if again:
        status = "retrying"
    outputs: dict[str, str] = {}
    if ok and kind == "step":
        outputs = await fleet.outputs_of(runner, key, attempt, host, labels, result)
    details: FinishDetails = {
        "attempt": attempt,
        "exit_code": result.exit_code,
        "duration": round(result.duration, 6),
        "message": _message(result),
        "log": log.location if log.created else None,
        "host": host,
        "unreachable": result.unreachable,
    }
    if outputs:
        details["outputs"] = outputs
    if again:
        details["delay"] = backoff
    # One host's failure is the fleet budget's to judge, not the run's.
    details["tolerated"] = kind == "step" and not ok and not again
    runner.journal(item_finished(base, status, **details))
    note = "" if ok else _message(result) + (f"; next attempt in {backoff:g}s" if again else "")
    ctx.console.item(kind, name, status, note, duration=result.duration)
    return HostRun(status, result.unreachable, result)


LOST_POLL = 0.5


async def _after_lost_connection(
    runner: FleetPort,
    key: str,
    attempt: int,
    host: str,
    labels: Mapping[str, Any],
    lost: ProcessResult,
) -> ProcessResult:
    fleet = fleet_of(runner)
    deadline = time.monotonic() + max(runner.ctx.orphan_wait, 1.0)
    wanted = [(key, attempt)]
    # One round trip per poll gives the record and the outputs together.
    found = (await fleet.read_records(runner, host, labels, wanted))[(key, attempt)]
    while not isinstance(found.record, StatusRecord) and time.monotonic() < deadline:
        await asyncio.sleep(LOST_POLL)
        found = (await fleet.read_records(runner, host, labels, wanted))[(key, attempt)]
    record = found.record
    if not isinstance(record, StatusRecord):
        return lost  # no record: the host's outcome is not known; the host counts as failed
    status = record.status
    return ProcessResult(
        exit_code=status if status <= 128 else None,
        stdout=lost.stdout,
        stderr=lost.stderr,
        duration=lost.duration,
        signal=status - 128 if status > 128 else None,
        published=found.output,
    )


def _message(result: ProcessResult) -> str:
    if result.error:
        return ("unreachable: " if result.unreachable else "") + result.error
    if result.timed_out:
        return f"timed out after {result.duration:.1f}s; process group killed"
    if result.signal:
        return f"killed by signal {result.signal}"
    if result.exit_code != 0:
        tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
        return f"exit {result.exit_code}" + (f": {tail[0][:200]}" if tail[0] else "")
    return "exit 0"
