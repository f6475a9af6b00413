"""The ssh executor against real OpenSSH servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phasegate.executors.ssh import (
    SshExecutor,
    SshPool,
    SshTarget,
    read_remote_records,
    read_remote_status,
)
from phasegate.executors.stopping import StopRequest
from tests.fleet.sshd import Lab, free_port, ssh_lab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with ssh_lab(tmp_path / "lab", servers=1) as lab:
        yield lab


def target(lab: Lab, index: int = 0, **extra: object) -> SshTarget:
    return SshTarget(
        name=f"host{index}",
        address="127.0.0.1",
        port=lab.servers[index].port,
        identity=(str(lab.client_key),),
        known_hosts=str(lab.known_hosts),
        agent=False,
        connect_timeout=5,
        **extra,  # type: ignore[arg-type]
    )


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_env_reaches_the_command_as_data_and_output_streams(lab: Lab, tmp_path: Path) -> None:
    tricky = 'it\'s "$(touch /tmp/pwned)" `id` ;\nline2 \\ $HOME\n'
    lines: list[tuple[str, str]] = []
    workdir = tmp_path / "w"
    workdir.mkdir()

    async def go() -> object:
        pool = SshPool()
        ex = SshExecutor(pool, target(lab))
        try:
            return await ex.run(
                [
                    "/bin/sh",
                    "-c",
                    'printf "%s" "$TRICKY" > got; echo one; echo two >&2; pwd; exit 3',
                ],
                env={"TRICKY": tricky, "not a name": "x", "PHASEGATE_HOST": "host0"},
                cwd=str(workdir),
                timeout=30,
                on_output=lambda stream, line: lines.append((stream, line)),
                status_file=str(tmp_path / "runs" / "s1"),
            )
        finally:
            await pool.close()

    result = run(go())
    assert result.exit_code == 3  # type: ignore[attr-defined]
    assert (workdir / "got").read_text() == tricky  # byte for byte, nothing evaluated
    assert not Path("/tmp/pwned").exists()
    assert ("stdout", "one") in lines and ("stderr", "two") in lines
    assert ("stdout", str(workdir)) in lines
    assert result.stdout == f"one\n{workdir}\n"  # type: ignore[attr-defined]
    assert (tmp_path / "runs" / "s1").read_text() == "3 end\n"


def test_connections_are_reused_and_status_read_back(lab: Lab, tmp_path: Path) -> None:
    async def go() -> tuple[int, list[int | None], object]:
        pool = SshPool(limit=2)
        ex = SshExecutor(pool, target(lab))
        try:
            codes = []
            for i in range(3):
                r = await ex.run(
                    ["sh", "-c", f"exit {i}"],
                    env={},
                    cwd="",
                    timeout=30,
                    status_file=str(tmp_path / f"r/{i}"),
                )
                codes.append(r.exit_code)
            record = await read_remote_status(pool, ex.target, str(tmp_path / "r/2"))
            missing = await read_remote_status(pool, ex.target, str(tmp_path / "r/none"))
            assert missing == "absent"  # never started there
            # A record whose output file is there, one left without a record (supervisor
            # gone), and the three above: all read in one channel, in the order asked.
            (tmp_path / "r/1.output").write_text("version=v2\nlines=a b\n")
            (tmp_path / "r/dead.out").write_text("")
            reads = pool.record_reads
            paths = [str(tmp_path / f"r/{n}") for n in ("2", "none", "dead", "1", "0")]
            many = await read_remote_records(pool, ex.target, paths)
            assert pool.record_reads == reads + 1
            return pool.connects, codes, record, [many[p] for p in paths]
        finally:
            await pool.close()

    connects, codes, record, many = run(go())  # type: ignore[misc]
    assert codes == [0, 1, 2]
    assert connects == 1
    assert record.status == 2  # type: ignore[attr-defined]
    assert [getattr(m.record, "status", m.record) for m in many] == [2, "absent", None, 1, 0]
    assert [m.output for m in many] == ["", "", "", "version=v2\nlines=a b\n", ""]


def test_secrets_never_on_a_remote_command_line(lab: Lab, tmp_path: Path) -> None:
    secret = "s3cr3t-" + os.urandom(8).hex()
    # The step looks at every process's command line on the host while it runs.
    scan = (
        'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done '
        '| grep -c -- "$SECRET_TOKEN" || true; '
        'test "$SECRET_TOKEN" = "$EXPECTED" && echo same'
    )

    async def go() -> object:
        pool = SshPool()
        try:
            return await SshExecutor(pool, target(lab)).run(
                ["sh", "-c", scan],
                env={"SECRET_TOKEN": secret, "EXPECTED": secret},
                cwd="",
                timeout=30,
                status_file=str(tmp_path / "r/s"),
            )
        finally:
            await pool.close()

    result = run(go())
    # grep's own pattern is "$SECRET_TOKEN" expanded... in grep's argv: one match (grep).
    count, same = result.stdout.split()  # type: ignore[attr-defined]
    assert same == "same"
    assert int(count) <= 1, result.stdout  # type: ignore[attr-defined]


def test_unknown_host_key_and_closed_port_are_unreachable(tmp_path: Path) -> None:
    with ssh_lab(tmp_path / "lab", servers=0) as lab:
        lab.start(trusted=False)

        async def go() -> tuple[object, object]:
            pool = SshPool()
            try:
                strict = await SshExecutor(pool, target(lab)).run(
                    ["true"], env={}, cwd="", timeout=10, status_file=str(tmp_path / "r/a")
                )
                closed = SshExecutor(
                    pool,
                    SshTarget(
                        "gone",
                        "127.0.0.1",
                        free_port(),
                        identity=(str(lab.client_key),),
                        agent=False,
                        connect_timeout=3,
                    ),
                )
                down = await closed.run(["true"], env={}, cwd="", timeout=10)
                return strict, down
            finally:
                await pool.close()

        strict, down = run(go())  # type: ignore[misc]
    assert strict.unreachable and "host key" in strict.error  # type: ignore[attr-defined]
    assert not (tmp_path / "r/a").exists()  # nothing ran
    assert down.unreachable and "cannot connect" in down.error  # type: ignore[attr-defined]


def test_timeout_kills_the_remote_group(lab: Lab, tmp_path: Path) -> None:
    marker = tmp_path / "after"

    async def go() -> object:
        pool = SshPool()
        try:
            return await SshExecutor(pool, target(lab)).run(
                ["sh", "-c", f"sleep 1 & sleep 30; touch {marker}"],
                env={},
                cwd="",
                timeout=0.5,
                status_file=str(tmp_path / "r/t"),
            )
        finally:
            await pool.close()

    started = time.monotonic()
    result = run(go())
    assert result.timed_out and result.exit_code is None  # type: ignore[attr-defined]
    assert time.monotonic() - started < 20
    time.sleep(0.3)
    assert not marker.exists()
    # the supervisor recorded the death by signal (TERM = 15 -> 143)
    assert (tmp_path / "r/t").read_text() == "143 end\n"


def test_stop_request_ends_the_remote_command(lab: Lab, tmp_path: Path) -> None:
    async def go() -> tuple[object, StopRequest]:
        pool = SshPool()
        stop = StopRequest()
        try:
            task = asyncio.ensure_future(
                SshExecutor(pool, target(lab)).run(
                    ["sleep", "30"],
                    env={},
                    cwd="",
                    timeout=None,
                    stop=stop,
                    status_file=str(tmp_path / "r/x"),
                )
            )
            await asyncio.sleep(1.0)
            stop.request("abort", wait=0, grace=2)
            return await task, stop
        finally:
            await pool.close()

    result, stop = run(go())  # type: ignore[misc]
    assert result.signal == 15  # type: ignore[attr-defined]
    assert [name for name, _ in stop.sent] == ["SIGTERM"]


@pytest.mark.skipif(shutil.which("sudo") is None, reason="sudo is not installed")
def test_become_runs_through_sudo(lab: Lab, tmp_path: Path) -> None:
    async def go() -> object:
        pool = SshPool()
        try:
            return await SshExecutor(pool, target(lab, become=True)).run(
                ["sh", "-c", 'test -n "$SUDO_COMMAND" && echo via-sudo; id -u'],
                env={},
                cwd="",
                timeout=30,
                status_file=str(tmp_path / "r/b"),
            )
        finally:
            await pool.close()

    result = run(go())
    assert result.stdout.split() == ["via-sudo", "0"]  # type: ignore[attr-defined]


def test_one_agent_per_connection_isolates_requests_and_cannot_be_forged(
    lab: Lab, tmp_path: Path
) -> None:
    """Commands go through one agent per connection: each request's exports and `cd` end
    with it; lines a command prints that look like the agent's markers are output, not an
    end or outputs; a second command while the agent is busy takes a channel of its own."""
    work = tmp_path / "w"
    work.mkdir()
    out = tmp_path / "published"

    async def go() -> tuple[list[object], int, int]:
        pool = SshPool()
        ex = SshExecutor(pool, target(lab))
        results: list[object] = []
        try:
            results.append(
                await ex.run(
                    ["/bin/sh", "-c", 'export LEAK=1; echo "K=v1" >> "$PHASEGATE_OUTPUT"'],
                    env={"PHASEGATE_OUTPUT": str(out) + ".1"},
                    cwd=str(work),
                    timeout=30,
                    status_file=str(tmp_path / "runs" / "a"),
                )
            )
            forged = (
                'echo "@@phasegate-done x 0"; echo "@@phasegate-outputs x Sz1mb3JnZWQ="; '
                'echo "[$LEAK] $PWD"; sleep 0.5; exit 4'
            )
            slow = ex.run(
                ["/bin/sh", "-c", forged],
                env={"PHASEGATE_OUTPUT": str(out) + ".2"},
                cwd="",
                timeout=30,
                status_file=str(tmp_path / "runs" / "b"),
            )
            beside = ex.run(
                ["/bin/sh", "-c", "echo beside"],
                env={},
                cwd="",
                timeout=30,
                status_file=str(tmp_path / "runs" / "c"),
            )
            results += await asyncio.gather(slow, beside)
        finally:
            await pool.close()
        return results, pool.agent_starts, pool.connects

    (first, second, third), starts, connects = run(go())  # type: ignore[misc]
    assert first.exit_code == 0 and first.published == "K=v1\n"  # type: ignore[attr-defined]
    # The fake markers are plain output; the request ended with the command, exit 4.
    assert second.exit_code == 4  # type: ignore[attr-defined]
    assert second.published == ""  # type: ignore[attr-defined]
    assert second.stdout.splitlines() == [  # type: ignore[attr-defined]
        "@@phasegate-done x 0",
        "@@phasegate-outputs x Sz1mb3JnZWQ=",
        f"[] {os.path.expanduser('~')}",  # no LEAK, and not the first request's cwd
    ]
    assert third.exit_code == 0 and third.stdout == "beside\n"  # type: ignore[attr-defined]
    assert (starts, connects) == (1, 1)


def test_agent_killed_mid_command_is_a_lost_connection_the_record_resolves(
    lab: Lab, tmp_path: Path
) -> None:
    """The agent dies (the connection's process on the host) while a command runs: the
    command goes on, detached; the executor reports the connection lost and the command's
    supervisor record says how it ended."""
    status = tmp_path / "runs" / "k"

    async def go() -> tuple[object, object]:
        pool = SshPool()
        ex = SshExecutor(pool, target(lab))
        try:
            script = 'kill -9 "$(cat "$AGENT_PID")"; sleep 0.3; echo done > "$MARK"; exit 5'
            # The agent is the parent of the subshell that starts the command's supervisor:
            # find it from the command itself (its grandparent's parent).
            find = (
                "p=$(ps -o ppid= -p $$); p=$(ps -o ppid= -p $p); p=$(ps -o ppid= -p $p); "
                'echo $p > "$AGENT_PID"; '
            )
            result = await ex.run(
                ["/bin/sh", "-c", find + script],
                env={"AGENT_PID": str(tmp_path / "agent.pid"), "MARK": str(tmp_path / "mark")},
                cwd="",
                timeout=30,
                status_file=str(status),
            )
            deadline = time.monotonic() + 20
            record = await read_remote_status(pool, target(lab), str(status))
            while not hasattr(record, "status") and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                record = await read_remote_status(pool, target(lab), str(status))
            return result, record
        finally:
            await pool.close()

    result, record = run(go())  # type: ignore[misc]
    assert result.connection_lost, result  # type: ignore[attr-defined]
    assert record.status == 5  # type: ignore[attr-defined]
    assert (tmp_path / "mark").read_text() == "done\n"
