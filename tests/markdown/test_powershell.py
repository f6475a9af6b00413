"""PowerShell blocks (issue 11 §2): run by pwsh, never bash; an untagged block is PowerShell
only when every line plainly is; unsure is a manual step, never a guessed command."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from phasegate.markdown import import_markdown, powershell


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Stop-Service -Name W3SVC\nStart-Service -Name W3SVC", "pwsh"),
        ('$env:APP_ENV = "prod"\n& "C:\\tools\\deploy.exe" /quiet', "pwsh"),
        ("# restart\nRestart-Service W3SVC | Out-Null\n.\\post-deploy.ps1", "pwsh"),
        ("Stop-Service -Name W3SVC\nsudo systemctl restart nginx", "ambiguous"),  # mixed
        ("Stop-Service W3SVC\nThen check the dashboard", "ambiguous"),  # prose
        ("Get-Content C:\\logs\\app.log -Wait", "ambiguous"),  # never ends
        ('$ok = Read-Host "Continue?"\nGet-Service W3SVC', "ambiguous"),  # asks a person
        ("kubectl get pods\nhelm list", None),  # shell
        ("$x = 1", None),  # no sign of PowerShell itself
        ("Get started by reading the guide", None),  # a word, not a cmdlet
        ("Check-Health -Verbose", None),  # not an approved verb
    ],
)
def test_classify_is_conservative(text: str, kind: str | None) -> None:
    assert powershell.classify(text) == kind


def _plan(doc: str) -> dict[str, Any]:
    return import_markdown(textwrap.dedent(doc), "DOC.md").data


_DOC = """\
    # Windows release

    ## Step 1: Deploy

    ```FENCE
    Stop-Service -Name W3SVC
    Copy-Item -Path .\\build\\* -Destination C:\\inetpub\\wwwroot -Recurse
    Start-Service -Name W3SVC
    ```

    ## Rollback

    ```powershell
    Restore-WebConfiguration -Backup pre-release
    ```
    """


@pytest.mark.parametrize("fence", ["powershell", "pwsh", ""])
def test_powershell_runs_by_pwsh_with_errors_stopping_the_step(fence: str) -> None:
    data = _plan(_DOC.replace("FENCE", fence))
    (phase,) = data["phases"]
    (step,) = phase["steps"]
    assert step["shell"] == powershell.SHELL
    # one step: the block is not cut by a bash parser; a failing cmdlet fails the step
    assert step["run"].splitlines()[0] == "$ErrorActionPreference = 'Stop'"
    assert step["run"].splitlines()[1:] == [
        "Stop-Service -Name W3SVC",
        "Copy-Item -Path .\\build\\* -Destination C:\\inetpub\\wwwroot -Recurse",
        "Start-Service -Name W3SVC",
    ]
    (action,) = phase["rollback"]
    assert action["shell"] == powershell.SHELL and "Restore-WebConfiguration" in action["run"]
    # `$ErrorActionPreference` is PowerShell's own: nothing to bind
    assert not any("needs_binding" in v for v in data.get("vars", {}).values())


def test_an_unsure_untagged_block_is_done_by_hand() -> None:
    doc = _DOC.replace("FENCE", "").replace(
        "Start-Service -Name W3SVC", "sudo systemctl restart nginx"
    )
    phase = _plan(doc)["phases"][0]
    (step,) = phase["steps"]
    assert step["pause"] == "approve" and "run" not in step
    assert "Stop-Service -Name W3SVC" in step["name"]
