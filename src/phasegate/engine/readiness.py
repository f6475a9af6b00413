"""A child's readiness: read the evidence, judge verdict, score and hard checks, list blockers.
The go/no-go's score (named checks, ``score_gate``) is judged by the same arithmetic.

Evaluated right before the child starts (engine/program.py), never from a cached planning-time
answer, and by ``phasegate next`` (before a run, and during one). The evidence's sha256 goes
into the journal with the verdict, so an audit can tell which document said "ready".

Safety first: anything that cannot be read (a missing file, a field that is not there, a
command that fails or prints no JSON object) is a blocker, never a pass.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from phasegate.checks.base import Observation
from phasegate.engine.gates import GateOutcome, evaluate_gate
from phasegate.plan.program import (
    VERDICTS,
    NamedCheck,
    Readiness,
    ScoredChecks,
    child_plan_path,
)
from phasegate.plugin import PluginContext
from phasegate.run.events import ReadinessEvaluated
from phasegate.run.record import JsonDict

EVIDENCE_TIMEOUT = 60.0


@dataclass(frozen=True)
class ReadinessResult:
    ready: bool
    verdict: str | None = None
    score: float | None = None
    min_score: float | None = None
    blockers: tuple[str, ...] = ()
    evidence: str | None = None
    sha256: str | None = None
    checks: tuple[JsonDict, ...] = field(default_factory=tuple)

    def as_event(self, phase: str) -> ReadinessEvaluated:
        return ReadinessEvaluated(
            phase=phase,
            ready=self.ready,
            verdict=self.verdict,
            score=self.score,
            min_score=self.min_score,
            blockers=self.blockers,
            evidence=self.evidence,
            sha256=self.sha256,
            checks=self.checks,
        )

    def words(self) -> str:
        """The blockers, for a pause message and ``next --blocked``."""
        if self.ready:
            return "ready"
        verdict = self.verdict or "not ready"
        return f"{verdict}: " + "; ".join(self.blockers)


class _Unreadable(Exception):
    pass


def field_at(doc: Any, path: str) -> Any:
    """``doc.dor.score`` of the evidence document; KeyError when a part is missing."""
    value = doc
    for part in path.split(".")[1:]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(path)
    return value


async def _read_evidence(
    ready: Readiness, plan_file: Path, shell: str, expand: Callable[[str], str]
) -> tuple[Any, str, str]:
    """(document, where it came from, sha256 of its bytes)."""
    evidence = ready.evidence
    assert evidence is not None
    if evidence.file is not None:
        path = child_plan_path(str(plan_file), expand(evidence.file))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise _Unreadable(f"evidence file {path} cannot be read ({exc.strerror})") from None
        where = str(path)
    else:
        command = evidence.command
        assert command is not None
        argv = (
            [*shlex.split(shell), expand(command)]
            if isinstance(command, str)
            else [expand(a) for a in command]
        )
        where = " ".join(argv) if not isinstance(command, str) else expand(command)
        raw = await _command_output(argv, plan_file.parent, where)
    sha = hashlib.sha256(raw).hexdigest()
    try:
        doc = yaml.safe_load(raw.decode("utf-8")) if raw.strip() else None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"evidence {where} is not YAML/JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _Unreadable(f"evidence {where} is not a mapping")
    return doc, where, sha


async def _command_output(argv: list[str], cwd: Path, where: str) -> bytes:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise _Unreadable(f"evidence command {where!r} cannot start ({exc.strerror})") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), EVIDENCE_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise _Unreadable(
            f"evidence command {where!r} timed out after {EVIDENCE_TIMEOUT:g}s"
        ) from None
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise _Unreadable(
            f"evidence command {where!r} exited {proc.returncode} {tail[0][:200]}".rstrip()
        )
    try:
        json.loads(out)
    except ValueError:
        raise _Unreadable(f"evidence command {where!r} printed no JSON object") from None
    return out


def weighted_score(results: list[tuple[float, bool]]) -> float | None:
    """The score of named checks: the weighted share of those passing, on 0-10 (None when no
    check has a weight). Pure, shared with the tests' arithmetic."""
    total = sum(weight for weight, _ in results)
    if total <= 0:
        return None
    passed = sum(weight for weight, ok in results if ok)
    return round(10 * passed / total, 6)


def judge_named(
    ready: Readiness | ScoredChecks, outcomes: list[tuple[NamedCheck, bool]]
) -> tuple[float | None, list[str]]:
    """(computed score, blockers) of named checks' outcomes: a failing hard one blocks on its
    own, whatever the score; a score under ``min_score`` blocks naming the failed checks.
    The same for a readiness and a go/no-go score."""
    blockers = [f"hard check {c.name} failed" for c, ok in outcomes if c.hard and not ok]
    score = weighted_score([(c.weight, ok) for c, ok in outcomes])
    if score is not None and score < ready.min_score:
        failed = [c.name for c, ok in outcomes if not ok and c.weight > 0]
        blockers.append(f"score {score:g} < {ready.min_score:g} (failed: {', '.join(failed)})")
    return score, blockers


