"""End-to-end runs through the real CLI: real subprocesses, a real SQLite journal."""

from __future__ import annotations

import os
import pwd
import signal
import time
from pathlib import Path

from tests.conftest import CLI, items, write_plan

LOGIN = pwd.getpwuid(os.getuid()).pw_name


def test_success_then_status_history_and_logs(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: hello
        vars: {WHO: world}
        phases:
          - id: greet
            steps:
              - {name: say hello, run: 'echo "hello $WHO"'}
              - {name: argv form, run: [printf, "%s\\n", "argv ${WHO}"]}
            gates:
              - command: echo ok
                expect: {stdout_contains: ok}
    """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 0, result.stderr
    assert "hello world" in result.stderr  # output streamed live
    status = cli.status()
    assert status["run"]["status"] == "succeeded"
    found = items(status)
    assert found["greet/say-hello"]["status"] == "succeeded"
    assert found["greet/say-hello"]["exit_code"] == 0
    assert found["greet/gate:gate-1"]["status"] == "passed"
    logs = cli("logs", "last", "argv-form")
    assert "argv world" in logs.stdout
    history = cli.json("history")
    assert [r["status"] for r in history] == ["succeeded"]
    assert cli("check").returncode == 0


def test_retries_with_backoff_then_success(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: flaky
        phases:
          - id: p
            steps:
              - name: third time lucky
                run: 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ $n -ge 2 ]'
                retries: 3
                backoff: 50ms
    """,
    )
    assert cli("run", str(plan)).returncode == 0
    step = items(cli.status())["p/third-time-lucky"]
    assert step["attempt"] == 3
    assert (cli.cwd / "count").read_text().strip() == "3"


def test_timeout_kills_the_whole_process_group(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: slow
        phases:
          - id: p
            steps:
              - name: hang
                run: 'sleep 60 & echo $! > child.pid; sleep 60'
                timeout: 500ms
    """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 1
    step = items(cli.status())["p/hang"]
    assert "timed out" in step["message"]
    child = int((cli.cwd / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the background child of a timed-out step survived")


def test_when_and_continue_on_error_and_outputs_in_expressions(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: flow
        vars: {ENV: staging, VERSION: "1.2.3"}
        phases:
          - id: p
            steps:
              - {id: prod-only, run: "false", when: "vars.ENV == 'prod'"}
              - {id: tolerated, run: "exit 3", continue_on_error: true}
              - {id: build, run: 'echo "version=$VERSION" >> "$PHASEGATE_OUTPUT"'}
            gates:
              - expr: >-
                  steps.build.outputs.version == vars.VERSION
                  && steps.tolerated.exit_code == 3
    """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 0, result.stderr
    found = items(cli.status())
    assert found["p/prod-only"]["status"] == "skipped"
    assert found["p/tolerated"]["status"] == "failed"
    assert found["p/build"]["outputs"] == {"version": "1.2.3"}


def test_on_failure_pause_then_resume_retries_the_failed_gate(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: pausing
        on_failure: pause
        phases:
          - id: p
            steps:
              - {id: s, run: "echo step >> ledger", undo: "echo undo >> ledger"}
            gates:
              - command: test -f ready
    """,
    )
    assert cli("run", str(plan)).returncode == 4
    assert cli.status()["run"]["status"] == "paused"
    (cli.cwd / "ready").write_text("")
    result = cli("resume", "last")
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "ledger").read_text() == "step\n"  # the finished step did not re-run


def test_on_failure_abort_stops_without_rollback(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: aborting
        phases:
          - id: p
            on_failure: abort
            steps:
              - {id: s, run: "true", undo: "touch undone"}
              - {id: bad, run: "false"}
    """,
    )
    assert cli("run", str(plan)).returncode == 1
    assert cli.status()["run"]["status"] == "failed"
    assert not (cli.cwd / "undone").exists()
    # ... and an operator can still roll it back later
    result = cli("rollback", "last")
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "undone").exists()


