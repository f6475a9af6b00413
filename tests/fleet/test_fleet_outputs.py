"""${steps.ID.outputs.KEY} on a host (engine/fleet_outputs.py): in a script it becomes a
reference to an environment variable carrying the value (never the value itself, so no value
is parsed as shell code); in a field it is the value."""

from __future__ import annotations

import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.engine.fleet_outputs import env_name, in_shell, in_text, output_env

IDS = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
VALUES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(max_examples=25, deadline=None)
@given(IDS, KEYS, VALUES)
def test_a_script_reads_the_value_from_its_environment_byte_for_byte(
    sid: str, key: str, value: str
) -> None:
    published = {sid: {key: value}}
    script = in_shell(f'printf "%s" "${{steps.{sid}.outputs.{key}}}"')
    assert script == f'printf "%s" "${{{env_name(sid, key)}}}"'  # the value is not in it
    done = subprocess.run(
        ["/bin/sh", "-c", script],
        env={**output_env(published), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    )
    assert done.stdout == value.encode()


@given(IDS, KEYS, VALUES)
def test_a_field_gets_the_value_and_unknown_references_stay(sid: str, key: str, value: str) -> None:
    published = {sid: {key: value}}
    text = f"a ${{steps.{sid}.outputs.{key}}} b ${{steps.{sid}.outputs.other_}} c"
    assert in_text(text, published) == f"a {value} b ${{steps.{sid}.outputs.other_}} c"


def test_names_are_identifiers() -> None:
    assert env_name("install-v2", "version") == "PHASEGATE_OUT_install_v2__version"
    assert output_env({"a": {"K": "1"}, "deploy/a": {"K": "2"}}) == {"PHASEGATE_OUT_a__K": "1"}
