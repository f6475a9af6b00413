"""A secret is masked in the forms steps print it in as often as the value itself: base64
(standard and URL-safe, at any byte alignment: a token inside an HTTP Basic header or a
Kubernetes Secret's data), URL-escaped, JSON-escaped, shell-quoted (phasegate/masking.py).
The GitHub Actions runner masks the same encodings."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.masking import MASK, MIN_ENCODED, Masker, base64_cores
from tests.conftest import CLI, write_plan

SECRET = "s3cr3t-Value/with+plus&more=1"


@settings(max_examples=300, deadline=None)
@given(
    secret=st.text(min_size=MIN_ENCODED, max_size=48).filter(lambda s: s.strip()),
    before=st.binary(max_size=7),
    after=st.binary(max_size=7),
    urlsafe=st.booleans(),
)
def test_base64_of_any_stream_holding_the_secret_is_masked(
    secret: str, before: bytes, after: bytes, urlsafe: bool
) -> None:
    """Whatever stands before and after the secret in the encoded stream, one of its cores
    is in the text, and the masked text no longer decodes to anything holding the secret."""
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    text = encode(before + secret.encode("utf-8") + after).decode("ascii")
    assert any(core in text for core in base64_cores(secret))
    masked = Masker([secret]).text(text)
    assert MASK in masked
    for start in range(len(masked)):
        for end in range(start + 4, len(masked) + 1, 4):
            try:
                decoded = base64.b64decode(masked[start:end], altchars=b"-_" if urlsafe else None)
            except ValueError:
                continue
            assert secret.encode("utf-8") not in decoded


def test_short_secrets_mask_only_their_literal_forms() -> None:
    """Below MIN_ENCODED characters a base64 core would be a few characters that ordinary
    base64 text holds by chance: only the literal forms are masked."""
    masker = Masker(["abc1234"])
    blob = base64.b64encode(b"xx abc1234 yy").decode()
    assert masker.text(blob) == blob
    assert masker.text("key=abc1234") == f"key={MASK}"


def test_url_and_json_escaped_forms_are_masked() -> None:
    masker = Masker([SECRET])
    for form in (quote(SECRET, safe=""), quote(SECRET), quote_plus(SECRET), json.dumps(SECRET)):
        assert SECRET not in masker.text(form) and MASK in masker.text(form), form


def test_a_run_that_prints_encoded_forms_leaks_none(cli: CLI) -> None:
    """A real run whose step prints the token base64-encoded (alone, inside a Basic header,
    URL-safe), URL-escaped and JSON-escaped, and writes one as an output: no artifact —
    terminal, logs, journal, status, report — holds any of those forms."""
    plan = write_plan(
        cli.cwd,
        """
        version: 1
        name: encodings
        vars:
          TOKEN: {env: API_TOKEN, secret: true}
        phases:
          - id: p
            steps:
              - name: prints encodings
                run: |
                  printf '%s' "$TOKEN" | base64 -w0; echo
                  printf 'Authorization: Basic %s\\n' "$(printf 'ci:%s' "$TOKEN" | base64 -w0)"
                  printf '%s' "$TOKEN" | base64 -w0 | tr '+/' '-_'; echo
                  python3 -c 'import os, urllib.parse as u; print(u.quote(os.environ["TOKEN"], ""))'
                  python3 -c 'import os, json; print(json.dumps({"t": os.environ["TOKEN"]}))'
                  echo "b64=$(printf '%s' "$TOKEN" | base64 -w0)" >> "$PHASEGATE_OUTPUT"
        """,
    )
    run = cli("run", str(plan), env={"API_TOKEN": SECRET})
    assert run.returncode == 0, run.stderr
    outputs = [run.stdout, run.stderr]
    for args in (
        ["logs", "last"],
        ["status", "last", "--json"],
        ["report", "last", "--format", "json"],
    ):
        shown = cli(*args)
        assert shown.returncode == 0, (args, shown.stderr)
        outputs.append(shown.stdout)
    raw = SECRET.encode()
    forms = {
        base64.b64encode(raw).decode(),
        base64.b64encode(b"ci:" + raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        quote(SECRET, safe=""),
        json.dumps(SECRET)[1:-1],
    }
    # The step ran with the real value: its log shows each line, masked.
    log = cli("logs", "last").stdout
    assert log.count(MASK) >= 5, log
    files = [p for p in cli.state_dir.rglob("*") if p.is_file()]
    for form in forms:
        core = form.rstrip("=")[3:-3]  # the part that holds only the secret's bits
        for text in outputs:
            assert core not in text, (form, text)
        for path in files:
            assert core.encode() not in Path(path).read_bytes(), (form, path)
