"""Step logs written by the real engine (real shell commands) through the contract, on every
back end: the text a step printed, masked, read back with ``read_log``; its log stored before
its end is journalled; outputs from the journal."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from phasegate.engine import session
from phasegate.plan.loader import load_plan
from phasegate.store.contract import JournalStore
from phasegate.store.fold import EventRow
from phasegate.store.steplogs import LogChunk
from tests.conftest import write_plan

SECRET = "s3cr3t-Value-91"
PLAN = """
    version: 1
    name: logged
    vars:
      TOKEN: {env: LOGGED_TOKEN, secret: true}
    phases:
      - id: build
        steps:
          - id: noisy
            run: |
              seq 1 30000
              echo "to stderr" >&2
              echo "token $TOKEN"
          - id: quiet
            run: "true"
          - id: out
            run: |
              echo "version=1.2.3" >> "$PHASEGATE_OUTPUT"
              echo "token=$TOKEN" >> "$PHASEGATE_OUTPUT"
"""


class Recording:
    """The store, with the order of its log and journal writes recorded."""

    def __init__(self, store: JournalStore) -> None:
        self.store = store
        self.writes: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def append_logs(self, run_id: str, chunks: Sequence[LogChunk]) -> None:
        self.store.append_logs(run_id, chunks)
        self.writes.append(("logs", {key for key, _ in chunks}))

    def commit_applied(
        self, state: Any, rows: list[EventRow], changed: set[str], *, durable: bool
    ) -> None:
        self.store.commit_applied(state, rows, changed, durable=durable)
        ended = {row[4] for row in rows if row[3] == "item.finished"}
        self.writes.append(("journal", ended))


def test_the_engine_logs_through_the_store_before_each_end(
    store: JournalStore, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LOGGED_TOKEN", SECRET)
    recording = Recording(store)
    options = session.RunOptions(console_stream=io.StringIO(), quiet=True)
    plan = load_plan(write_plan(tmp_path, PLAN))
    run_id, status, _ = session.start(recording, plan, options)  # type: ignore[arg-type]
    assert status == "succeeded"

    text = store.read_log(run_id, "build/noisy").text
    lines = text.splitlines()
    assert lines[0].startswith("=== build/noisy attempt 1 at ")
    assert lines[-1].startswith("=== exit 0 in ")
    printed = lines[lines.index("1") : -1]
    # stdout in order; the stderr line wherever its pipe was read, prefixed
    stdout = [line for line in printed if not line.startswith("[stderr] ")]
    assert stdout == [*(str(n) for n in range(1, 30001)), "token ***"]
    assert [line for line in printed if line.startswith("[stderr] ")] == ["[stderr] to stderr"]
    assert store.read_log(run_id, "build/quiet").data == b""  # printed nothing: no log
    assert SECRET not in text
    assert store.step_outputs(run_id) == {"build/out": {"version": "1.2.3", "token": "***"}}

    # More than 64 KiB: flushed in several writes, the last before the step's end.
    flushes = [n for n, (kind, keys) in enumerate(recording.writes) if "build/noisy" in keys]
    assert len(flushes) >= 2 and recording.writes[flushes[0]][0] == "logs"
    ended = [n for n, (kind, data) in enumerate(recording.writes) if kind == "journal"]
    noisy_end = next(n for n in ended if any('"build/noisy"' in d for d in recording.writes[n][1]))
    assert max(n for n in flushes if recording.writes[n][0] == "logs") < noisy_end
    located = [e.data.get("log") for e in store.events(run_id) if e.type == "item.finished"]
    assert located == [store.log_location(run_id, "build/noisy"), None, None]
