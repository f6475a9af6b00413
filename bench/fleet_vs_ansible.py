"""Issue 15's fleet performance goal: 100 hosts x 3 short steps over real OpenSSH, phasegate
vs ``ansible-playbook`` with the same inventory and the same parallelism (``forks`` =
``targets.ssh.max_connections``). Goal: phasegate >= 5x faster wall time.

The hosts: several Debian ``sshd`` (tests/fleet/sshd.py: generated host and client keys,
strict known_hosts), hosts spread over them round-robin. Each host is its own ssh endpoint and
its own account home, as the machines of a fleet are:

- its own loopback address (127.0.1.1, 127.0.1.2, ...; its server listens on the addresses of
  its hosts). With one address per server, Ansible's ControlMaster (its ControlPath is a hash of
  address, port and user) served all the hosts of a server over one connection: 10 connections
  for Ansible, 100 for phasegate. ``--shared-addresses`` measures that setting;
- its own home (``HOME`` of its sessions, set by sshd per local address), holding a copy of
  this machine's ~/.bashrc and what it starts. Root's ~/.bashrc here runs ``pyenv init``, whose
  ``pyenv rehash`` takes a lock file in ~/.pyenv/shims, retried every 0.1 s: with one home,
  every ssh command of the whole fleet queued on one lock. ``--shared-home`` measures that;
- its own directory (``dir`` label / host var), where each step writes a marker; after each
  tool's run the bench checks that every host has all 3 markers (a run that did less measured
  nothing).

Measured per tool, in a fresh wrapper interpreter: wall time, CPU time of the whole process
tree (user + system of every waited-for descendant: the per-host overhead on the controller is
that / hosts), the peak RSS of the largest single process, and the peak RSS summed over the
process tree (sampled every 20 ms from /proc: Ansible's forks and ssh masters count). The
hosts' side is reported apart (``per_host_remote_cpu_ms``: the sshd servers' CPU time and
their waited-for descendants', i.e. sshd's sessions, the login shells with their rc files, the
commands). Each tool runs once to warm up (bytecode, ssh host keys, Ansible's ControlPersist
sockets are closed between runs), then ``--reps`` times; the medians are reported.

Ansible's settings: ``gather_facts: false``, ``ANSIBLE_PIPELINING=True`` (its own recommended
speed-up), OpenSSH ControlMaster/ControlPersist (its default), the ``linear`` strategy (its
default), the ``shell`` module.

Run: ``uv sync --all-groups && uv run python bench/fleet_vs_ansible.py [--hosts 100]
[--servers 10] [--forks 20] [--reps 1] [--skip-login-rc] [--shared-addresses] [--shared-home]``;
prints a JSON summary and a Markdown row.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import child_env, machine  # noqa: E402
from tests.fleet.sshd import Lab  # noqa: E402

STEPS = 3

# A fresh interpreter runs one command, samples its process tree's RSS, and reports wall time,
# CPU time and peak RSS of its descendants.
_WRAPPER = r"""
import json, os, resource, subprocess, sys, time
log_path, cap, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]

def tree_rss(root):
    kids = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(pid))
        except (OSError, ValueError, IndexError):
            pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
        todo.extend(kids.get(pid, ()))
    return total

started = time.perf_counter()
peak_tree = 0
with open(log_path, "wb") as log:
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    while proc.poll() is None:
        peak_tree = max(peak_tree, tree_rss(proc.pid))
        if time.perf_counter() - started > cap:
            proc.kill()
            proc.wait()
            break
        time.sleep(0.02)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "rc": proc.returncode, "cpu": usage.ru_utime + usage.ru_stime,
                  "maxrss_kib": usage.ru_maxrss, "tree_peak_kib": peak_tree // 1024}))
"""


def measure(argv: list[str], *, cwd: Path, env: dict[str, str], log: Path, cap: float) -> Any:
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(log), str(cap), *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the measuring wrapper failed: {proc.stderr[-800:]}")
    return json.loads(proc.stdout)


def step_command(n: int) -> str:
    return f'mkdir -p "$HOST_DIR" && echo {n} > "$HOST_DIR/step{n}"'


def address(index: int) -> str:
    """Host ``index``'s own loopback address (127.0.1.1, 127.0.1.2, ...)."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


_TICK = os.sysconf("SC_CLK_TCK")