def test_manual_gate_pauses_until_approved(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: gonogo
        phases:
          - id: p
            steps: [{run: "true"}]
            gates:
              - {manual: "Go / no-go from the release manager", id: go}
          - id: after
            needs: [p]
            steps: [{run: "touch deployed"}]
    """,
    )
    assert cli("run", str(plan)).returncode == 4
    status = cli.status()
    assert status["pause"]["reason"] == "approval"
    assert not (cli.cwd / "deployed").exists()
    assert cli("resume", "last").returncode == 4  # still waiting
    approved = cli("approve", "last", env={"USER": "alice"})  # $USER is not who acts
    assert approved.returncode == 0, approved.stderr
    assert cli("resume", "last").returncode == 0
    assert (cli.cwd / "deployed").exists()
    gate = items(cli.status())["p/gate:go"]
    assert gate["observed"]["approved_by"] == [f"{LOGIN}@{os.uname().nodename}"]


def test_trigger_trips_and_rolls_back(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: watched
        triggers:
          - name: no-alarm
            check: {command: "test ! -f alarm"}
            every: 100ms
            fail_after: 2
        phases:
          - id: p
            steps:
              - {id: arm, run: "touch armed", undo: "rm armed"}
              - {id: wait, run: "touch alarm; sleep 2", timeout: 20s}
              - {id: never, run: "touch never"}
    """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 1, result.stderr
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert status["failure"]["reason"] == "trigger"
    assert status["triggers"]["no-alarm"]["status"] == "tripped"
    assert not (cli.cwd / "armed").exists()
    assert not (cli.cwd / "never").exists()


def test_failing_undo_does_not_stop_rollback_and_exits_3(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: badundo
        phases:
          - id: p
            steps:
              - {id: a, run: "true", undo: "touch a-undone"}
              - {id: b, run: "true", undo: "echo cannot >&2; exit 7"}
              - {id: c, run: "true", undo: "touch c-undone"}
            gates:
              - command: "false"
    """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 3, result.stderr
    status = cli.status()
    assert status["run"]["status"] == "rollback_failed"
    assert [f["item"] for f in status["rollback"]["failures"]] == ["undo:p/b"]
    assert (cli.cwd / "a-undone").exists() and (cli.cwd / "c-undone").exists()
    assert "exit 7" in items(status)["undo:p/b"]["message"]


def test_rollback_duration_is_measured_against_its_budget(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: slowrollback
        budget: {rollback: 200ms}
        phases:
          - id: p
            steps: [{run: "true"}]
            gates: [{command: "false"}]
            rollback: [{run: "sleep 0.5"}]
    """,
    )
    assert cli("run", str(plan)).returncode == 1
    rollback = cli.status()["rollback"]
    assert rollback["duration"] >= 0.5
    assert rollback["budget"] == 0.2
    assert rollback["overrun"] is True
    assert any("over its budget" in w["message"] for w in cli.status()["warnings"])


def test_rollback_of_a_successful_run_on_demand(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: ondemand
        phases:
          - id: p
            steps: [{id: s, run: "touch made", undo: "rm made"}]
    """,
    )
    assert cli("run", str(plan)).returncode == 0
    assert (cli.cwd / "made").exists()
    result = cli("rollback", "last")
    assert result.returncode == 0, result.stderr
    assert not (cli.cwd / "made").exists()
    assert cli.status()["run"]["status"] == "rolled_back"
    assert cli("check").returncode == 0


def test_phases_run_concurrently_up_to_max_parallel(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: parallel
        phases:
          - {id: a, steps: [{run: "sleep 0.4"}]}
          - {id: b, steps: [{run: "sleep 0.4"}]}
    """,
    )

    def overlap() -> bool:
        phases = {p["id"]: p for p in cli.status()["phases"]}
        a, b = phases["a"], phases["b"]
        return a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"]

    assert cli("run", str(plan), "--max-parallel", "2").returncode == 0
    assert overlap()
    assert cli("run", str(plan), "--max-parallel", "1").returncode == 0
    assert not overlap()


def test_interrupt_ends_the_step_it_cannot_wait_for_and_resume_knows_it(cli: CLI) -> None:
    """A step phasegate kills at a signal is `interrupted`, not `unknown` (issue 10 §2.4):
    its outcome is known, so resume does not stop to ask about it."""
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: interrupted
        phases:
          - id: p
            steps:
              - {id: long, run: "echo start >> ledger; sleep 30; echo end >> ledger"}
              - {id: next, run: "echo next >> ledger"}
    """,
    )
    proc = cli.spawn("run", str(plan))
    deadline = time.monotonic() + 20
    while not (cli.cwd / "ledger").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)  # the second signal: do not wait the grace period
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert cli.status()["run"]["status"] == "interrupted"
    long = items(cli.status())["p/long"]
    assert long["status"] == "interrupted"
    assert "killed by phasegate at SIGINT" in long["message"]
    result = cli("resume", "last", "--skip-step", "p/long")
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "ledger").read_text() == "start\nnext\n"


def test_plan_error_runs_nothing(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: broken
        phases:
          - id: p
            steps: [{run: "touch ran", timout: 5s}]
    """,
    )
    result = cli("run", str(plan))
    assert result.returncode == 2
    assert "timout" in result.stderr and "did you mean 'timeout'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (cli.cwd / "ran").exists()


