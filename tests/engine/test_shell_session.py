"""One terminal session per plan (`shell_session: true`, issue 11 §4), run for real: the CLI,
bash, the supervisor, the SQLite journal; a kill -9 of the engine is a real SIGKILL."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import CLI, items, write_plan

SECRET = "hunter2-topsecret-ü"


def _plan(cli: CLI, body: str, *, session: bool = True, head: str = "") -> Path:
    return write_plan(
        cli.cwd,
        f"version: 1\nname: session\nshell_session: {'true' if session else 'false'}\n"
        + head
        + body,
    )


def _read(cli: CLI, name: str) -> str:
    return (cli.cwd / name).read_text(encoding="utf-8")


def test_variables_and_cd_carry_to_the_next_step_as_in_one_terminal(cli: CLI) -> None:
    (cli.cwd / "sub").mkdir()
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          export EXPORTED=e1
          PLAIN=p1
          cd sub
  - id: b
    needs: [a]
    steps:
      - run: |
          echo "$EXPORTED $PLAIN" > {cli.cwd}/shell.txt
          bash -c 'echo "${{EXPORTED-none}} ${{PLAIN-none}}"' > {cli.cwd}/child.txt
          pwd > {cli.cwd}/pwd.txt
      - run: [sh, -c, 'echo "${{EXPORTED-none}} ${{PLAIN-none}} $(pwd)" > {cli.cwd}/argv.txt']
      - cwd: {cli.cwd}
        run: pwd > own-cwd.txt
""",
    )
    done = cli("run", str(plan))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _read(cli, "shell.txt") == "e1 p1\n"
    # export vs plain: a program the step starts sees only what was exported
    assert _read(cli, "child.txt") == "e1 none\n"
    assert _read(cli, "pwd.txt") == f"{cli.cwd / 'sub'}\n"
    # an argv step is a program started from the terminal: exported variables and the cwd
    assert _read(cli, "argv.txt") == f"e1 none {cli.cwd / 'sub'}\n"
    # a step's own `cwd:` is its own
    assert _read(cli, "own-cwd.txt") == f"{cli.cwd}\n"


def test_values_with_newlines_quotes_unicode_and_unset_survive_exactly(cli: CLI) -> None:
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          set -x
          export MULTI=$'line one\\n  "two" \\'three\\' $x `y` \\\\ \\t tab\\nüñí 漢字 🚀'
          EMPTY=
          unset GONE
      - run: |
          set +x
          printf '%s' "$MULTI" > {cli.cwd}/multi.txt
          echo "[${{EMPTY-unset}}] [${{GONE-unset}}]" > {cli.cwd}/rest.txt
""",
    )
    done = cli("run", str(plan), env={"GONE": "from-the-environment"})
    assert done.returncode == 0, done.stdout + done.stderr
    # `set -x` traces the step's commands, never the session's own (the EXIT trap's dump)
    logged = "".join(p.read_text() for p in cli.state_dir.rglob("*.log"))
    assert "export MULTI" in logged and "__pg" not in logged and "compgen" not in logged
    expected = "line one\n  \"two\" 'three' $x `y` \\ \t tab\nüñí 漢字 🚀"
    assert _read(cli, "multi.txt") == expected
    assert _read(cli, "rest.txt") == "[] [unset]\n"


def _state_bytes(cli: CLI) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(cli.state_dir.rglob("*")) if p.is_file())


def _stored(cli: CLI, secret: str) -> bool:
    """The secret, raw or JSON-escaped, anywhere in the files of the state directory."""
    found = _state_bytes(cli)
    return secret.encode() in found or json.dumps(secret)[1:-1].encode() in found


def test_raw_bytes_survive_and_a_vanished_cwd_is_refused_not_replaced(cli: CLI) -> None:
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          BIN=$'\\xff\\xfe-raw'
          mkdir gone && cd gone
      - run: printf '%s' "$BIN" > {cli.cwd}/bin.out && rmdir {cli.cwd}/gone
      - run: touch relative-marker
""",
    )
    done = cli("run", str(plan))
    assert done.returncode == 1, done.stdout + done.stderr
    assert (cli.cwd / "bin.out").read_bytes() == b"\xff\xfe-raw"
    third = items(cli.status())["a/step-3"]
    assert third["status"] == "failed"
    assert "working directory" in third["message"] and "no longer exists" in third["message"]
    assert not list(cli.cwd.rglob("relative-marker")), "ran somewhere it was not asked to"


