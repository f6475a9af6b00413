"""The importer's first rule as a property (issue 11 §1, §3): on generated documents, nothing a
document makes conditional, alternative, troubleshooting or rollback lands on the forward path,
and a placeholder always needs binding.

Each generated document mixes forward sections (commands `echo FWD_<n>`) with one or more risky
parts written the ways runbooks write them: a "Rollback" heading, an "If the deploy fails"
heading or lead-in, a "Troubleshooting" section, "Option A / Option B" headings or bold lead-ins,
a sole "**Alternatively**, …" lead-in after a fence, a `<details><summary>Rollback</summary>`
block, a "- If it fails:" list item over its own fence. Every risky fence runs `echo RISKY_<n>`;
the property is that no unconditional step or gate contains `RISKY_`.
"""

from __future__ import annotations

import textwrap
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.markdown import MarkdownImportError, import_markdown


def _fence(command: str, lang: str = "bash") -> str:
    return f"```{lang}\n{command}\n```\n"


def _forward_items(data: dict[str, Any]) -> list[str]:
    """Every unconditional step's and gate's executable text (comment lines removed)."""
    found = []
    for phase in data["phases"]:
        for item in [*phase.get("steps", []), *phase.get("gates", [])]:
            text = item.get("run") or item.get("command")
            if isinstance(text, str) and item.get("when") is None:
                lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
                found.append("\n".join(lines))
            for gate in item.get("pre_gates", []):
                if isinstance(gate.get("command"), str):
                    found.append(gate["command"])
    return found


_FAILURE_HEADINGS = [
    "Rollback",
    "Roll back",
    "Rollback procedure",
    "If the deploy fails",
    "If the migration fails",
    "Troubleshooting",
    "Emergency rollback (when automated fails)",
    "Revert",
    "Common errors",
    "Example",
    "Si la migración falla",
    "Solución de problemas",
    "回滚",
    "Fehlerbehebung",
    "Known issues",
]
_FAILURE_LEAD_INS = [
    "**If it fails:**",
    "**Rollback procedure:**",
    "If the schema deployment fails:",
    "**On failure:**",
    "If something goes wrong, roll back:",
    "**Si falla:**",
    "In case of failure:",
    "Should the upgrade fail, run:",
]
_FORWARD_TITLES = ["Deploy", "Prepare", "Step 1: Build", "Phase 2: Release", "Verify", "Migrate"]
_OPTION_PAIRS = [
    ("Option A: rolling restart", "Option B: recreate"),
    ("Method 1: online", "Method 2 (NOT RECOMMENDED): offline"),
    ("In-place upgrade method", "Blue-green upgrade method"),
    ("Opción A: directo", "Opción B: con script"),
    ("Approach 1: rolling", "Approach 2: recreate"),
]


