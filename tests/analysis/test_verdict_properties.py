"""Properties of the pure tally and verdict, over generated measurement histories."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.analysis import Analysis, Measurement, MetricSettings, MetricTally, tally, verdict
from tests.analysis import analysis, fake_metric, measured

STATUSES = ["successful", "warning", "failed", "inconclusive", "error", "no_data"]
BAD = ["failed", "inconclusive", "error", "no_data"]
NAMES = ["a", "b", "c"]

# Validate one analysis now: first-time imports inside a strategy would look like
# nondeterminism to hypothesis.
analysis(fake_metric("warm", [0.0]), scoring={"pass": 90})

limits = st.fixed_dictionaries(
    {
        "count": st.none() | st.integers(1, 8),
        "failure_limit": st.integers(0, 3),
        "inconclusive_limit": st.integers(0, 3),
        "consecutive_error_limit": st.integers(0, 5),
        "no_data": st.sampled_from(["fail", "pause", "ignore"]),
    }
)


@st.composite
def analyses(draw: st.DrawFn, scoring: bool | None = None) -> Analysis:
    n = draw(st.integers(1, 3))
    metrics = []
    for name in NAMES[:n]:
        own = draw(limits)
        metrics.append(
            fake_metric(
                name,
                [0.0],
                weight=draw(st.sampled_from([0.5, 1, 2, 3])),
                key=draw(st.booleans()),
                **own,
            )
        )
    scored = draw(st.booleans()) if scoring is None else scoring
    fields: dict[str, Any] = {}
    if scored:
        warning = draw(st.integers(0, 100))
        fields["scoring"] = {"warning": warning, "pass": draw(st.integers(warning, 100))}
    return analysis(*metrics, **fields)


@st.composite
def histories(draw: st.DrawFn, a: Analysis, statuses: list[str] = STATUSES) -> list[Measurement]:
    """Measurements of the analysis's metrics, interleaved, at strictly increasing times."""
    names = [m.name for m in a.metrics]
    picks = draw(
        st.lists(st.tuples(st.sampled_from(names), st.sampled_from(statuses)), max_size=25)
    )
    return [measured(status, float(i), name) for i, (name, status) in enumerate(picks)]  # type: ignore[arg-type]


def judge(a: Analysis, ms: list[Measurement], stopped: bool = False) -> Any:
    v = verdict(a, tally(a, ms), stopped=stopped)
    json.dumps(v.to_dict())
    return v


@given(st.data(), st.booleans())
def test_without_a_good_measurement_nothing_passes(data: st.DataObject, stopped: bool) -> None:
    a = data.draw(analyses())
    ms = data.draw(histories(a, BAD))
    assert judge(a, ms, stopped).status in ("running", "failed", "inconclusive")


@given(st.data(), st.booleans())
def test_any_metric_without_a_good_measurement_blocks_a_pass(
    data: st.DataObject, stopped: bool
) -> None:
    a = data.draw(analyses())
    ms = data.draw(histories(a))
    v = judge(a, ms, stopped)
    if v.status in ("passed", "warning"):
        for metric in a.metrics:
            assert any(
                m.metric == metric.name and m.status in ("successful", "warning") for m in ms
            )


@given(st.data(), st.booleans())
def test_provider_errors_alone_never_fail_under_pause_or_ignore(
    data: st.DataObject, stopped: bool
) -> None:
    a = data.draw(analyses())
    ms = data.draw(histories(a, ["error"]))
    v = judge(a, ms, stopped)
    assert v.status != "passed" and v.status != "warning"
    if all(m.no_data != "fail" for m in a.metrics):
        assert v.status in ("running", "inconclusive")
    for t in tally(a, ms).values():
        assert t.phase(stopped=stopped) in ("running", "error", "inconclusive")
        assert t.failed == 0


@given(
    st.integers(0, 3),
    st.lists(st.sampled_from(["successful", "warning", "failed", "error"]), max_size=30),
)
def test_more_failures_than_the_limit_always_fail_from_the_first_one(
    failure_limit: int, statuses: list[str]
) -> None:
    s = MetricSettings("m", 1.0, None, 0.0, failure_limit, 100, 100, "fail")
    t = MetricTally(s)
    for i, status in enumerate(statuses):
        t = t.add(measured(status, float(i)))  # type: ignore[arg-type]
    failed = [i for i, status in enumerate(statuses) if status == "failed"]
    if len(failed) > failure_limit:
        assert t.phase() == "failed"
        assert t.detected_at() == failed[0]
    else:
        assert t.phase() == "running"


@given(st.data())
def test_a_failed_verdict_stays_failed_whatever_comes_next(data: st.DataObject) -> None:
    a = data.draw(analyses())
    ms = data.draw(histories(a))
    v = judge(a, ms)
    if v.status != "failed":
        return
    more = data.draw(histories(a))
    later = [measured(m.status, m.at + len(ms), m.metric) for m in more]
    after = judge(a, ms + later)
    assert after.status == "failed"
    good = [measured("successful", len(ms) + 100 + i, name) for i, name in enumerate(NAMES * 5)]
    assert judge(a, ms + [m for m in good if m.metric in {x.name for x in a.metrics}]).status == (
        "failed"
    )


@given(st.data(), st.booleans())
def test_score_is_a_percentage_and_key_failures_always_fail(
    data: st.DataObject, stopped: bool
) -> None:
    a = data.draw(analyses(scoring=True))
    ms = data.draw(histories(a))
    v = judge(a, ms, stopped)
    if v.score is not None:
        assert 0 <= v.score <= 100
    tallies = tally(a, ms)
    if any(m.key and tallies[m.name].phase(stopped=stopped) == "failed" for m in a.metrics):
        assert v.status == "failed"


@given(st.data(), st.booleans())
def test_deterministic_and_blind_to_how_metrics_interleave(
    data: st.DataObject, stopped: bool
) -> None:
    """Only each metric's own order matters: shuffling between metrics changes nothing."""
    a = data.draw(analyses())
    ms = data.draw(histories(a))
    by_metric = sorted(ms, key=lambda m: (m.metric, m.at))
    shuffled = data.draw(st.permutations(ms))
    regrouped = sorted(shuffled, key=lambda m: (m.metric, m.at))
    assert regrouped == by_metric
    first = judge(a, ms, stopped).to_dict()
    assert judge(a, ms, stopped).to_dict() == first
    assert judge(a, by_metric, stopped).to_dict() == first


@settings(max_examples=50)
@given(st.data())
def test_stopping_only_resolves_running_metrics(data: st.DataObject) -> None:
    a = data.draw(analyses())
    ms = data.draw(histories(a))
    tallies = tally(a, ms)
    for t in tallies.values():
        if t.phase() != "running":
            assert t.phase(stopped=True) == t.phase()
        else:
            assert t.phase(stopped=True) != "running"
    v, stopped = judge(a, ms), judge(a, ms, True)
    assert stopped.status != "running"
    if v.final:
        assert stopped.status == v.status