def test_a_secret_valued_variable_is_restored_but_never_stored(cli: CLI) -> None:
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          COPY="$TOKEN"
          export HEADER="Authorization: Bearer $TOKEN; again $TOKEN"
      - run: |
          [ "$COPY" = "$TOKEN" ] && echo same > {cli.cwd}/copy.txt
          printf '%s' "$HEADER" | sha256sum > {cli.cwd}/header.sha
          printf '%s' "Authorization: Bearer $TOKEN; again $TOKEN" | sha256sum > {cli.cwd}/want.sha
""",
        head="vars:\n  TOKEN: {env: API_TOKEN, secret: true}\n",
    )
    done = cli("run", str(plan), env={"API_TOKEN": SECRET})
    assert done.returncode == 0, done.stdout + done.stderr
    assert _read(cli, "copy.txt") == "same\n"
    assert _read(cli, "header.sha") == _read(cli, "want.sha")
    # never in the journal (database, WAL), the logs or any file phasegate keeps
    assert not _stored(cli, SECRET)
    assert not list(cli.state_dir.rglob("*.shell*")), "the dumps outlived their journalling"
    db = sqlite3.connect(cli.state_dir / "phasegate.db")
    rows = db.execute("SELECT data FROM events WHERE type = 'item.finished'").fetchall()
    change = json.loads(rows[0][0])["shell"]
    assert change["set"]["COPY"] == {"parts": [{"secret": "TOKEN"}], "export": False}
    assert change["set"]["HEADER"]["parts"] == [
        "Authorization: Bearer ",
        {"secret": "TOKEN"},
        "; again ",
        {"secret": "TOKEN"},
    ]


def test_a_failed_step_or_attempt_carries_nothing(cli: CLI) -> None:
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          export X=kept
      - continue_on_error: true
        run: |
          export X=from-the-failed-step
          cd /
          false
      - retries: 1
        backoff: 0
        run: |
          echo "${{Y-unset}}" >> {cli.cwd}/attempts.txt
          export Y=from-a-failed-attempt
          [ -e {cli.cwd}/second ] || {{ touch {cli.cwd}/second; exit 1; }}
      - run: |
          echo "$X $(pwd) $Y" > {cli.cwd}/after.txt
""",
    )
    done = cli("run", str(plan))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _read(cli, "attempts.txt") == "unset\nunset\n"
    assert _read(cli, "after.txt") == f"kept {cli.cwd} from-a-failed-attempt\n"


def test_rollback_sees_the_forward_path_up_to_where_it_stopped(cli: CLI) -> None:
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          export RELEASE=v2
          PREVIOUS=v1
        undo: echo "undo sees $RELEASE $PREVIOUS" >> {cli.cwd}/rollback.txt
      - run: |
          export RELEASE=v3-never
          exit 3
    rollback:
      - run: |
          echo "rollback sees $RELEASE $PREVIOUS" >> {cli.cwd}/rollback.txt
          RESTORED=$PREVIOUS
      - run: echo "next action sees $RESTORED" >> {cli.cwd}/rollback.txt
