"""The plan keys of fleets: ``targets:`` (the plan's inventory and how to reach its hosts) and
a phase's ``hosts:`` / ``batch:`` / failure budgets. Plain option models; the plan model
imports them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from phasegate.options import Duration, Model

_PERCENT = re.compile(r"^\s*\d+(\.\d+)?\s*%\s*$")


def _size_entry(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a batch size is a host count (5) or a percentage ('20%')")
    if isinstance(value, int):
        if value < 1:
            raise ValueError("a batch size is at least 1 host")
        return value
    if isinstance(value, str) and _PERCENT.match(value):
        if float(value.strip()[:-1]) <= 0 or float(value.strip()[:-1]) > 100:
            raise ValueError(f"{value!r}: a percentage is above 0 and at most 100")
        return value.strip()
    if isinstance(value, str) and value.strip().isdigit():
        return _size_entry(int(value))
    raise ValueError(f"{value!r} is not a batch size: write a host count (5) or '20%'")


def _healthy(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("min_healthy is a host count (3) or a percentage ('80%')")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("min_healthy is at least 0 hosts")
        return value
    if isinstance(value, str) and _PERCENT.match(value):
        if float(value.strip()[:-1]) > 100:
            raise ValueError(f"{value!r}: a percentage is at most 100")
        return value.strip()
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError(f"{value!r} is not a min_healthy: write a host count (3) or '80%'")


MinHealthy = Annotated[
    int | str,
    BeforeValidator(_healthy),
    Field(
        description="hosts (or '80%' of the phase's, rounded up) that must stay healthy (not "
        "failed, not in the batch) before each batch starts; below it the phase fails"
    ),
]
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class SshOptions(Model):
    """How phasegate reaches hosts (asyncssh). Inventory variables ``ansible_host``,
    ``ansible_port``, ``ansible_user`` and ``ansible_ssh_private_key_file`` override these per
    host."""

    user: str | None = Field(None, description="login user (default: the current user)")
    port: int = Field(22, ge=1, le=65535)
    known_hosts: str | None = Field(
        None,
        description="known_hosts file checked strictly (default ~/.ssh/known_hosts); an "
        "unknown or changed host key fails the connection",
    )
    insecure_skip_host_key_check: bool = Field(
        False, description="accept any host key (never in production: for throwaway labs)"
    )
    identity: list[str] = Field(
        default_factory=list, description="private key files; with none, the ssh agent's keys"
    )
    agent: bool = Field(True, description="use the ssh agent ($SSH_AUTH_SOCK) when it runs")
    connect_timeout: Duration = Field(10.0, description="give up connecting after this long")
    keepalive: Duration = Field(15.0, description="keepalive interval on idle connections")
    max_connections: int = Field(
        20, ge=1, le=1024, description="hosts connected at once in one run (a cap on batches)"
    )
    connect_retries: int = Field(
        2, ge=0, le=20, description="reconnect attempts for `unreachable: retry`"
    )
    become: bool = Field(False, description="run commands through `sudo -n` (no password)")
    become_user: str | None = Field(None, description="sudo -u USER (default root)")
    run_dir: str = Field(
        ".phasegate-runs",
        description="directory on each host (relative to the login's home) for step records",
    )


class Targets(Model):
    """Where a plan's fleet phases run: one of ``inventory``, ``command`` or ``hosts``."""

    inventory: str | None = Field(
        None, description="an Ansible inventory file (YAML or INI), relative to the plan"
    )
    command: str | None = Field(
        None,
        description="a command printing inventory JSON (e.g. `ansible-inventory -i x --list`)",
    )
    hosts: list[str | dict[str, Any]] | None = Field(
        None, description="an inline list: names, or {name, labels, groups}"
    )
    ssh: SshOptions = Field(default_factory=SshOptions)
    executor: Literal["ssh", "local"] = Field(
        "ssh",
        description="`local` runs each host's commands on this machine with the host in "
        "$PHASEGATE_HOST (for rehearsals and tests)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Targets:
        given = [n for n in ("inventory", "command", "hosts") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "targets need exactly one of `inventory`, `command` or `hosts`"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


SizeEntry = Annotated[int | str, Field(description="a host count or a percentage ('20%')")]


class Batch(Model):
    size: list[SizeEntry] = Field(
        default_factory=lambda: list[int | str](["100%"]),
        min_length=1,
        description="batch sizes in order, the last repeating: [1, 5, '20%']",
    )
    mode: Literal["lockstep", "sliding"] = Field(
        "lockstep",
        description="lockstep: a batch starts when the previous one has finished; sliding: "
        "a host starts as soon as a slot of the current batch's size frees",
    )

    by: str | None = Field(
        None,
        description="a label (az): one zone at a time, each zone cut by `size` on its own",
    )
    spread: str | None = Field(
        None,
        description="a label (az): batches take hosts round-robin across its zones; no batch "
        "holds every host of a zone",
    )
    order: Literal["inventory", "sorted", "reverse", "shuffle"] = Field(
        "inventory",
        description="host order before batching: the inventory's, by name, reversed, or "
        "shuffled by sha256(seed, host)",
    )
    seed: str | None = Field(
        None, description="with `order: shuffle`: the seed (default: plan name/phase id)"
    )
    first_bake: Duration | None = Field(
        None, description="with `by`: wait after the first zone (default: `bake`)"
    )
    bake: Duration | None = Field(None, description="with `by`: wait after each later zone")

    @field_validator("size", mode="before")
    @classmethod
    def _sizes(cls, value: Any) -> Any:
        if not isinstance(value, list):
            value = [value]
        return [_size_entry(v) for v in value]

    @field_validator("by", "spread")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not _LABEL_NAME.match(value):
            raise ValueError(f"{value!r} is not a label name (e.g. az)")
        return value

    @model_validator(mode="after")
    def _zones(self) -> Batch:
        if self.by is not None and self.spread is not None:
            raise ValueError(
                "`by` (one zone at a time) and `spread` (every batch across zones) exclude "
                "each other: keep one"
            )
        if self.by is None and (self.first_bake is not None or self.bake is not None):
            raise ValueError("`first_bake` / `bake` wait between zones: they need `by: LABEL`")
        if self.seed is not None and self.order != "shuffle":
            raise ValueError("`seed` orders a shuffle: it needs `order: shuffle`")
        return self


class Bump(Model):
    to: list[float] = Field(
        default_factory=list, description="bigger sample sizes (percent) tried in order"
    )
    cap: float = Field(100, gt=0, le=100, description="never above this percent")

    @field_validator("to", mode="before")
    @classmethod
    def _percents(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_percent(v) for v in value]
        return value

    @field_validator("cap", mode="before")
    @classmethod
    def _cap(cls, value: Any) -> Any:
        return _percent(value)


def _percent(value: Any) -> Any:
    if isinstance(value, str) and value.strip().endswith("%"):
        return float(value.strip()[:-1])
    return value


class Sample(Model):
    """A representative canary: the phase runs on a stratified sample of its hosts."""

    strata: list[str] = Field(
        default_factory=list, description="labels whose values make a stratum: [az, os]"
    )
    key: str | None = Field(
        None, description="a CEL expression over the host giving its stratum (instead of strata)"
    )
    pct: float = Field(gt=0, le=100, description="sample size, percent of the phase's hosts")
    min_per_stratum: int = Field(1, ge=1, le=1000)
    allocation: Literal["proportional", "equal"] = "proportional"
    coverage: float = Field(
        1.0, ge=0, le=1, description="strata_coverage required (represented strata / strata)"
    )
    bump: Bump | None = Field(None, description="bigger sizes to try while coverage is short")
    salt: str | None = Field(
        None, description="orders hosts by sha256(salt, host) (default: the plan's name)"
    )
    project: list[str] | None = Field(
        None,
        description="metrics projected to the whole fleet: `duration` and numeric step "
        "outputs (`tokens`); default: duration and every `budget.resources` output",
    )
    risk: str | None = Field(
        None,
        description="CEL over the per-stratum outcomes (strata, hosts, failed, fail_rate): "
        "the canary's risk score",
    )
    risk_max: float | None = Field(
        None, ge=0, description="a risk score above this fails the phase (needs `risk`)"
    )

    @field_validator("pct", mode="before")
    @classmethod
    def _pct(cls, value: Any) -> Any:
        return _percent(value)

    @model_validator(mode="after")
    def _one_key(self) -> Sample:
        if bool(self.strata) == (self.key is not None):
            raise ValueError("a sample has `strata` (label names) or a CEL `key`, not both")
        if (self.risk is None) != (self.risk_max is None):
            raise ValueError("`risk` (a CEL score) and `risk_max` (its bound) go together")
        return self

    def sizes(self) -> list[float]:
        cap = self.bump.cap if self.bump is not None else 100.0
        steps = [self.pct, *(self.bump.to if self.bump is not None else [])]
        return sorted({min(s, cap) for s in steps})
