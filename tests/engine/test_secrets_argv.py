"""Secrets never reach a process's arguments (issue 10 §1.5): every local user can read
/proc/PID/cmdline. Real runs, with a scanner reading every process's cmdline while the steps
sleep."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from tests.conftest import CLI, items, write_plan

SECRET = "s3cret-Vq93-hJ2k"
DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()

# Argv form and shell form both use the secret; each writes its hash, then sleeps while the
# scanner looks. The gate uses it too.
PLAN = """
    version: 1
    name: argv-secrets
    vars:
      TOKEN: {env: DEPLOY_TOKEN, secret: true}
    phases:
      - id: p
        steps:
          - id: argv
            run: [python3, -c, "ARGV_SCRIPT"]
          - id: shell
            run: |
              printf %s "${TOKEN}" | sha256sum | cut -d' ' -f1 | tr -d '\\n' > shell.sha
              sleep 1.5
        gates:
          - command: >-
              test "$(printf %s "${TOKEN}" | sha256sum | cut -d" " -f1)" = "$(cat shell.sha)"
""".replace(
    "ARGV_SCRIPT",
    "import hashlib, os, time; "
    "open('argv.sha', 'w').write(hashlib.sha256(os.environ['TOKEN'].encode()).hexdigest()); "
    "time.sleep(1.5)",
)


def _scan(stop: threading.Event, seen: list[str], scans: list[int]) -> None:
    needle = SECRET.encode()
    while not stop.is_set():
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue  # gone meanwhile
            if needle in cmdline:
                seen.append(cmdline.decode(errors="replace"))
        scans[0] += 1


def test_a_secret_never_appears_in_any_process_arguments(cli: CLI) -> None:
    plan = write_plan(cli.cwd, PLAN)
    stop = threading.Event()
    seen: list[str] = []
    scans = [0]
    scanner = threading.Thread(target=_scan, args=(stop, seen, scans))
    scanner.start()
    try:
        result = cli("run", str(plan), env={"DEPLOY_TOKEN": SECRET})
    finally:
        stop.set()
        scanner.join()
    assert result.returncode == 0, result.stderr
    assert scans[0] > 10  # the scanner looked many times while the steps ran
    assert seen == []
    # ...and the steps received the right value.
    assert (cli.cwd / "argv.sha").read_text() == DIGEST
    assert (cli.cwd / "shell.sha").read_text() == DIGEST


def test_a_secret_in_an_argv_list_is_a_located_plan_error(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: leaky
        vars:
          TOKEN: {env: DEPLOY_TOKEN, secret: true}
          HEADER: "Authorization: Bearer ${TOKEN}"
        phases:
          - id: p
            steps:
              - run: [curl, -H, "${HEADER}", https://example.invalid]
                undo: [revoke, "${TOKEN}"]
            gates:
              - command: [check, "--token=${TOKEN}"]
        """,
    )
    result = cli("validate", str(plan))
    assert result.returncode == 2
    assert f"{plan}:9:25: phases[0].steps[0].run[2]: secret ${{HEADER}}" in result.stderr
    assert f"{plan}:10:24: phases[0].steps[0].undo[1]: secret ${{TOKEN}}" in result.stderr
    assert "phases[0].gates[0].command[1]: secret ${TOKEN}" in result.stderr
    assert "/proc/PID/cmdline" in result.stderr and "environment" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_secret_value_hidden_in_another_variable_is_refused_before_the_spawn(
    cli: CLI,
) -> None:
    # URL comes from the environment and happens to contain the secret: validation cannot
    # know, the engine refuses to start the command rather than expose it.
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: pasted
        vars:
          TOKEN: {env: DEPLOY_TOKEN, secret: true}
          URL: {env: TARGET_URL}
        phases:
          - id: p
            steps:
              - {id: mark, run: "touch marked", undo: "rm -f marked"}
              - {id: call, run: [touch, "${URL}"]}
        """,
    )
    env = {"DEPLOY_TOKEN": SECRET, "TARGET_URL": f"u{SECRET}"}
    result = cli("run", str(plan), env=env)
    assert result.returncode == 1, result.stderr
    call = items(cli.status())["p/call"]
    assert call["status"] == "failed"
    assert "refusing to start: the value of secret" in call["message"]
    assert not any(SECRET in name for name in os.listdir(cli.cwd))
    assert not (cli.cwd / "marked").exists()


def test_validate_warns_about_a_secret_too_short_to_mask(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: short
        vars:
          PIN: {value: "42", secret: true}
        phases:
          - id: p
            steps: [{run: "true"}]
        """,
    )
    result = cli("validate", str(plan))
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert f"{plan}:4:" in output and "vars.PIN.value" in output
    assert "secret PIN is 2 character(s) long" in output and "never masked" in output


def test_a_run_warns_about_a_secret_from_the_environment_too_short_to_mask(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: short-env
        vars:
          PIN: {env: DEPLOY_PIN, secret: true}
        phases:
          - id: p
            steps: [{run: "true"}]
        """,
    )
    result = cli("run", str(plan), env={"DEPLOY_PIN": "7"})
    assert result.returncode == 0, result.stderr
    assert "secret PIN is 1 character(s) long" in result.stdout + result.stderr
    warnings = cli.status()["warnings"]
    assert any("secret PIN is 1 character(s) long" in w["message"] for w in warnings)


def test_a_check_whose_argv_would_carry_a_secret_value_is_not_started(cli: CLI) -> None:
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: pasted-gate
        vars:
          TOKEN: {env: DEPLOY_TOKEN, secret: true}
          URL: {env: TARGET_URL}
        phases:
          - id: p
            steps: [{id: mark, run: "touch marked", undo: "rm -f marked"}]
            gates:
              - command: [touch, "${URL}"]
        """,
    )
    result = cli("run", str(plan), env={"DEPLOY_TOKEN": SECRET, "TARGET_URL": f"u{SECRET}"})
    assert result.returncode == 1, result.stderr
    gate = next(v for k, v in items(cli.status()).items() if "/gate:" in k)
    assert gate["status"] == "error"
    assert "refusing to start" in gate["message"]
    assert not any(SECRET in name for name in os.listdir(cli.cwd))