def judge_document(ready: Readiness, doc: Any) -> tuple[str | None, float | None, list[str]]:
    """(verdict, score, blockers) of an evidence document: pure, shared with ``next``."""
    blockers: list[str] = []
    verdict: str | None = None
    score: float | None = None
    if ready.verdict is not None:
        try:
            found = field_at(doc, ready.verdict)
        except KeyError:
            blockers.append(f"{ready.verdict} is missing from the evidence")
        else:
            verdict = str(found)
            if verdict not in VERDICTS:
                blockers.append(f"{ready.verdict} is {verdict!r}, not one of {', '.join(VERDICTS)}")
            elif verdict != "pass":
                blockers.append(f"verdict {verdict}")
    if ready.score is not None:
        try:
            found = field_at(doc, ready.score)
        except KeyError:
            blockers.append(f"{ready.score} is missing from the evidence")
        else:
            if isinstance(found, bool) or not isinstance(found, int | float):
                blockers.append(f"{ready.score} is {found!r}, not a number")
            else:
                score = float(found)
                if score < ready.min_score:
                    blockers.append(f"score {score:g} < {ready.min_score:g}")
    if ready.blockers is not None:
        try:
            listed = field_at(doc, ready.blockers)
        except KeyError:
            listed = []  # no list: nothing listed
        if isinstance(listed, list):
            blockers += [f"blocker: {b}" for b in listed if b not in (None, "")]
        elif listed not in (None, ""):
            blockers.append(f"blocker: {listed}")
    return verdict, score, blockers


async def _evaluate_named(item: NamedCheck, ctx: PluginContext) -> tuple[JsonDict, bool]:
    """One named check evaluated (retry, hold_for, timeout: as any gate): its journal entry
    (name, weight, hard, what it saw) and whether it passed."""
    observation = (await evaluate_gate(item.check, ctx)).observation
    entry: JsonDict = {
        "check": item.name,
        "weight": item.weight,
        "hard": item.hard,
        "status": observation.status,
        "message": observation.message,
    }
    return entry, observation.passed


async def score_gate(gate: ScoredChecks, ctx: PluginContext) -> GateOutcome:
    """A go/no-go's named checks as one gate: passed when no hard one failed and the score
    reaches ``min_score``. What it observed (the score, each check with its weight) is the
    gate's journalled ``observed``; the message names what made it a no-go."""
    started = time.monotonic()
    entries: list[JsonDict] = []
    outcomes: list[tuple[NamedCheck, bool]] = []
    for item in gate.checks:
        entry, passed = await _evaluate_named(item, ctx)
        entries.append(entry)
        outcomes.append((item, passed))
    score, blockers = judge_named(gate, outcomes)
    observed = {"score": score, "min_score": gate.min_score, "checks": entries}
    if blockers:
        observation = Observation("failed", observed, "no-go: " + "; ".join(blockers))
    elif score is None:
        observation = Observation("passed", observed, "every hard named check passed")
    else:
        observation = Observation("passed", observed, f"score {score:g} >= {gate.min_score:g}")
    return GateOutcome(observation, 1, time.monotonic() - started)


async def evaluate(
    ready: Readiness,
    *,
    plan_file: Path,
    shell: str,
    expand: Callable[[str], str] = lambda text: text,
    check_context: PluginContext | None = None,
) -> ReadinessResult:
    """Evaluate a phase's ``ready:`` now. Hard checks run when a ``check_context`` is given
    (a run's); without one (``next`` before any run) they are listed as not evaluated."""
    blockers: list[str] = []
    verdict: str | None = None
    score: float | None = None
    where: str | None = None
    sha: str | None = None
    if ready.evidence is not None:
        try:
            doc, where, sha = await _read_evidence(ready, plan_file, shell, expand)
        except _Unreadable as exc:
            blockers.append(str(exc))
        else:
            verdict, score, found = judge_document(ready, doc)
            blockers += found
    checks: list[JsonDict] = []
    named: list[tuple[NamedCheck, bool]] = []
    for item in ready.checks:
        check = item.check if isinstance(item, NamedCheck) else item
        label = item.name if isinstance(item, NamedCheck) else expand(check.describe())
        entry: JsonDict = {"check": label}
        if isinstance(item, NamedCheck):
            entry |= {"weight": item.weight, "hard": item.hard}
        if check_context is None:
            checks.append({**entry, "status": "not evaluated"})
            blockers.append(f"check {label}: evaluated when the child is about to start")
            continue
        if isinstance(item, NamedCheck):
            entry, passed = await _evaluate_named(item, check_context)
            checks.append(entry)
            named.append((item, passed))
            continue
        observation = (await evaluate_gate(check, check_context)).observation
        checks.append({**entry, "status": observation.status, "message": observation.message})
        if not observation.passed:
            blockers.append(f"hard check {label} failed: {observation.message}")
    if ready.scored() and check_context is not None:
        score, found = judge_named(ready, named)
        blockers += found
    ok = not blockers
    if verdict is None or verdict not in VERDICTS or (verdict == "pass" and not ok):
        verdict = "pass" if ok else "needs_work"
    return ReadinessResult(
        ready=ok,
        verdict=verdict,
        score=score,
        min_score=ready.min_score if ready.score is not None or ready.scored() else None,
        blockers=tuple(blockers),
        evidence=where,
        sha256=sha,
        checks=tuple(checks),
    )
