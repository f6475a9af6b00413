"""Commands that stream until someone stops them, in the forms blind round 11 showed
forever.py missed (issue 11 §2): a live log or traffic reader (``varnishlog``, ``varnishncsa``,
``dmesg -w``, ``redis-cli monitor``, ``inotifywait -m``, a Kafka/MQTT consumer without a
count, ``adb logcat``), ``vmstat 5`` (an interval without a count), a ``… logs tail``
subcommand deep in a CLI's tree (``gcloud beta run services logs tail``), a ``dashboard``
subcommand that serves a UI until killed (``istioctl dashboard kiali``, ``linkerd viz
dashboard``, ``minikube dashboard``), and ``ssh [-t] host '<one of these>'``: the remote
command streams, so does the ssh."""

from __future__ import annotations

import itertools
from collections.abc import Callable

# a live reader of a log or of traffic: ends only when given a count, a file or a dump flag
_READERS: dict[str, tuple[str, ...]] = {
    "varnishlog": ("-d", "-r", "-k", "-w"),
    "varnishncsa": ("-d", "-r", "-k", "-w", "-D"),
    "varnishtop": ("-1", "-d"),
    "varnishhist": ("-1", "-d"),
    "mosquitto_sub": ("-C", "-W"),
    "kafka-console-consumer": ("--max-messages", "--timeout-ms"),
    "kafka-console-consumer.sh": ("--max-messages", "--timeout-ms"),
    "kafka-avro-console-consumer": ("--max-messages", "--timeout-ms"),
    "tshark": ("-c", "-a", "-r"),
    "iftop": ("-t",),
    "nethogs": ("-c", "-t"),
    "iotop": ("-b",),
}
# a program whose named subcommand (or flag) follows something live
_LIVE_FLAGS: dict[str, tuple[str, ...]] = {
    "dmesg": ("-w", "--follow", "-W", "--follow-new"),
    "inotifywait": ("-m", "--monitor"),
    "kcat": ("-C",),
    "kafkacat": ("-C",),
}
_COUNTS = {"kcat": ("-e", "-c"), "kafkacat": ("-e", "-c")}
_STATS = frozenset({"vmstat", "iostat", "mpstat", "pidstat", "sar", "nfsiostat"})


def streams(name: str, args: list[str], flags: set[str]) -> str | None:
    """Why ``name args`` streams until someone stops it, else None."""
    if name in _READERS:
        stops = _READERS[name]
        if not any(a in stops or a.startswith(tuple(f"{s}=" for s in stops)) for a in args):
            return f"`{name}` reads the live log until someone stops it"
        return None
    live = flags & set(_LIVE_FLAGS.get(name, ()))
    if live and not flags & set(_COUNTS.get(name, ())):
        return f"`{name} {sorted(live)[0]}` follows until someone stops it"
    if name == "redis-cli" and "monitor" in [a.lower() for a in args]:
        return "`redis-cli monitor` streams every command until someone stops it"
    if name == "adb" and args[:1] == ["logcat"] and not flags & {"-d", "-m", "-t"}:
        return "`adb logcat` follows the device log until someone stops it"
    if name in _STATS:
        numbers = [a for a in args if a.isdigit()]
        if len(numbers) == 1 and not flags & {"-c", "--count"}:
            return f"`{name} {numbers[0]}` reports every {numbers[0]} s until someone stops it"
    positional = [a for a in args if not a.startswith("-")][:6]
    for before, after in itertools.pairwise(positional):
        if before in ("logs", "log") and after == "tail":
            return f"`{name} … {before} tail` follows the live log until someone stops it"
    if "dashboard" in positional[:3] and name not in ("grafana-cli", "kibana"):
        return f"`{name} … dashboard` serves a dashboard until someone stops it"
    return None


def remote_streams(operands: list[str], inline: Callable[[str], str | None]) -> str | None:
    """``ssh [-t] host 'varnishlog …'`` (its operands: the host, then the remote command): the
    remote command read as a local one (``inline``, forever.never_ending_text); prompts and
    bare shells of the remote side stay with the ssh rule (a command was given)."""
    why = inline(" ".join(operands[1:]))
    if why is None or why.startswith("a bare `ssh"):
        return None
    return f"on {operands[0]}: {why}"
