"""A fence typed at a network device's CLI (blind round 11, issue 11 §2): ``spine-2#
configure session drain``, ``spine-2(config-s-drain-router-bgp)# maintenance``, ``router>
enable``, ``core-sw01(config-if)# shutdown``. The lines are typed by a person into the switch's
own shell, never by the plan's local shell: on the forward path a manual step naming every
line, on a rollback the person's checklist; either way the plan is not executable as written
(``by_hand`` report list), and the prompt is never stripped into a local command."""

from __future__ import annotations

import re

# `spine-2#`, `spine-2(config-s-drain-)#`, `router>`, `RP/0/RSP0/CPU0:pe1#`
_PROMPT = re.compile(r"^\s*([A-Za-z][\w./:-]*)(\([\w./:@ -]*\))?([#>])\s?(\S.*)?$")
# interactive shells of programs, not devices: handled elsewhere (SQL sessions, REPLs)
_REPLS = frozenset(
    {
        "mysql",
        "mariadb",
        "sqlite",
        "redis",
        "postgres",
        "psql",
        "mongo",
        "mongosh",
        "irb",
        "pry",
        "ftp",
        "sftp",
        "python",
        "node",
        "cqlsh",
        "hive",
        "spark",
        "scala",
        "ksql",
        "clickhouse",
        "sql",
        "hbase",
        "zk",
        "gdb",
        "lldb",
        "telnet",
        "iex",
        "ghci",
        "cli",
    }
)


# what is typed first at a network device's prompt (Cisco IOS / NX-OS, Arista EOS, Juniper)
_DEVICE_VERBS = frozenset(
    {
        "configure",
        "conf",
        "enable",
        "commit",
        "rollback",
        "interface",
        "router",
        "copy",
        "write",
        "reload",
        "clear",
        "shutdown",
        "set",
        "delete",
        "request",
    }
)


def device_session(text: str) -> list[str] | None:
    """The lines typed at a device prompt (prompts stripped) when the fence is such a
    session: two or more prompt lines of one device, in config mode or named like a device
    (a digit or hyphen: `spine-2`, `R1`, `core-sw01`), and most of its lines prompts."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    prompts = [m for m in (_PROMPT.match(ln) for ln in lines) if m is not None]
    if len(prompts) == 1 == len(lines):
        # one line: `spine-2# configure replace checkpoint:pre-change`, when what is typed is
        # a device's configuration verb (a host's root prompt `web-1# systemctl …` is not)
        words = (prompts[0].group(4) or "").split()
        if not words or words[0].lower() not in _DEVICE_VERBS:
            return None
    elif len(prompts) < 2 or len(prompts) * 2 < len(lines):
        return None
    hosts = {m.group(1).lower() for m in prompts}
    if hosts & _REPLS or len(hosts) > 2:
        return None
    config_mode = any((m.group(2) or "").lower().startswith("(config") for m in prompts)
    device_like = all(re.search(r"[\d-]", h) for h in hosts)
    if not (config_mode or device_like):
        return None
    return [m.group(4).strip() for m in prompts if m.group(4)]