""",
    )
    done = cli("run", str(plan))
    assert done.returncode == 1, done.stdout + done.stderr
    assert _read(cli, "rollback.txt").splitlines() == [
        "undo sees v2 v1",
        "rollback sees v2 v1",
        "next action sees v1",
    ]


def test_gates_see_the_session_but_change_nothing(cli: CLI) -> None:
    (cli.cwd / "sub").mkdir()
    (cli.cwd / "sub" / "bucket.txt").write_text("gs://b\n")
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          export ENDPOINT=gs://b
          PLAIN=p
          cd sub
    gates:
      - command: grep -qx "$ENDPOINT" bucket.txt && [ "$PLAIN" = p ] && cd / && export LEAK=1
  - id: b
    needs: [a]
    steps:
      - run: echo "${{LEAK-none}} $(pwd)" > {cli.cwd}/after.txt
""",
    )
    done = cli("run", str(plan))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _read(cli, "after.txt") == f"none {cli.cwd / 'sub'}\n"


def test_parallel_phases_share_the_session_in_the_order_steps_finish(cli: CLI) -> None:
    plan = _plan(
        cli,
        f"""
phases:
  - id: left
    steps:
      - run: export LEFT=l
  - id: right
    steps:
      - run: export RIGHT=r
  - id: join
    needs: [left, right]
    steps:
      - run: echo "$LEFT $RIGHT" > {cli.cwd}/join.txt
""",
    )
    done = cli("run", str(plan))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _read(cli, "join.txt") == "l r\n"


def test_without_the_option_each_step_is_a_fresh_shell(cli: CLI) -> None:
    (cli.cwd / "sub").mkdir()
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          export EXPORTED=e1
          PLAIN=p1
          cd sub
      - run: echo "${{EXPORTED-none}} ${{PLAIN-none}} $(pwd)" > {cli.cwd}/fresh.txt
