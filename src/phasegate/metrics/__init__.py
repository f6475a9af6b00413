"""Metric providers: where the values of ``metric`` checks come from.

One small interface (:class:`phasegate.metrics.base.Provider`), registered through the
``phasegate.metrics`` entry-point group, built-ins included: ``prometheus``, ``http``,
``command``; ``fake`` (for tests) sits beside them.
"""