def _times(pid: int) -> float:
    """utime + stime + cutime + cstime of ``pid`` (a zombie's too), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / _TICK


class Orphans:
    """This process is a child subreaper (prctl PR_SET_CHILD_SUBREAPER): a host process whose
    sshd session ended before it did (phasegate's agent when the connection closes; the agent's
    commands run detached by design) is reparented here instead of to init, and its CPU time
    would otherwise be lost. A thread reaps such orphans and sums their times. Only zombies of
    another session than ours: the children this process starts itself (sshd listeners, the
    measuring wrapper, ssh-keygen) share its session and are waited for by their owners.
    ``ssh`` processes are Ansible's ControlPersist masters (the controller's side): reaped,
    not counted."""

    def __init__(self) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        self.cpu = 0.0
        self._stop = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        me, session = os.getpid(), os.getsid(0)
        while not self._stop.wait(0.05):
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                try:
                    with open(f"/proc/{name}/stat") as fh:
                        head, tail = fh.read().rsplit(")", 1)
                except OSError:
                    continue
                fields = tail.split()
                if fields[0] != "Z" or int(fields[1]) != me or int(fields[3]) == session:
                    continue
                comm = head.split("(", 1)[1]
                spent = _times(int(name))
                try:
                    os.waitpid(int(name), os.WNOHANG)
                except ChildProcessError:
                    continue
                if comm != "ssh":
                    self.cpu += spent

    def stop(self) -> None:
        self._stop.set()


def home_of(root: Path, index: int) -> Path:
    return root / "homes" / f"h{index:03d}"


def make_home(home: Path) -> None:
    """A host's own home with this machine's login start-up files: a copy of ~/.bashrc, the
    tools it starts (~/.pyenv: links, with the host's own `shims`, which `pyenv rehash`
    rewrites under its lock; ~/.cargo: a link)."""
    real = Path.home()
    home.mkdir(parents=True)
    if (real / ".bashrc").exists():
        shutil.copy(real / ".bashrc", home / ".bashrc")
    if (real / ".cargo").exists():
        (home / ".cargo").symlink_to(real / ".cargo")
    pyenv = real / ".pyenv"
    if pyenv.is_dir():
        (home / ".pyenv").mkdir()
        for entry in pyenv.iterdir():
            if entry.name == "shims":
                shutil.copytree(entry, home / ".pyenv" / "shims", symlinks=True)
            else:
                (home / ".pyenv" / entry.name).symlink_to(entry)


class Fleet:
    def __init__(
        self,
        root: Path,
        hosts: int,
        servers: int,
        skip_login_rc: bool = False,
        shared_addresses: bool = False,
        shared_home: bool = False,
    ) -> None:
        self.root = root
        self.orphans = Orphans()
        self.lab = Lab(root / "lab")
        # Each host has its own address (a server listens on the addresses of its hosts): 100
        # hosts are 100 ssh endpoints for both tools, as a real fleet is. With
        # --shared-addresses the hosts of a server share 127.0.0.1, and Ansible's ControlMaster
        # (ControlPath hashed from address, port and user) then serves all of them with one
        # connection: 10 connections for Ansible, 100 for phasegate (which keys by host).
        # --skip-login-rc: sshd gives every session SHLVL=2, so the login's bash does not
        # source ~/.bashrc for ssh commands (bash does that only at shell level < 2). Both tools
        # get the same hosts; it removes this machine's rc cost (root's ~/.bashrc runs
        # `pyenv init`: ~0.25-0.6 s per ssh command), which is not phasegate's nor Ansible's.
        extra = ("SetEnv SHLVL=2",) if skip_login_rc else ()
        # Each host has its own home (HOME for its sessions, sshd `Match LocalAddress`): the
        # login's rc file runs as on this machine, but what it writes is the host's own. Root's
        # ~/.bashrc here runs `pyenv init`, whose `pyenv rehash` takes a lock in
        # ~/.pyenv/shims (retrying every 0.1 s): with one home for all, every ssh command of
        # the whole fleet queued on that one lock, which a fleet of machines never does.
        # --shared-home keeps the one home (and the lock).
        own_homes = not shared_home and not shared_addresses
        for n in range(servers):
            mine = tuple(address(i) for i in range(n, hosts, servers))
            homes: tuple[str, ...] = ()
            if own_homes:
                # A Match block's SetEnv replaces the global one: SHLVL goes in it too.
                shlvl = " SHLVL=2" if skip_login_rc else ""
                homes = tuple(
                    f"Match LocalAddress {address(i)}\n  SetEnv HOME={home_of(root, i)}{shlvl}"
                    for i in range(n, hosts, servers)
                )
                for i in range(n, hosts, servers):
                    make_home(home_of(root, i))
            self.lab.start(
                extra=extra + homes, addresses=("127.0.0.1",) if shared_addresses else mine
            )
        self.hosts = [
            {
                "name": f"h{i:03d}",
                "address": "127.0.0.1" if shared_addresses else address(i),
                "port": self.lab.servers[i % servers].port,
                "dir": str(root / "hosts" / f"h{i:03d}"),
            }
            for i in range(hosts)
        ]

    def reset(self) -> None:
        shutil.rmtree(self.root / "hosts", ignore_errors=True)

    def remote_cpu(self) -> float:
        """CPU seconds the hosts' side has used so far: every sshd listener's own time and its
        waited-for descendants' (the connections' sshd processes, login shells, commands),
        plus the host processes that outlived their sshd session (``Orphans``)."""
        time.sleep(1.0)  # the connections' processes end and are reaped
        total = 0.0
        for server in self.lab.servers:
            assert server.process is not None
            total += _times(server.process.pid)
        return total + self.orphans.cpu

    def complete(self) -> bool:
        return all(
            (Path(h["dir"]) / f"step{n}").is_file() for h in self.hosts for n in range(1, STEPS + 1)
        )

    def stop(self) -> None:
        self.lab.stop()


def phasegate_plan(fleet: Fleet, forks: int, path: Path) -> Path:
    plan = {
        "version": 1,
        "name": "fleet-bench",
        "targets": {
            "hosts": [
                {
                    "name": h["name"],
                    "groups": ["web"],
                    "labels": {
                        "ansible_host": h["address"],
                        "ansible_port": h["port"],
                        "dir": h["dir"],
                    },
                }
                for h in fleet.hosts
            ],
            "ssh": {
                "user": getpass.getuser(),
                "identity": [str(fleet.lab.client_key)],
                "known_hosts": str(fleet.lab.known_hosts),
                "agent": False,
                "max_connections": forks,
            },
        },
        "phases": [
            {
                "id": "deploy",
                "hosts": "'web' in groups",
                "steps": [
                    {"name": f"step{n}", "run": step_command(n)} for n in range(1, STEPS + 1)
                ],
            }
        ],
    }
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def ansible_files(fleet: Fleet, forks: int, work: Path) -> tuple[Path, Path, dict[str, str]]:
    inventory = work / "inventory.ini"
    lines = ["[web]"]
    for h in fleet.hosts:
        lines.append(
            f"{h['name']} ansible_host={h['address']} ansible_port={h['port']} dir={h['dir']}"
        )
    inventory.write_text("\n".join(lines) + "\n")
    book = work / "play.yml"
    tasks = [
        {
            "name": f"step{n}",
            "shell": step_command(n),
            "environment": {"HOST_DIR": "{{ dir }}"},
        }
        for n in range(1, STEPS + 1)
    ]
    book.write_text(
        yaml.safe_dump([{"hosts": "web", "gather_facts": False, "tasks": tasks}], sort_keys=False)
    )
    home = work / "ansible-home"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    (home / "cp").mkdir(parents=True, exist_ok=True)
    cfg = home / "ansible.cfg"
    cfg.write_text("# empty: keep the caller's ansible.cfg out of the measurement\n")
    ssh_args = (
        f"-o ControlMaster=auto -o ControlPersist=60s "
        f"-o UserKnownHostsFile={fleet.lab.known_hosts} -o StrictHostKeyChecking=yes "
        "-o IdentitiesOnly=yes"
    )
    env = child_env(
        ANSIBLE_CONFIG=str(cfg),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_REMOTE_TEMP=str(home / "tmp"),
        ANSIBLE_RETRY_FILES_ENABLED="False",
        ANSIBLE_GATHERING="explicit",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_PIPELINING="True",
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_SSH_ARGS=ssh_args,
        ANSIBLE_SSH_CONTROL_PATH_DIR=str(home / "cp"),
        ANSIBLE_PRIVATE_KEY_FILE=str(fleet.lab.client_key),
        ANSIBLE_REMOTE_USER=getpass.getuser(),
        ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
        ANSIBLE_DEPRECATION_WARNINGS="False",
        ANSIBLE_HOST_KEY_CHECKING="True",
    )
    return inventory, book, env


def close_masters(home: Path) -> None:
    """Ansible's ControlPersist masters outlive the play: end them (ssh -O exit) so every run
    starts from no connection, like phasegate's."""
    for sock in (home / "cp").glob("*"):
        subprocess.run(
            ["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "x"],
            capture_output=True,
            check=False,
            timeout=10,
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--cap", type=float, default=900.0)
    parser.add_argument("--skip-login-rc", action="store_true")
    parser.add_argument("--shared-addresses", action="store_true")
    parser.add_argument("--shared-home", action="store_true")
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    phasegate = bindir / "phasegate"
    ansible = bindir / "ansible-playbook"
    if not ansible.exists():
        raise SystemExit("ansible-playbook is not installed: uv sync --all-groups")
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    fleet = Fleet(
        work, args.hosts, args.servers, args.skip_login_rc, args.shared_addresses, args.shared_home
    )
    results: dict[str, list[dict[str, Any]]] = {"phasegate": [], "ansible": []}
    try:
        plan = phasegate_plan(fleet, args.forks, work / "plan.yaml")
        inventory, book, ansible_env = ansible_files(fleet, args.forks, work)
        home = work / "ansible-home"
        for rep in range(args.reps + 1):  # the first of each is the warm-up
            state = work / f"state{rep}"
            fleet.reset()
            before = fleet.remote_cpu()
            got = measure(
                [str(phasegate), "run", str(plan)],
                cwd=work,
                env=child_env(PHASEGATE_HOME=str(state), NO_COLOR="1"),
                log=work / f"phasegate{rep}.log",
                cap=args.cap,
            )
            got["remote_cpu"] = fleet.remote_cpu() - before
            got["complete"] = fleet.complete()
            print(f"phasegate rep {rep}: {got}", file=sys.stderr)
            if rep:
                results["phasegate"].append(got)
            fleet.reset()
            before = fleet.remote_cpu()
            got = measure(
                [str(ansible), "-i", str(inventory), "-f", str(args.forks), str(book)],
                cwd=work,
                env=ansible_env,
                log=work / f"ansible{rep}.log",
                cap=args.cap,
            )
            close_masters(home)
            got["remote_cpu"] = fleet.remote_cpu() - before
            got["complete"] = fleet.complete()
            print(f"ansible rep {rep}: {got}", file=sys.stderr)
            if rep:
                results["ansible"].append(got)
    finally:
        fleet.stop()
    summary = summarize(results, args)
    print(json.dumps(summary, indent=2))
    ok = all(r["rc"] == 0 and r["complete"] for rs in results.values() for r in rs)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"a run failed or did not complete; logs kept in {work}", file=sys.stderr)
    return 0 if ok else 1


def summarize(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> Any:
    def med(tool: str, key: str) -> float:
        return float(statistics.median(r[key] for r in results[tool]))

    out: dict[str, Any] = {"machine": machine(), "hosts": args.hosts, "steps": STEPS}
    out.update(servers=args.servers, forks=args.forks, reps=args.reps)
    out["skip_login_rc"] = args.skip_login_rc
    out["shared_addresses"] = args.shared_addresses
    out["shared_home"] = args.shared_home or args.shared_addresses
    for tool, runs in results.items():
        out[tool] = {
            "wall_s": round(med(tool, "wall"), 2),
            "per_host_wall_ms": round(med(tool, "wall") / args.hosts * 1000, 1),
            "cpu_s": round(med(tool, "cpu"), 2),
            "per_host_cpu_ms": round(med(tool, "cpu") / args.hosts * 1000, 1),
            "per_host_remote_cpu_ms": round(med(tool, "remote_cpu") / args.hosts * 1000, 1),
            "peak_rss_largest_process_mib": round(med(tool, "maxrss_kib") / 1024, 1),
            "peak_rss_process_tree_mib": round(med(tool, "tree_peak_kib") / 1024, 1),
            "runs": runs,
        }
    ratio = out["ansible"]["wall_s"] / out["phasegate"]["wall_s"]
    out["speedup"] = round(ratio, 2)
    out["goal_met"] = ratio >= 5
    p, a = out["phasegate"], out["ansible"]
    out["markdown"] = (
        f"| {args.hosts} hosts x {STEPS} steps over ssh, forks {args.forks} | "
        f"phasegate {p['wall_s']} s, {p['per_host_cpu_ms']} ms CPU/host "
        f"(hosts' side {p['per_host_remote_cpu_ms']} ms), "
        f"RSS {p['peak_rss_process_tree_mib']} MiB | ansible {a['wall_s']} s, "
        f"{a['per_host_cpu_ms']} ms CPU/host (hosts' side {a['per_host_remote_cpu_ms']} ms), "
        f"RSS {a['peak_rss_process_tree_mib']} MiB | "
        f"{ratio:.1f}x faster | >= 5x | {'yes' if ratio >= 5 else 'no'} |"
    )
    return out


if __name__ == "__main__":
    os.environ.pop("SSH_AUTH_SOCK", None)
    sys.exit(main())
