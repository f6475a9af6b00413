"""Canary analysis: metrics measured on a schedule and judged with predictable semantics.

Argo Rollouts' AnalysisRun rules (count, interval, failure/inconclusive/consecutive-error
limits) plus Keptn-style scoring; the user-facing description is docs/analysis.md.

* ``phasegate.plan.analysis``: the ``analysis:`` model (:class:`Analysis`,
  :class:`AnalysisMetric`), part of the plan model, which must not import this package;
* ``measure``: one query of one metric, classified into a :class:`Measurement`;
* ``verdict``: tallies and the verdict, pure functions of the measurements;
* ``run``: :class:`AnalysisRun`, which keeps the schedule and stops on the first final verdict.
"""

from phasegate.analysis.measure import Measurement, measure
from phasegate.analysis.run import AnalysisRun
from phasegate.analysis.verdict import MetricTally, Verdict, empty_tallies, tally, verdict
from phasegate.plan.analysis import Analysis, AnalysisMetric, MetricSettings, Scoring

__all__ = [
    "Analysis",
    "AnalysisMetric",
    "AnalysisRun",
    "Measurement",
    "MetricSettings",
    "MetricTally",
    "Scoring",
    "Verdict",
    "empty_tallies",
    "measure",
    "tally",
    "verdict",
]
