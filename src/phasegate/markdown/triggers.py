"""Rollback criteria and threshold tables -> background triggers.

``Error rate > 1%`` in an "Automatic Rollback Triggers" list becomes a trigger on a ``metric``
check failing when ``value > 0.01``; ``3 consecutive failed health checks`` becomes an ``http``
trigger with ``fail_after: 3``; a "Metric | Target | Alert Threshold" table gives one trigger
per threshold column. A document rarely says where a metric comes from, so such triggers carry
``needs_binding`` (a plan with any does not run until an author binds it) and are listed.
"""

from __future__ import annotations

import math
import re

from phasegate.markdown import polarity, queries, thresholds, words10_safety
from phasegate.markdown.draft import Draft, Entry, PhaseDraft
from phasegate.markdown.nodes import CheckNode, StepNode, TriggerNode
from phasegate.plan.model import slugify

EVERY = 30.0  # seconds between evaluations of an imported metric trigger
HEALTH_VAR = "HEALTH_URL"

_MANUAL = re.compile(r"\bmanual|approval|human|judg(?:e)?ment|discretion", re.I)
_ALERT = re.compile(r"\balert|\bwarn|notif|page\b|monitor|escalat", re.I)
_ROLLBACK = re.compile(r"roll[\s-]?back|revert|abort|auto|critical|kill", re.I)
_EXPLICIT_ROLLBACK = re.compile(r"roll[\s-]?back|revert|abort|\bauto|kill", re.I)
_PAUSE = re.compile(r"\bhalt|\bstop|\bpause|\bfreeze", re.I)
_LEAD_PAUSE = re.compile(words10_safety.LEAD_PAUSE, re.I)
_METRIC_COL = re.compile(
    r"metric|condition|indicator|signal|kpi|sli|measure|trigger|check|what|name", re.I
)
_LIMIT_COL = re.compile(
    r"threshold|alert|warn|critical|rollback|abort|trigger|limit|fail|max|min|breach", re.I
)
STATED_LIMIT = re.compile(r"threshold|warn|critical|alert|rollback|abort|breach", re.I)
_TARGET_COL = re.compile(r"target|goal|expected|normal|baseline|slo\b|healthy", re.I)
# "Gate scripts fail to run", "Unexpected exit codes": what a failing step or gate already
# means to the engine (on_failure: rollback), not something to watch.
_COVERED = re.compile(r"\bfail\w*|\berrors?\b|exit codes?|\bmissing\b|\bcrash", re.I)
_WATCHED = re.compile(
    # "error 5xx naik di atas 1%": a share or a time is a rate watched, in any language (round 9)
    r"\brate\b|latency|traffic|users?|customers?|security|incident|complain|\d\s*(?:%|‰|ms\b)|"
    # what users do: their failure is seen in the service, not in a step's exit code
    r"\b(?:uploads?|downloads?|logins?|sign-?ins?|checkouts?|payments?|purchases?)\b",
    re.I,
)
_URL = re.compile(
    r"https?://[^\s`'\"<>)\]]+/(?:health|healthz|readyz|livez|status|ping)\b[^\s`'\"<>)\]]*"
)


# The action a sentence names for itself (issue 11 §6): "Rollback if error rate > 1%",
# "If p95 > 800ms, pause the rollout", "Error rate > 5% → roll back", "Latency > 1s: alert".
_VERB = (
    r"(?:automatic(?:ally)?\s+|immediate(?:ly)?\s+)?(?P<verb>roll[\s-]?back|revert|abort|"
    r"halt|stop|pause|freeze|hold|alert|page|notify|warn|escalate|evaluate|investigate|"
    r"assess|decide|review|monitor|inform|call)(?:s|es|ed|d|ing|ped|ping)?\b"
)
_VERB_FIRST = re.compile(
    # "Roll back to 0 % if …", "Hold (do not advance, do not roll back) if …" (blind round 7),
    # "Halt the rollout (Release > Production > Halt rollout) if …" (blind round 9)
    rf"^[\W_]*{_VERB}(?:\s*\([^)]{{0,80}}\))?(?:\s+[\w%.-]+){{0,4}}?(?:\s*\([^)]{{0,80}}\))?"
    rf"\s+(?:if|when|whenever|upon|on)\b\s*(?P<cond>.+)$",
    re.I,
)
_IF_FIRST = re.compile(
    rf"^[\W_]*(?:if|when|whenever|should)\s+(?P<cond>.+?)\s*(?:[,:;]|→|->|=>|\bthen\b)\s*"
    rf"(?:then\s+)?(?:we\s+)?(?:\w+\s+)?{_VERB}",
    re.I,
)
_COND_FIRST = re.compile(rf"^(?P<cond>.+?)\s*(?:→|->|=>|:|—|–|\s-\s)\s*{_VERB}", re.I)
_VERBS = {"rollback": "roll back", "pause": "pause the run", "alert": "alert"}
_ACTIONS = {
    "roll": "rollback",
    "rollback": "rollback",
    "revert": "rollback",
    "abort": "rollback",
    "halt": "pause",
    "stop": "pause",
    "pause": "pause",
    "freeze": "pause",
    "hold": "pause",
}


