"""Imported by the sandbox's fork server (``server.sandbox.PRELOAD``): validates one small
plan so that the plan model's validators, which pydantic builds on first use
(``defer_build``), are built once in the fork server and inherited by every child, instead of
being rebuilt (~150 ms of CPU) for each plan a client posts."""

from __future__ import annotations

from pathlib import Path

from phasegate.plan.loader import load_plan_text

_PLAN = """\
version: 1
name: warm-up
phases:
  - id: one
    steps: [{name: s, run: "true", undo: "true", timeout: 5s}]
    gates: [{manual: ok}, {command: "true"}, {http: "http://127.0.0.1:1/"}]
  - id: two
    needs: [one]
    steps: [{run: "true"}]
"""

load_plan_text(_PLAN, Path("/nonexistent/warm-up.yaml"))