""",
        session=False,
    )
    done = cli("run", str(plan))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _read(cli, "fresh.txt") == f"none none {cli.cwd}\n"
    assert not list(cli.state_dir.rglob("shell-session.bash"))


def _wait_for(path: Path, engine: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        assert engine.poll() is None, engine.communicate()
        time.sleep(0.01)


@pytest.mark.parametrize("where", ["after-step-1", "during-step-1"])
def test_kill_minus_nine_then_resume_sees_the_same_values(cli: CLI, where: str) -> None:
    """SIGKILL the engine once step 1 has finished (the next thing is a gate waiting for a
    file), or while step 1 still runs (it finishes while the engine is dead, and resume takes
    its outcome and its variables from the supervisor's record and the step's dumps)."""
    hold = "" if where == "after-step-1" else f"until [ -e {cli.cwd}/go ]; do sleep 0.02; done"
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: |
          export VAL=$'carried\\nacross a "crash" ü'
          PLAIN=plain-too
          COPY=$TOKEN
          cd {cli.cwd / "sub"}
          touch {cli.cwd}/step1-set
          {hold}
    gates:
      - command: touch {cli.cwd}/gate-waiting; test -e {cli.cwd}/go
        retry: {{attempts: 3000, every: 0.02s}}
  - id: b
    needs: [a]
    steps:
      - run: |
          printf '%s|%s|%s|%s' "$VAL" "$PLAIN" "$(pwd)" "$([ "$COPY" = "$TOKEN" ] && echo ok)" \\
            > {cli.cwd}/seen.txt
""",
        head="vars:\n  TOKEN: {env: API_TOKEN, secret: true}\n",
    )
    (cli.cwd / "sub").mkdir()
    env = {"API_TOKEN": SECRET}
    engine = cli.spawn("run", str(plan), "-q", env=env)
    _wait_for(cli.cwd / ("gate-waiting" if where == "after-step-1" else "step1-set"), engine)
    engine.send_signal(signal.SIGKILL)
    engine.communicate()
    assert not (cli.cwd / "seen.txt").exists()
    (cli.cwd / "go").touch()
    resumed = cli("resume", "last", env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _read(cli, "seen.txt") == f'carried\nacross a "crash" ü|plain-too|{cli.cwd / "sub"}|ok'
    step1 = items(cli.status())["a/step-1"]
    assert step1["status"] == "succeeded"
    if where == "during-step-1":
        assert "recovered from the supervisor's record" in step1["message"]
    assert not _stored(cli, SECRET)


def test_resume_needs_the_secret_again_and_uses_its_value_then(cli: CLI) -> None:
    """A reference is re-resolved on restore: the journal has the name, never the value."""
    plan = _plan(
        cli,
        f"""
phases:
  - id: a
    steps:
      - run: COPY=$TOKEN
    gates:
      - manual: go on
  - id: b
    needs: [a]
    steps:
      - run: printf '%s' "$COPY" > {cli.cwd}/copy.txt
""",
        head="vars:\n  TOKEN: {env: API_TOKEN, secret: true}\n",
    )
    paused = cli("run", str(plan), env={"API_TOKEN": SECRET})
    assert paused.returncode == 4, paused.stdout + paused.stderr
    key = next(k for k in items(cli.status()) if "gate" in k)
    assert cli("approve", "last", "--check", key).returncode == 0
    resumed = cli("resume", "last", env={"API_TOKEN": SECRET})
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _read(cli, "copy.txt") == SECRET
    assert not _stored(cli, SECRET)


@pytest.mark.parametrize("seed", range(3))
def test_random_kills_never_lose_or_repeat_a_session_change(cli: CLI, seed: int) -> None:
    """Each step adds one to a counter kept only in the session (N=$((N+1))) and records it.
    SIGKILL the engine at random instants and resume until the run ends: the counter values
    recorded, repeats of a re-run step aside, are 1..STEPS in order (a lost change would show
    a gap, a change applied twice a jump), and the last step sees STEPS."""
    import random

    rng = random.Random(seed)
    steps = 8
    body = "".join(
        f"      - idempotent: true\n"
        f"        run: N=$(( ${{N:-0}} + 1 )); sleep 0.3; echo $N >> {cli.cwd}/ledger\n"
        for _ in range(steps)
    )
    plan = _plan(cli, f"phases:\n  - id: a\n    steps:\n{body}")
    verb: tuple[str, ...] = ("run", str(plan), "-q")
    kills = 0
    for attempt in range(12):
        engine = cli.spawn(*verb)
        try:
            # The CLI takes some 0.3-0.6 s to start: kills fall before, during and after
            # steps. After five kills the run is left to finish.
            code = engine.wait(timeout=rng.uniform(0.3, 1.2) if attempt < 5 else 120)
        except subprocess.TimeoutExpired:
            engine.send_signal(signal.SIGKILL)
            engine.communicate()
            kills += 1
            # A kill right after the run was created (before its directory exists) leaves
            # it pending and holding the lock: it is resumed, never started again.
            shown = cli("status", "last", "--json")
            if shown.returncode == 0:
                if json.loads(shown.stdout)["run"]["status"] == "succeeded":
                    break  # killed after its last journal write, before it exited
                verb = ("resume", "last", "-q")
            continue
        out, err = engine.communicate()
        if code == 0:
            break
        assert code == 4, f"exit {code}: {out}{err}"  # only a paused run may continue
        verb = ("resume", "last", "-q")
    else:
        pytest.fail("the run never finished")
    assert kills >= 1  # the run takes longer than the longest wait before a kill
    seen = [int(line) for line in _read(cli, "ledger").split()]
    assert list(dict.fromkeys(seen)) == list(range(1, steps + 1)), (seen, kills)
    assert seen == sorted(seen)


def test_validate_knows_the_session(cli: CLI) -> None:
    body = """
phases:
  - id: a
    steps:
      - run: export BUCKET=b
      - run: echo "${BUCKET}"
"""
    assert cli("validate", str(_plan(cli, body))).returncode == 0
    # without the session, ${BUCKET} in the second step is nobody's variable
    fresh = cli("validate", str(_plan(cli, body, session=False)))
    assert fresh.returncode == 2
    assert "plan.yaml:9" in fresh.stderr + fresh.stdout
    assert "undefined variable ${BUCKET}" in fresh.stderr + fresh.stdout
    other = cli("validate", str(_plan(cli, body, head="defaults: {shell: sh -c}\n")))
    said = other.stdout + other.stderr
    assert other.returncode == 0 and "shell_session needs bash" in said and "plan.yaml:4" in said
