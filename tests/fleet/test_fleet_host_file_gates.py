"""Host gates of kind ``file`` and ``kpi`` on an ssh fleet read the HOST's files (issue 15),
over real OpenSSH servers on 127.0.0.1, through the CLI.

Each host's sshd runs in a mount namespace of its own where one directory (``srv``, the same
absolute path everywhere) shows that host's own content; the controller has yet another
content there, always a passing one: a gate that read the controller's file would pass on
every host.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from phasegate.checks.file import FileCheck
from phasegate.checks.kpi import KpiCheck
from phasegate.executors.local import LocalExecutor
from phasegate.executors.ssh import SshPool, SshTarget
from phasegate.executors.ssh_files import open_host_files
from phasegate.masking import Masker
from phasegate.plugin import PluginContext
from tests.checks.test_kpi_check import junit
from tests.conftest import CLI
from tests.fleet.fleetplan import journal
from tests.fleet.sshd import SSHD, Lab, free_port

HOSTS = ["web00", "web01", "web02"]
# A name a shell would split, expand or run: read literally, or not at all.
ODD = "we ird \"q\" 'x' $(touch PWNED) `touch PWNED2` ;.txt"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1): each host's sshd has its own mount namespace")
    if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        pytest.skip("openssh-server is not installed (scripts/install-test-deps.sh)")
    root = tmp_path_factory.mktemp("hostfiles")
    srv = root / "srv"
    # The controller's copy: everything passes here.
    fill(srv, version="2.0", report=(40, 0), report_name="junit.xml")
    (srv / ODD).write_text("2.0\n")
    # web00: 2.0 and a good report; web01: 1.9 and 2 failures of 40; web02: 2.0, an empty
    # report under another name (the pattern is expanded on the host), a report above the cap.
    fill(root / "hosts" / "web00", version="2.0", report=(40, 0), report_name="junit.xml")
    (root / "hosts" / "web00" / ODD).write_text("version 2.0 here\n")
    fill(root / "hosts" / "web01", version="1.9", report=(40, 2), report_name="junit.xml")
    fill(root / "hosts" / "web02", version="2.0", report=(0, 0), report_name="empty.xml")
    big = root / "hosts" / "web02" / "big"
    big.mkdir()
    with (big / "junit.xml").open("wb") as fh:
        fh.truncate(17 * 1024 * 1024)  # sparse: 17 MiB without writing them
    lab = Lab(root / "lab")
    try:
        for name in HOSTS:
            lab.start(binds=((root / "hosts" / name, srv),))
        yield lab, root
    finally:
        lab.stop()


def fill(where: Path, *, version: str, report: tuple[int, int], report_name: str) -> None:
    (where / "etc" / "app").mkdir(parents=True)
    (where / "etc" / "app" / "VERSION").write_text(version + "\n")
    (where / "reports").mkdir()
    junit(where / "reports" / report_name, report[0], failures=report[1])


def write(cli: CLI, lab: Lab, host_gates: list[dict[str, Any]]) -> None:
    root = cli.cwd
    hosts = [
        {
            "name": name,
            "groups": ["web"],
            "labels": {"ansible_host": "127.0.0.1", "ansible_port": lab.servers[i].port},
        }
        for i, name in enumerate(HOSTS)
    ]
    plan = {
        "version": 1,
        "name": "host-files",
        "targets": {
            "hosts": hosts,
            "ssh": lab.ssh_settings(connect_timeout=3),
        },
        "phases": [
            {
                "id": "deploy",
                "hosts": "'web' in groups",
                "max_fail_percentage": 100,
                "steps": [{"name": "install", "run": "true"}],
                "host_gates": host_gates,
            }
        ],
    }
    (root / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))


def gates(cli: CLI) -> dict[tuple[str, str], dict[str, Any]]:
    events = journal(cli.state_dir, str(cli.status()["run"]["id"]))
    return {
        (e["key"].split(":", 1)[1].split("@")[0], e["host"]): e
        for e in events
        if e["type"] == "item.finished" and e.get("kind") == "gate" and e.get("host")
    }


def statuses(found: dict[tuple[str, str], dict[str, Any]], gate: str) -> list[str]:
    return [found[(gate, host)]["status"] for host in HOSTS]


def test_a_file_gate_reads_each_hosts_file_not_the_controllers(
    cli: CLI, world: tuple[Lab, Path]
) -> None:
    lab, root = world
    srv = root / "srv"
    assert (srv / "etc/app/VERSION").read_text() == "2.0\n"  # the controller would pass
    write(
        cli,
        lab,
        [
            {"id": "version", "file": f"{srv}/etc/app/VERSION", "expect": {"contains": "2.0"}},
            {
                "id": "here",
                "on": "controller",
                "file": f"{srv}/etc/app/VERSION",
                "expect": {"contains": "2.0"},
            },
            {"id": "odd", "file": f"{srv}/{ODD}", "expect": {"contains": "version 2.0"}},
        ],
    )
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    found = gates(cli)
    # web01 has 1.9: fails, though the controller's copy at that path says 2.0.
    assert statuses(found, "version") == ["passed", "failed", "passed"]
    assert found[("version", "web01")]["observed"] == {
        "path": f"{srv}/etc/app/VERSION",
        "exists": True,
        "kind": "file",
        "size": 4,
        "contains": False,
    }
    assert found[("version", "web01")]["host"] == "web01"
    # Only the first gate that fails is judged on a host: web01's later gates did not run.
    assert ("here", "web01") not in found and ("odd", "web01") not in found
    # `on: controller` reads this machine's copy, whatever the host has.
    assert [found[("here", h)]["status"] for h in ("web00", "web02")] == ["passed", "passed"]
    assert found[("here", "web00")]["observed"]["path"] == f"{srv}/etc/app/VERSION"
    # The odd name is read literally: its content is web00's ("version 2.0 here"; the
    # controller's copy says only "2.0"); web02 has no such file; nothing ran.
    assert [found[("odd", h)]["status"] for h in ("web00", "web02")] == ["passed", "failed"]
    assert found[("odd", "web02")]["observed"] == {"path": f"{srv}/{ODD}", "exists": False}
    for place in (Path.home(), cli.cwd, root / "hosts" / "web00", srv):
        assert not (place / "PWNED").exists() and not (place / "PWNED2").exists()


def test_kpi_gates_judge_each_hosts_own_reports(cli: CLI, world: tuple[Lab, Path]) -> None:
    lab, root = world
    srv = root / "srv"
    write(
        cli,
        lab,
        [
            # A report a step would have fetched to the controller: this machine's, all 40 pass.
            {
                "id": "fetched",
                "on": "controller",
                "kpi": f"{srv}/reports/*.xml",
                "expect": "tests == 40 && passed == 40",
            },
            # 2 of 40 failing is exactly 0.95 (docs/fleet.md, "KPI gates"): `>` fails it.
            {"id": "kpi", "kpi": f"{srv}/reports/*.xml", "expect": "tests > 0 && pass_rate > 0.95"},
        ],
    )
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    found = gates(cli)
    assert statuses(found, "fetched") == ["passed", "passed", "passed"]
    assert statuses(found, "kpi") == ["passed", "failed", "failed"]
    observed = {h: found[("kpi", h)]["observed"] for h in HOSTS}
    assert observed["web00"] | {} == {
        "tests": 40,
        "passed": 40,
        "failures": 0,
        "errors": 0,
        "skipped": 0,
        "pass_rate": 1.0,
        "reports": 1,
    }
    assert (observed["web01"]["failures"], observed["web01"]["pass_rate"]) == (2, 0.95)
    # web02's report is empty.xml, a name the controller does not have: expanded on the host.
    assert (observed["web02"]["tests"], observed["web02"]["reports"]) == (0, 1)
    assert "tests > 0 && pass_rate > 0.95 is false" in found[("kpi", "web02")]["message"]


def test_a_report_above_the_cap_is_an_error_naming_it(cli: CLI, world: tuple[Lab, Path]) -> None:
    lab, root = world
    srv = root / "srv"
    (srv / "big").mkdir(exist_ok=True)
    junit(srv / "big" / "junit.xml", 40)  # the controller's is small and passing
    write(cli, lab, [{"id": "big", "kpi": f"{srv}/big/junit.xml", "expect": "tests >= 0"}])
    result = cli("run", "plan.yaml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    found = gates(cli)
    assert statuses(found, "big") == ["failed", "failed", "error"]
    assert found[("big", "web00")]["message"] == (
        f"report {srv}/big/junit.xml does not exist on web00"
    )
    assert found[("big", "web02")]["message"] == (
        f"{srv}/big/junit.xml on web02 is {17 * 1024 * 1024} bytes, above the 16 MiB a host "
        "gate fetches"
    )


def context(pool: SshPool, target: SshTarget) -> PluginContext:
    return PluginContext(
        executor=LocalExecutor(),
        masker=Masker(()),
        plan_dir="/nonexistent",
        env={},
        expand=lambda text: text,
        shell=["/bin/sh", "-c"],
        timeout=10.0,
        host_files=lambda: open_host_files(pool, target),
    )


def target_of(lab: Lab, port: int) -> SshTarget:
    return SshTarget(
        name="h",
        address="127.0.0.1",
        port=port,
        identity=(str(lab.client_key),),
        known_hosts=str(lab.known_hosts),
        agent=False,
        connect_timeout=3,
    )


def test_an_unreachable_host_or_a_lost_connection_is_an_error_never_a_pass(
    world: tuple[Lab, Path], tmp_path: Path
) -> None:
    lab, root = world
    version = FileCheck.model_validate(
        {"file": f"{root}/srv/etc/app/VERSION", "expect": {"contains": "2.0"}}
    )
    report = KpiCheck.model_validate({"kpi": f"{root}/srv/reports/*.xml"})

    async def scenario() -> list[tuple[str, str]]:
        pool = SshPool()
        seen = []
        # Nobody listens: unreachable, although the controller's file would pass.
        closed = context(pool, target_of(lab, free_port()))
        for check in (version, report):
            obs = await check.evaluate(closed)
            seen.append((obs.status, obs.message))
        # A server of its own, stopped and its session killed once connected: lost.
        server = lab.start(binds=((root / "hosts" / "web00", root / "srv"),))
        ctx = context(pool, target_of(lab, server.port))
        first = await version.evaluate(ctx)
        seen.append((first.status, first.message))
        assert server.process is not None
        sessions = children(server.process.pid)  # the sshd our server forked for ours
        assert sessions
        server.stop()
        for pid in sessions:
            os.kill(pid, 9)
        for check in (version, report):
            obs = await check.evaluate(ctx)
            seen.append((obs.status, obs.message))
        await pool.close()
        return seen

    seen = asyncio.run(scenario())
    assert [s for s, _ in seen] == ["error", "error", "passed", "error", "error"]
    assert all("unreachable" in m and "cannot connect" in m for _, m in seen[:2])
    assert all("h unreachable" in m or "lost" in m for _, m in seen[3:])


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (read from /proc; ours: our server forked them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def test_on_is_refused_outside_host_gates(cli: CLI) -> None:
    (cli.cwd / "plan.yaml").write_text(
        "version: 1\n"
        "name: where\n"
        "phases:\n"
        "  - id: a\n"
        "    steps: [{run: 'true'}]\n"
        "    gates:\n"
        "      - file: VERSION\n"
        "        on: controller\n"
    )
    result = cli("validate", "plan.yaml")
    assert result.returncode == 2, result.stdout + result.stderr
    text = result.stdout + result.stderr
    assert "plan.yaml:8:9:" in text
    assert "`on: controller` is only for a fleet phase's host_gates" in text


TREE_CHECKS: list[dict[str, Any]] = [
    {"file": "a.txt", "expect": {"contains": "ready"}},
    {"file": "a.txt", "expect": {"contains": "line one\nline two"}},
    {"file": "a.txt", "expect": {"contains": "line two\nline one"}},
    {"file": "a.txt", "expect": {"contains": "absent text"}},
    {"file": "a.txt", "expect": {"sha256": "0" * 64}},
    {"file": "a.txt", "expect": {"min_size": 5, "kind": "file"}},
    {"file": "a.txt", "expect": {"min_size": 5000}},
    {"file": "a.txt", "expect": {"kind": "dir"}},
    {"file": "a.txt", "expect": {"absent": True}},
    {"file": "gone.txt", "expect": {"absent": True}},
    {"file": "gone.txt"},
    {"file": "logs", "expect": {"count": 4}},
    {"file": "logs", "expect": {"glob": "*.log", "count": {">=": 3}}},
    {"file": "logs", "expect": {"glob": "**/*.log", "count": 4}},
    {"file": "logs", "expect": {"glob": "sub/*"}},
    {"file": "logs", "expect": {"glob": "*.xml"}},
    {"file": "logs", "expect": {"contains": "x"}},
    {"file": "a.txt", "expect": {"count": 1}},
]
KPI_CHECKS: list[dict[str, Any]] = [
    {"kpi": "reports/**/*.xml", "expect": "tests == 60 && failures == 1"},
    {"kpi": "reports/*.xml", "expect": "tests == 40"},
    {"kpi": "reports/*/*.json", "expect": "doc.accuracy >= 0.9"},
    {"kpi": "reports/nothing-*.xml"},
    {"kpi": "bad/broken.xml"},
    {"kpi": "reports/missing.xml"},
    {"kpi": "nowhere/*.xml"},
    {"kpi": "reports/nested"},
]


def make_tree(where: Path) -> None:
    where.mkdir(parents=True)
    (where / "a.txt").write_text("ready\nline one\nline two\n")
    logs = where / "logs"
    (logs / "sub").mkdir(parents=True)
    for name in ("1.log", "2.log", ".hidden.log"):
        (logs / name).write_text("x")
    (logs / "sub" / "3.log").write_text("x")
    reports = where / "reports"
    (reports / "nested" / ".hidden").mkdir(parents=True)
    junit(reports / "top.xml", 40)
    junit(reports / "nested" / "deep.xml", 20, failures=1)
    junit(reports / "nested" / ".hidden" / "skipped.xml", 5, failures=5)  # glob skips it
    (reports / "nested" / "m.json").write_text('{"tests": 3, "accuracy": 0.93}')
    (where / "bad").mkdir()
    (where / "bad" / "broken.xml").write_text("<testsuites><testsuite>")


def test_host_reads_judge_as_local_reads_do(world: tuple[Lab, Path]) -> None:
    """Every expectation of a file check and a kpi check on a tree: evaluated on the host
    (web00, through its sshd) and on this machine, the verdicts and observations agree."""
    lab, root = world
    local_tree = root / "hosts" / "web00" / "tree"
    make_tree(local_tree)  # on web00, it is at srv/tree (its mount namespace)
    host_tree = root / "srv" / "tree"
    assert not host_tree.exists()  # not on the controller: a local read would find nothing

    async def both() -> list[tuple[Any, Any]]:
        pool = SshPool()
        ctx = context(pool, target_of(lab, lab.servers[0].port))
        here = dataclass_replace(ctx, host_files=None)
        pairs = []
        for raw in TREE_CHECKS + KPI_CHECKS:
            model = FileCheck if "file" in raw else KpiCheck
            key = "file" if "file" in raw else "kpi"
            remote = model.model_validate({**raw, key: f"{host_tree}/{raw[key]}"})
            local = model.model_validate({**raw, key: f"{local_tree}/{raw[key]}"})
            on_host, on_here = await remote.evaluate(ctx), await local.evaluate(here)
            pairs.append(
                (
                    (raw, on_host.status, norm(on_host.observed, host_tree)),
                    (raw, on_here.status, norm(on_here.observed, local_tree)),
                )
            )
        assert pool.connects == 1  # every read went over the one connection to the host
        assert pool.reader_starts == 1  # through one reader, kept from gate to gate
        await pool.close()
        return pairs

    pairs = asyncio.run(both())
    for on_host, on_here in pairs:
        assert on_host == on_here
    verdicts = [status for (_, status, _), _ in pairs]
    assert verdicts == [
        *["passed", "passed", "failed", "failed", "failed", "passed", "failed", "failed"],
        *["failed", "passed", "failed", "passed", "passed", "passed", "passed", "failed"],
        *["failed", "failed"],
        *["passed", "passed", "passed", "failed", "failed", "failed", "failed", "failed"],
    ]


def dataclass_replace(ctx: PluginContext, **changes: Any) -> PluginContext:
    import dataclasses

    return dataclasses.replace(ctx, **changes)


def norm(observed: Any, tree: Path) -> Any:
    if isinstance(observed, dict):
        return {k: norm(v, tree) for k, v in observed.items() if k != "path"}
    return observed


def test_relative_paths_are_the_logins_home_on_the_host(cli: CLI, world: tuple[Lab, Path]) -> None:
    lab, _ = world
    name = f"pg-hostgate-{os.getpid()}-{free_port()}"
    home = Path.home() / name  # the hosts' login home (the same account on loopback)
    home.mkdir()
    try:
        (home / "VERSION").write_text("2.0\n")
        (cli.cwd / name).mkdir()
        (cli.cwd / name / "VERSION").write_text("1.9\n")  # the plan's directory: 1.9
        write(
            cli,
            lab,
            [
                {"id": "rel", "file": f"{name}/VERSION", "expect": {"contains": "2.0"}},
                {"id": "tilde", "file": f"~/{name}/VERSION", "expect": {"contains": "2.0"}},
                {
                    "id": "here",
                    "on": "controller",
                    "file": f"{name}/VERSION",
                    "expect": {"contains": "1.9"},
                },
            ],
        )
        result = cli("run", "plan.yaml")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr
        found = gates(cli)
        for gate in ("rel", "tilde", "here"):
            assert statuses(found, gate) == ["passed"] * 3, gate
        assert found[("rel", "web00")]["observed"]["path"] == f"{name}/VERSION"
        assert found[("here", "web00")]["observed"]["path"] == str(cli.cwd / name / "VERSION")
    finally:
        shutil.rmtree(home)


def test_a_read_cut_short_closes_the_reader_and_the_next_gate_gets_its_own_answer(
    world: tuple[Lab, Path],
) -> None:
    lab, root = world
    # Listing all of /usr takes the host far longer than the 10 ms this read is given.
    slow = KpiCheck.model_validate({"kpi": "/usr/**/*.no-such-report"})
    version = FileCheck.model_validate(
        {"file": f"{root}/srv/etc/app/VERSION", "expect": {"contains": "2.0"}}
    )

    async def scenario() -> tuple[Any, Any, int]:
        pool = SshPool()
        ctx = context(pool, target_of(lab, lab.servers[1].port))  # web01: VERSION 1.9
        first = await version.evaluate(ctx)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow.evaluate(ctx), 0.01)
        then = await version.evaluate(ctx)
        starts = pool.reader_starts
        await pool.close()
        return (first.status, first.observed), (then.status, then.observed), starts

    first, then, starts = asyncio.run(scenario())
    # The cut read's late answer never passes for the next one: a new reader answers it.
    assert starts == 2
    assert first == then
    assert then[1] == {
        "path": f"{root}/srv/etc/app/VERSION",
        "exists": True,
        "kind": "file",
        "size": 4,
        "contains": False,
    }
