"""The plan loader's part for ``notify:``: channels become notifier instances, and routes are
checked against the channels and event names, every problem at its file:line.

Runs before the plan model is validated (like checks and routers, see ``plan.checkspecs``), so
a channel's unknown option is reported at its own line with a did-you-mean hint.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from phasegate.errors import Problem
from phasegate.notify.base import EVENTS, Notifier, notifier_kind, notifier_names
from phasegate.plan.pydantic_errors import problems_from_validation
from phasegate.plan.yamlsource import Path_, SourceMap
from phasegate.substitution import BUILTINS, references
from phasegate.suggest import did_you_mean

_GLOB = set("*?[")
EXAMPLE = 'ops: {slack: {webhook_url: "${SLACK_WEBHOOK}"}}'


def resolve_notify(data: dict[str, Any], smap: SourceMap, problems: list[Problem]) -> None:
    """Replace, in place, each channel mapping of ``data["notify"]`` with its notifier."""
    notify = data.get("notify")
    if not isinstance(notify, dict):
        return
    channels = notify.get("channels")
    if isinstance(channels, dict):
        defined = set(data.get("vars") or {}) | set(BUILTINS)
        for name, raw in list(channels.items()):
            if isinstance(raw, Notifier):
                continue
            path = ("notify", "channels", name)
            _undefined_variables(raw, path, defined, smap, problems)
            # A channel that produced a problem is stood in for, so that the plan model still
            # reports the document's other problems in the same pass.
            channels[name] = build_notifier(raw, path, smap, problems) or Notifier()
    routes = notify.get("routes")
    if isinstance(routes, list):
        known = list(channels) if isinstance(channels, dict) else []
        for index, route in enumerate(routes):
            if isinstance(route, dict):
                _check_route(route, ("notify", "routes", index), known, smap, problems)


def build_notifier(
    raw: Any, path: Path_, smap: SourceMap, problems: list[Problem]
) -> Notifier | None:
    """A channel: one key naming the notifier kind, its options inside."""
    kinds = notifier_names()
    if not isinstance(raw, dict) or len(raw) != 1:
        problems.append(
            smap.problem(
                path,
                "a channel is a mapping with exactly one key naming its notifier kind",
                hint=f"e.g. {EXAMPLE}; kinds: {', '.join(kinds)}",
            )
        )
        return None
    kind, options = next(iter(raw.items()))
    if kind not in kinds:
        problems.append(
            smap.problem(
                (*path, kind),
                f"unknown notifier kind {kind!r}",
                hint=did_you_mean(str(kind), kinds) or f"kinds: {', '.join(kinds)}",
                key=True,
            )
        )
        return None
    model = notifier_kind(kind)
    options = {} if options is None else options
    if not isinstance(options, dict):
        problems.append(
            smap.problem(
                (*path, kind),
                f"the options of a {kind} channel must be a mapping",
                hint=f"e.g. {EXAMPLE}",
            )
        )
        return None
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, options, (*path, kind), smap, model))
        return None


def _check_route(
    route: dict[str, Any], path: Path_, known: list[str], smap: SourceMap, problems: list[Problem]
) -> None:
    names = route.get("channels")
    if isinstance(names, list):
        for index, name in enumerate(names):
            if isinstance(name, str) and name not in known:
                problems.append(
                    smap.problem(
                        (*path, "channels", index),
                        f"no channel {name!r} in notify.channels",
                        hint=did_you_mean(name, known)
                        or ("channels: " + ", ".join(known) if known else "declare it first"),
                    )
                )
    events = route.get("events")
    if isinstance(events, list):
        for index, event in enumerate(events):
            if isinstance(event, str) and not _GLOB & set(event) and event not in EVENTS:
                problems.append(
                    smap.problem(
                        (*path, "events", index),
                        f"unknown notification event {event!r}",
                        hint=did_you_mean(event, list(EVENTS))
                        or "events: " + ", ".join(EVENTS) + " (globs such as rollback.* work)",
                    )
                )


def _undefined_variables(
    value: Any, path: Path_, defined: set[str], smap: SourceMap, problems: list[Problem]
) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _undefined_variables(child, (*path, key), defined, smap, problems)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _undefined_variables(child, (*path, index), defined, smap, problems)
    elif isinstance(value, str):
        for name in references(value):
            if name not in defined:
                problems.append(
                    smap.problem(
                        path,
                        f"undefined variable ${{{name}}}",
                        hint=f"declare it under `vars:`, e.g. {name}: "
                        f"{{env: {name}, secret: true}}",
                    )
                )