# "…, go to **Rollback**.", "proceed to the rollback section", "jump to Rollback": the way back
# named as the place to go (round 11)
_GO_TO_ROLLBACK = re.compile(
    r"\b(?:go|proceed|jump|move|skip|switch|continue)\s+(?:straight\s+|directly\s+|immediately\s+)?"
    r"to\s+(?:the\s+)?(?:section\s+)?[\"'“]?(?:roll[\s-]?back|revert)\w*[\"'”]?"
    r"(?:\s+(?:section|procedure|plan|steps|runbook))?",
    re.I,
)


def stated(text: str) -> tuple[str, str] | None:
    """(action, condition) when the sentence names both a failure condition and what to do
    about it; None otherwise. The condition must hold a comparison or a health failure, so
    "Rollback if needed" or "Pause when you are unsure" are no triggers."""
    flat = _GO_TO_ROLLBACK.sub("roll back", thresholds.plain(text))
    match = _VERB_FIRST.match(flat) or _IF_FIRST.match(flat)
    if match is None:
        match = _COND_FIRST.match(flat)
        if match is not None and thresholds.parse(match.group("cond")) is None:
            match = None
    if match is None:
        return None
    condition = match.group("cond").strip(" .,;:")
    if thresholds.parse(condition) is None and not thresholds.is_health(condition):
        return None
    verb = re.sub(r"[\s-]", "", match.group("verb").lower())
    return _ACTIONS.get(verb, _ACTIONS.get(verb[:4], "alert")), condition


# "Any of these is 'stop and go read the rollback runbook'": the action is to stop and have a
# person read or investigate, so the run pauses and a human decides; the runbook's name (with
# "rollback" in it) is what they read, not an order to roll back (issue 11 §6).
_STOP_AND_LOOK = re.compile(
    # "stop, roll back, then check the logs" rolls back: no rollback word in between
    r"\b(?:stop|halt|pause|freeze)\b(?:(?!roll[\s-]?back|revert|abort)[^.\n]){0,30}?"
    r"\b(?:and\s+)?(?:go\s+)?"
    r"(?:read|consult|investigate|look|open|follow|review|check|diagnose|escalate|ask)\b",
    re.I,
)


def stops_to_look(text: str) -> bool:
    """True when a lead-in says to stop and have a person read or investigate."""
    return bool(_STOP_AND_LOOK.search(" ".join(text.split())))


# "Halt the rollout (do not roll back — Play can't roll back a binary) if:": a rollback the
# document rules out names no action; the halt it asks for is the action (issue 11 §6)
_NEGATED_ROLLBACK = re.compile(
    r"\b(?:do\s+not|don'?t|never|not|no|cannot|can'?t|can\s+not|without|instead\s+of)\s+"
    r"(?:[\w']+\s+){0,3}?(?:roll(?:ing)?[\s-]?backs?|revert(?:ing)?|abort(?:ing)?)\b"
    r"(?:[^.;:)\n]{0,60}?(?=[.;:)\n]|$))?",
    re.I,
)


