"""A connection that breaks while a host's command runs: the command goes on on the host, and
phasegate reads its supervisor's record over a new connection instead of failing the host."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.fleet.fleetplan import journal
from tests.fleet.sshd import ssh_lab


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


def test_lost_connection_is_settled_from_the_host_record(tmp_path: Path) -> None:
    with ssh_lab(tmp_path / "lab", servers=1) as lab:
        work = tmp_path / "w"
        host_dir = work / "hosts" / "h0"
        host_dir.mkdir(parents=True)
        plan = {
            "version": 1,
            "name": "lost",
            "targets": {
                "hosts": [
                    {
                        "name": "h0",
                        "labels": {
                            "ansible_host": "127.0.0.1",
                            "ansible_port": lab.servers[0].port,
                            "dir": str(host_dir),
                        },
                    }
                ],
                "ssh": lab.ssh_settings(),
            },
            "phases": [
                {
                    "id": "deploy",
                    "hosts": "true",
                    "steps": [
                        {
                            "name": "slow",
                            "run": 'echo start >> "$HOST_DIR/ledger"; sleep 3; '
                            'echo done >> "$HOST_DIR/ledger"',
                        }
                    ],
                }
            ],
        }
        (work / "plan.yaml").write_text(yaml.safe_dump(plan))
        env = {**os.environ, "PHASEGATE_HOME": str(work / "state"), "NO_COLOR": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "phasegate", "run", "plan.yaml"],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ledger = host_dir / "ledger"
        deadline = time.monotonic() + 60
        while not ledger.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ledger.exists()
        listener = lab.servers[0].process
        assert listener is not None
        for pid in children(listener.pid):  # the connection's sshd, started by our sshd
            with contextlib.suppress(ProcessLookupError):  # one may have ended meanwhile
                os.kill(pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out[-3000:]
        assert ledger.read_text().splitlines() == ["start", "done"]
        run_id = next(
            line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("run ")
        )
        events = journal(work / "state", run_id)
        item = next(
            e for e in events if e["type"] == "item.finished" and e["key"] == "deploy/slow@h0"
        )
        assert item["status"] == "succeeded" and item["exit_code"] == 0