def test_http_and_tcp_gates_against_real_servers(cli: CLI, tmp_path: Path) -> None:
    import http.server
    import json
    import socket
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ok", "version": "2.0"}).encode()
            self.send_response(200 if self.path == "/healthz" else 503)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        port = server.server_address[1]
        plan = write_plan(
            cli.cwd,
            f"""
            version: 1
            name: net
            vars: {{PORT: "{port}"}}
            phases:
              - id: p
                steps: [{{run: "true"}}]
                gates:
                  - http: http://127.0.0.1:${{PORT}}/healthz
                    expect: {{status: 200, json: {{"$.status": ok}}, latency: 5s}}
                  - tcp: 127.0.0.1:${{PORT}}
                  - tcp: 127.0.0.1:{closed_port}
                    expect: {{open: false}}
              - id: q
                needs: [p]
                steps: [{{run: "true", undo: "touch undone"}}]
                gates:
                  - http: http://127.0.0.1:${{PORT}}/broken
                    retry: {{attempts: 2, every: 100ms}}
        """,
        )
        result = cli("run", str(plan))
        assert result.returncode == 1, result.stderr
        found = items(cli.status())
        assert found["p/gate:gate-1"]["status"] == "passed"
        assert found["p/gate:gate-2"]["status"] == "passed"
        assert found["p/gate:gate-3"]["status"] == "passed"
        broken = found["q/gate:gate-1"]
        assert broken["status"] == "failed" and broken["attempts"] == 2
        assert broken["observed"]["status"] == 503
        assert (cli.cwd / "undone").exists()
    finally:
        server.shutdown()
        server.server_close()


def test_rollback_retries_only_the_failed_actions_of_a_failed_rollback(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: retryundo
        phases:
          - id: p
            steps:
              - {id: a, run: "true", undo: "echo a >> undone"}
              - {id: b, run: "true", undo: "test -f fixed && echo b >> undone"}
            gates: [{command: "false"}]
        verify_rollback:
          - command: test -f fixed
    """,
    )
    assert cli("run", str(plan)).returncode == 3
    assert (cli.cwd / "undone").read_text() == "a\n"
    (cli.cwd / "fixed").write_text("")
    result = cli("rollback", "last")
    assert result.returncode == 0, result.stderr
    assert (cli.cwd / "undone").read_text() == "a\nb\n"  # a was not undone twice
    status = cli.status()
    assert status["run"]["status"] == "rolled_back"
    assert items(status)["verify:verify-1"]["status"] == "passed"
    assert cli("check").returncode == 0


def test_trigger_watches_only_during_its_phases(cli: CLI) -> None:
    text = """
        version: 1
        name: scoped
        triggers:
          - name: no-alarm
            check: {command: "test ! -f alarm"}
            every: 100ms
            fail_after: 2
            DURING
        phases:
          - id: pre
            steps: [{run: "touch alarm; sleep 0.8; rm alarm"}]
          - id: deploy
            needs: [pre]
            steps: [{run: "sleep 0.5"}]
    """
    scoped = write_plan(cli.cwd, text.replace("DURING", "during: [deploy]"), "scoped.yaml")
    assert cli("run", str(scoped)).returncode == 0
    assert cli.status()["triggers"]["no-alarm"]["failures"] == 0
    everywhere = write_plan(cli.cwd, text.replace("DURING", ""), "everywhere.yaml")
    assert cli("run", str(everywhere)).returncode == 1
    assert cli.status()["failure"]["reason"] == "trigger"


def test_the_failing_phase_sets_the_rollback_budget(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: stagebudget
        budget: {rollback: 10m}
        phases:
          - id: early
            steps: [{run: "true"}]
            rollback: [{run: "sleep 0.3"}]
          - id: late
            needs: [early]
            rollback_budget: 100ms
            steps: [{run: "false"}]
    """,
    )
    assert cli("run", str(plan)).returncode == 1
    rollback = cli.status()["rollback"]
    assert rollback["budget"] == 0.1
    assert rollback["overrun"] is True


def test_approval_given_to_a_live_run_in_advance(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: advance
        phases:
          - id: p
            steps:
              - run: |
                  touch running
                  for i in $(seq 1200); do [ -f approved ] && break; sleep 0.1; done
            gates: [{manual: "go / no-go", id: go}]
    """,
    )
    proc = cli.spawn("run", str(plan))
    deadline = time.monotonic() + 60
    while not (cli.cwd / "running").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    approved = cli("approve", "last", "--check", "go")
    # The step ends right after the approval was delivered: the run reaches the gate at once
    # and must find the approval, not pause for it.
    (cli.cwd / "approved").touch()
    assert approved.returncode == 0, approved.stderr
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    gate = items(cli.status())["p/gate:go"]
    assert gate["observed"]["approved_by"] == [f"{LOGIN}@{os.uname().nodename}"]


def test_trigger_with_pause_action_pauses_and_resume_continues(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: pausetrigger
        triggers:
          - name: quiet
            check: {command: "test ! -f noisy"}
            every: 100ms
            action: pause
        phases:
          - id: p
            steps:
              - {id: a, run: "touch noisy; sleep 1"}
              - {id: b, run: "touch b-ran"}
    """,
    )
    assert cli("run", str(plan)).returncode == 4
    status = cli.status()
    assert status["pause"]["reason"] == "failure"
    assert not (cli.cwd / "b-ran").exists()
    (cli.cwd / "noisy").unlink()
    resumed = cli("resume", "last")
    assert resumed.returncode == 0, resumed.stderr
    assert (cli.cwd / "b-ran").exists()