def action_for(context: str, threshold: bool = False) -> str | None:
    """rollback | pause | alert for a list or table in this context; None when a human
    decides and the item states no number to alert on ("Executive decision")."""
    context = _NEGATED_ROLLBACK.sub(" ", context)
    if stops_to_look(context):
        return "pause"
    if polarity.human_decides(context) and not re.search(r"\bauto(?!\w*\s+action)", context, re.I):
        # "Monitor and decide (no automatic action)", "evaluate within 2 hours": a person is
        # told, and decides; the run never rolls back for them (issue 11 §6)
        return "alert" if threshold else None
    lead = context.rsplit("\n", 1)[-1]
    if polarity.human_decides(lead) and not re.search(r"\bauto|roll[\s-]?back", lead, re.I):
        # "Automatic Rollback Criteria" / "**Medium Priority (Investigation):**": the nearest
        # lead-in says what this list does, and it asks a person to look
        return "alert" if threshold else None
    if _LEAD_PAUSE.search(lead) and not _EXPLICIT_ROLLBACK.search(lead):
        # "Pause (do not continue, page the traffic lead) when:" under "Rollback triggers":
        # the nearest lead-in names the weaker action (blind round 10)
        return "pause"
    if _MANUAL.search(context) and not re.search(r"\bauto", context, re.I):
        return None
    if _PAUSE.search(context) and not _ROLLBACK.search(context):
        return "pause"
    if _ALERT.search(context) and not _EXPLICIT_ROLLBACK.search(context):
        # "Critical Alerts": a severity of alerts tells people, it rolls nothing back
        return "alert"
    return "rollback"  # a failure list without a weaker word: the document's rollback


_NO_AUTOMATIC = re.compile(
    r"\bno(?:t|n)?[\s-]+auto|without auto|\bmonitor and decide|\bonly (?:alert|notify|page)",
    re.I,
)


def limited(action: str, context: str) -> str:
    """An item's own action, no stronger than its list allows: "Latency > 1s → roll back"
    under "Monitor and decide (no automatic action)" alerts."""
    if action != "alert" and polarity.human_decides(context):
        # "Hold if conversion is 1 pp below control: the PM decides": the run holds while the
        # person decides (a pause asks them); only "no automatic action" leaves it an alert
        if action == "pause" and not _NO_AUTOMATIC.search(context):
            return "pause"
        return "alert"
    return action


def find_health_url(text: str) -> str | None:
    """A health endpoint the document itself names (in a curl line, a table, prose)."""
    match = _URL.search(text)
    return match.group(0).rstrip(".,;:") if match else None


