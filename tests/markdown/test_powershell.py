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


def test_a_block_reading_a_value_of_an_earlier_block_is_done_by_hand() -> None:
    """Each step is its own pwsh process: `$credentials` from the block before is empty."""
    doc = """\
        # Cutover

        ## Step 2: Create the endpoint

        ```
        $Credentials = Get-Credential
        ```

        ```
        $TSMA = Test-MigrationServerAvailability -Autodiscover -Credentials $credentials
        ```

        ```
        New-MigrationEndpoint -Name CutoverEndpoint -ConnectionSettings $TSMA.ConnectionSettings
        ```

        ```
        Set-Mailbox -Identity <mailbox name here> -Type Shared
        ```
        """
    steps = _plan(doc)["phases"][0]["steps"]
    assert all("run" not in s and s["pause"] == "approve" for s in steps), steps
    assert "Get-Credential" in steps[0]["name"]  # asks a person: never run unattended
    assert "Set-Mailbox" in steps[3]["name"]  # a placeholder in words: by hand


def test_unset_reads_knows_what_a_block_sets_itself() -> None:
    text = "$x = Get-Date\nforeach ($h in $hosts) { Write-Output $x $h $_ $env:HOME }"
    assert powershell.unset_reads(text) == ["hosts"]


def test_the_same_command_with_and_without_an_option_is_a_decision() -> None:
    doc = """\
        # Cutover

        ## Step 3: Create the batch

        Create the batch and start it at once with AutoStart:

        ```
        New-MigrationBatch -Name CutoverBatch -SourceEndpoint CutoverEndpoint -AutoStart
        ```

        This example also creates the batch; without AutoStart you start it later:

        ```
        New-MigrationBatch -Name CutoverBatch -SourceEndpoint CutoverEndpoint
        ```

        ```
        Get-Date
        ```
        """
    steps = _plan(doc)["phases"][0]["steps"]
    decision = steps[0]["pause"]["choose"]
    assert decision["options"] == ["with-autostart", "without-autostart"]
    runs = [s for s in steps if "run" in s]
    assert [s["when"] for s in runs[:2]] == [
        f"vars.{decision['var']} == 'with-autostart'",
        f"vars.{decision['var']} == 'without-autostart'",
    ]
    assert "when" not in runs[2]  # after the two ways: the section's path again


def test_a_dry_run_before_the_real_command_is_a_sequence() -> None:
    doc = """\
        # Apply

        ## Step 1

        ```bash
        kubectl apply -f app.yaml --dry-run=server
        ```

        Then apply it:

        ```bash
        kubectl apply -f app.yaml
        ```
        """
    steps = _plan(doc)["phases"][0]["steps"]
    assert [s["run"] for s in steps] == [
        "kubectl apply -f app.yaml --dry-run=server",
        "kubectl apply -f app.yaml",
    ]
    assert all("when" not in s for s in steps)