@st.composite
def risky_part(draw: st.DrawFn, n: int, level: int) -> str:
    """One part the document does not put on the forward path, its fences marked RISKY_<n>."""
    kind = draw(
        st.sampled_from(
            [
                "heading",
                "lead-in",
                "options-headings",
                "options-bold",
                "sole",
                "details",
                "item",
                "fence-options",
                "fence-recovery",
            ]
        )
    )
    hashes = "#" * level
    risky = f"echo RISKY_{n}"
    if kind == "heading":
        title = draw(st.sampled_from(_FAILURE_HEADINGS))
        return f"{hashes} {title}\n\n{_fence(risky)}"
    if kind == "lead-in":
        lead = draw(st.sampled_from(_FAILURE_LEAD_INS))
        return f"{hashes} {draw(st.sampled_from(_FORWARD_TITLES))}\n\n{lead}\n\n{_fence(risky)}"
    if kind in ("options-headings", "options-bold"):
        first, second = draw(st.sampled_from(_OPTION_PAIRS))
        sub = "#" * min(level + 1, 6)
        title = draw(st.sampled_from(_FORWARD_TITLES))
        if kind == "options-headings":
            return (
                f"{hashes} {title}\n\n{sub} {first}\n\n{_fence(risky + 'a')}\n"
                f"{sub} {second}\n\n{_fence(risky + 'b')}"
            )
        return (
            f"{hashes} {title}\n\n**{first}**\n\n{_fence(risky + 'a')}\n"
            f"**{second}**\n\n{_fence(risky + 'b')}"
        )
    if kind == "sole":
        # the first way and its alternative: neither may run unconditionally, both never
        return (
            f"{hashes} {draw(st.sampled_from(_FORWARD_TITLES))}\n\n{_fence(risky + 'a')}\n"
            f"**Alternatively**, do it through the API:\n\n{_fence(risky + 'b')}"
        )
    if kind == "fence-options":  # "# Option A: …" / "# Option B: …" paragraphs of one fence
        first, second = draw(st.sampled_from(_OPTION_PAIRS[:2]))
        body = f"# {first}\n{risky}a\n\n# {second}\n{risky}b"
        return f"{hashes} {draw(st.sampled_from(_FORWARD_TITLES))}\n\n{_fence(body)}"
    if kind == "fence-recovery":  # the forward command, then "# If it fails" and its remedy
        lead = draw(st.sampled_from(["# If it fails", "# On rollback", "# If the upgrade fails:"]))
        body = f"echo FWD_{n}\n\n{lead}\n{risky}"
        return f"{hashes} {draw(st.sampled_from(_FORWARD_TITLES))}\n\n{_fence(body)}"
    if kind == "details":
        return (
            f"{hashes} {draw(st.sampled_from(_FORWARD_TITLES))}\n\n<details>\n"
            f"<summary>Rollback</summary>\n\n{_fence(risky)}\n</details>\n"
        )
    return (
        f"{hashes} {draw(st.sampled_from(_FORWARD_TITLES))}\n\n"
        f"- If it fails:\n\n  ```bash\n  {risky}\n  ```\n"
    )


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, bool]:
    """A document of forward sections and risky parts; also whether any risky part is a
    sole alternative (whose first way is legitimately conditional too)."""
    parts = [f"# {draw(st.sampled_from(['Release 2.4', 'Upgrade runbook', 'Cutover plan']))}\n"]
    count = draw(st.integers(min_value=1, max_value=5))
    for n in range(count):
        level = draw(st.integers(min_value=2, max_value=3))
        if draw(st.booleans()):
            title = draw(st.sampled_from(_FORWARD_TITLES))
            prose = draw(st.sampled_from(["", "Run this on the bastion:\n\n", "Then:\n\n"]))
            parts.append(f"{'#' * level} {title}\n\n{prose}{_fence(f'echo FWD_{n}')}")
        parts.append(draw(risky_part(n, level)))
    return "\n".join(parts), False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_nothing_conditional_alternative_or_rollback_runs_forward(doc: tuple[str, bool]) -> None:
    text, _ = doc
    try:
        data = import_markdown(text, "GEN.md").data
    except MarkdownImportError:
        return  # nothing to run (exit 2 with a reason): nothing runs forward either
    leaked = [run for run in _forward_items(data) if "RISKY_" in run]
    assert not leaked, f"{leaked} on the forward path of:\n{text}"


# (what the command says, the placeholder the binding names)
_PLACEHOLDERS = [
    ("<node>", "node"),
    ("<REV>", "REV"),
    ("YOUR_TOKEN", "YOUR_TOKEN"),
    ("your_api_key_here", "your_api_key_here"),
    ("backup_YYYYMMDD.sql", "YYYYMMDD"),
    ("v1.27.x", "1.27.x"),
    ("0xPROXY_ADDRESS", "0xPROXY_ADDRESS"),
    ("[cluster name]", "cluster name"),
    ("{environment}", "environment"),
    ("abc123", "abc123"),
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_PLACEHOLDERS),
    st.sampled_from(
        ["kubectl drain {}", "curl -H 'Authorization: {}' https://x", "deploy --to {}"]
    ),
    st.sampled_from(_FORWARD_TITLES),
    st.booleans(),
)
def test_a_placeholder_always_needs_binding(
    written: tuple[str, str], template: str, title: str, in_item: bool
) -> None:
    placeholder, token = written
    command = template.format(placeholder)
    body = f"1. Do it:\n\n   ```bash\n   {command}\n   ```\n" if in_item else _fence(command)
    result = import_markdown(f"# Runbook\n\n## {title}\n\n{body}", "GEN.md")
    data = result.data
    bound = [
        v for v in data.get("vars", {}).values() if isinstance(v, dict) and v.get("needs_binding")
    ]
    assert bound, f"{placeholder!r} is not flagged in {command!r}"
    assert any(token in str(v["needs_binding"]) for v in bound), bound
    assert placeholder not in "\n".join(_forward_items(data))  # never run literally
    assert not result.report.get("executable"), "a plan with a placeholder is not executable"


def test_generated_documents_strategy_makes_forward_steps() -> None:
    """The property is not vacuous: a forward section's command does run forward."""
    text = textwrap.dedent(
        """\
        # Release 2.4

        ## Deploy

        ```bash
        echo FWD_0
        ```

        ## Rollback

        ```bash
        echo RISKY_0
        ```
        """
    )
    runs = _forward_items(import_markdown(text, "GEN.md").data)
    assert any("FWD_0" in r for r in runs) and not any("RISKY_" in r for r in runs)