class TriggerMaker:
    def __init__(self, draft: Draft, phase: PhaseDraft | None, in_phase: bool) -> None:
        self.draft = draft
        self.phase = phase
        self.in_phase = in_phase  # scoped to the phase (`during`) rather than the whole run

    def from_text(self, text: str, line: int, action: str, lead: str = "") -> bool:
        """One list item or sentence; True when it became a trigger."""
        wording = thresholds.plain(text)
        if not wording:
            return False
        found = thresholds.parse(text)
        count = thresholds.consecutive(text) or thresholds.consecutive(lead)
        window = thresholds.sustained(text) or thresholds.sustained(lead)
        good = self._good_state(wording, found)
        if good:
            self._unsure(wording, line, action, good)
            return True
        if thresholds.is_health(text) and (count or found is None or "fail" in text.lower()):
            self._health(wording, line, action, count or 1)
            return True
        if found is None and _COVERED.search(wording) and not _WATCHED.search(wording):
            self.draft.note(
                "covered",
                line=line,
                what=wording[:120],
                why="a failing step or gate already triggers on_failure (rollback)",
            )
            return True
        if found is None or (not found.metric and not lead):
            self._unbound(wording, line, action)
            return True
        self._metric(
            wording, found.metric or thresholds.plain(lead), found, line, action, count, window
        )
        return True

    def from_row(self, metric: str, cell: str, column: str, line: int, action: str) -> bool:
        """One threshold cell of a table row: ``Error rate`` | ``> 1%``."""
        found = thresholds.parse(cell)
        if found is None:
            return False
        wording = f"{thresholds.plain(metric)} {found.shown}"
        if polarity.describes_failure(thresholds.plain(metric), found.op) is False:
            self._unsure(wording, line, action, f"a lower or higher {metric} is the good side")
            return True
        count = thresholds.consecutive(cell)
        window = thresholds.sustained(cell)
        self._metric(wording, thresholds.plain(metric), found, line, action, count, window, column)
        return True

    # -- polarity (polarity.py) --------------------------------------------------------------

    @staticmethod
    def _good_state(wording: str, found: thresholds.Threshold | None) -> str:
        """Why the condition reads as a healthy state ("" when it does not): a trigger that
        fires on a healthy system is never made, and never silently inverted."""
        if found is not None:
            metric = found.metric or wording.replace(found.shown, " ")
            if polarity.describes_failure(metric, found.op) is False:
                side = "low" if found.op in ("<", "<=") else "high"
                return f"a {side} {polarity.plain_metric(metric)} is the good side"
            return ""
        if polarity.text_is_failure(wording) is False:
            return "it names a good state"
        return ""

    def _unsure(self, wording: str, line: int, action: str, why: str) -> None:
        """A human binds it: a step that asks, blocking the run until an author writes the
        failure condition they mean (or deletes the step)."""
        binding = (
            f'"{wording}" is listed where failure conditions are, but {why}: write the '
            f"condition that should {_VERBS.get(action, action)} as a trigger, or delete "
            "this step"
        )
        step: StepNode = {
            "name": f'Decide: is "{wording}" a failure condition?',
            "pause": "approve",
            "needs_binding": binding,
        }
        self.draft.unsure.append((self.phase if self.in_phase else None, Entry(step, line)))
        self.draft.note("not_triggers", line=line, what=wording, why=why, action=action)
        self.draft.note("needs_binding", line=line, what=binding)

    # -- the three shapes -------------------------------------------------------------------

    def _metric(
        self,
        wording: str,
        metric: str,
        found: thresholds.Threshold,
        line: int,
        action: str,
        count: int | None,
        window: float | None,
        column: str = "",
    ) -> None:
        query = re.sub(r"[^a-z0-9]+", "_", metric.lower()).strip("_") or "metric"
        name = self._name(query.replace("_", "-"), action, column)
        fail_after = count or (max(1, math.ceil(window / EVERY)) if window else 1)
        binding = (
            f'the metric behind "{metric}": replace the query `{query}` with a real one '
            f"(in {found.unit or 'its own unit'}"
            + (", relative to a baseline" if found.relative else "")
            + ") and check the provider"
        )
        data: TriggerNode = {
            "name": name,
            "description": wording,
            "needs_binding": binding,
            "check": {
                "metric": query,
                "provider": queries.prometheus_provider(self.draft),
                "failure": found.condition(),
            },
            "every": f"{EVERY:g}s",
        }
        if fail_after > 1:
            data["fail_after"] = fail_after
        self._add(data, line, action, threshold=found.condition(), unit=found.unit)

    def _health(self, wording: str, line: int, action: str, count: int) -> None:
        url = self.draft.health_url
        data: TriggerNode = {
            "name": self._name("health-check", action, ""),
            "description": wording,
        }
        if url is None:
            data["needs_binding"] = "the health endpoint to probe (set HEALTH_URL)"
            self.draft.vars.setdefault(
                HEALTH_VAR,
                {"env": HEALTH_VAR, "default": "", "description": "the health endpoint to probe"},
            )
            url = "${" + HEALTH_VAR + "}"
        data["check"] = {"http": url, "expect": {"status": 200}}
        data["every"] = "10s"
        if count > 1:
            data["fail_after"] = count
        self._add(data, line, action, threshold=f"{count} consecutive failures", unit="")

    def _unbound(self, wording: str, line: int, action: str) -> None:
        """A condition without a number ("Policy violations detected"): kept as a trigger
        whose check fails until an author binds it, so forgetting cannot silently pass."""
        data: TriggerNode = {
            "name": self._name(slugify(wording)[:40].strip("-") or "condition", action, ""),
            "description": wording,
            "needs_binding": f'a check that detects "{wording}"',
            "check": {"expr": "false", "name": f"not bound yet: {wording[:80]}"},
            "every": f"{EVERY:g}s",
        }
        self._add(data, line, action, threshold="", unit="")

    # -- bookkeeping ------------------------------------------------------------------------

    def _name(self, base: str, action: str, column: str) -> str:
        base = base[:48].strip("-") or "trigger"
        if base in self.draft.trigger_names and (column or action == "alert"):
            base = f"{base}-{slugify(column) if column else 'alert'}"[:60]
        candidate, n = base, 1
        while candidate in self.draft.trigger_names:
            n += 1
            candidate = f"{base}-{n}"
        self.draft.trigger_names.add(candidate)
        return candidate

    def _add(self, data: TriggerNode, line: int, action: str, threshold: str, unit: str) -> None:
        data["action"] = action
        if self.in_phase and self.phase is not None:
            data["during"] = [self.phase.id]
        self.draft.triggers.append(Entry(data, line))
        self.draft.note(
            "triggers",
            line=line,
            name=data["name"],
            action=action,
            condition=threshold,
            unit=unit,
            needs_binding="needs_binding" in data,
            during=self.phase.id if self.in_phase and self.phase else None,
        )
        if "needs_binding" in data:
            self.draft.note(
                "needs_binding", line=line, what=f"trigger {data['name']}: {data['needs_binding']}"
            )


