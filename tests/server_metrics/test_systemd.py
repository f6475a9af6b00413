"""The systemd unit: the settings the README promises, and systemd's own verdict."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "phasegate.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_unit_runs_the_server_as_its_own_user_and_spares_runs_on_restart() -> None:
    service = unit()["Service"]
    argv = service["ExecStart"].split()
    assert argv[0].endswith("/phasegate") and argv[1] == "serve"
    assert " ".join(argv[2:]) == "--host 127.0.0.1 --port 8765 --state-dir /var/lib/phasegate"
    assert service["User"] == "phasegate"
    assert service["Restart"] == "on-failure"
    assert service["KillMode"] == "process"
    assert service["EnvironmentFile"] == "-/etc/phasegate/env"


def test_the_unit_is_hardened_and_writes_only_its_state_dir() -> None:
    service = unit()["Service"]
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"):
        assert service[key] == "yes", key
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/phasegate"
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    # verify also checks that ExecStart's binary exists: point it at one that does.
    copy = tmp_path / "phasegate.service"
    text = UNIT.read_text(encoding="utf-8")
    copy.write_text(text.replace("/usr/local/bin/phasegate", shutil.which("true") or "/bin/true"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "phasegate.service" not in result.stderr, result.stderr