def threshold_columns(header: list[str]) -> tuple[int, list[int]] | None:
    """(metric column, threshold columns) of a "Metric | Target | Alert Threshold" table."""
    lowered = [h.lower() for h in header]
    metric = next((i for i, h in enumerate(lowered) if _METRIC_COL.search(h)), None)
    if metric is None:
        metric = 0
    limits = [
        i
        for i, h in enumerate(lowered)
        if i != metric and _LIMIT_COL.search(h) and not _TARGET_COL.search(h)
    ]
    return (metric, limits) if limits else None


def column_action(column: str, context: str) -> str | None:
    """A "Warning" column alerts, a "Critical" / "Rollback" one rolls back."""
    lowered = column.lower()
    if re.search(r"warn", lowered):
        return "alert"
    if re.search(r"critical|rollback|abort|auto", lowered):
        return "rollback"
    if re.search(r"alert", lowered):
        return "alert"
    return action_for(context)


def finish(draft: Draft) -> None:
    """Conditions a human must bind go first: at the start of their phase, or of the plan's
    first phase, so the question is asked before anything they guard runs."""
    first = next((p for p in draft.phases if p.keep()), None)
    for phase, entry in reversed(draft.unsure):
        target = phase or first
        if target is None:
            target = first = draft.new_phase("Review trigger conditions", entry.line, named=False)
        target.steps.insert(0, entry)


# A runbook whose purpose is the recovery itself (issue 11 §5): its "trigger conditions" say
# when to run it. As background triggers they would roll the recovery back while the primary
# is still down, so they become one manual gate a person confirms before the procedure.
_RECOVERY = re.compile(
    r"disaster[\s-]?recovery|\bDR\b|fail[\s-]?over|incident[\s-]?response|"
    r"recovery (?:runbook|plan|procedure)|restore (?:runbook|procedure)",
    re.I,
)
ENTRY_GATE = "when to start"


def recovery_document(draft: Draft) -> bool:
    return draft.rollback_purpose or bool(_RECOVERY.search(draft.title))


def entry_condition(draft: Draft, phase: PhaseDraft | None, text: str, line: int) -> bool:
    """One more "start when …" condition of a recovery runbook, gathered in one manual gate:
    the conditions are alternatives, so a person confirms that one of them holds."""
    wording = thresholds.plain(text)
    if phase is None or not wording:
        return False
    for entry in phase.gates:
        if entry.data.get("name") == ENTRY_GATE:
            entry.data["manual"] = f"{entry.data['manual']}; {wording}"
            break
    else:
        data: CheckNode = {
            "name": ENTRY_GATE,
            "manual": f"Run this only when one of these holds: {wording}",
        }
        phase.gates.append(Entry(data, line))
        draft.note("checks", phase=phase.id, line=line, kind="manual", how="entry condition")
    why = "when to run this recovery runbook, not a condition to undo it"
    draft.note("not_triggers", line=line, what=wording, why=why, action="manual gate")
    return True
