"""The nesting pre-pass (yamlsource._refuse_deep_nesting) runs first only when composing
could overflow the C stack; for every other document the outcome must be the pre-pass's:
the same refusal (message, line, column) or the same data, whichever path was taken."""

from __future__ import annotations

import threading

import pytest

from phasegate.errors import PlanError
from phasegate.plan import yamlsource
from phasegate.plan.yamlsource import MAX_DEPTH, load_yaml

N = MAX_DEPTH + 50
DOCS = {
    "flow lists, closed": "a: " + "[" * N + "]" * N + "\n",
    "flow lists, never closed": "a: " + "[" * N + "\n",
    "flow mappings": "a: " + "{b: " * N + "1" + "}" * N + "\n",
    "block mappings": "".join(" " * i + "k:\n" for i in range(N)) + " " * N + "v\n",
    "compact sequences": "a:\n  " + "- " * N + "x\n",
    "deep complex keys": "? " + "[" * N + "x" + "]" * N + "\n: 1\n",
    "deep, then a syntax error": "a: " + "[" * N + "]" * N + "\nb: [1, 2\n",
    "shallow, a syntax error": "a: [1, 2\nb: {c: d\n",
    "within the bound": "a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n",
    "a plan": "version: 1\nname: p\nphases:\n  - id: a\n    steps:\n      - run: [true]\n",
}


def outcome(text: str) -> object:
    try:
        data, _ = load_yaml(text, "plan.yaml")
    except PlanError as exc:
        return [(p.message, p.line, p.column, p.hint) for p in exc.problems]
    return data


@pytest.mark.parametrize("name", list(DOCS))
def test_the_outcome_is_the_pre_pass_s_whichever_path(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = DOCS[name]
    assert yamlsource._compose_is_safe(text)  # the fast path is the one under test
    fast = outcome(text)
    monkeypatch.setattr(yamlsource, "_compose_is_safe", lambda _: False)
    assert fast == outcome(text)
    if name not in {"within the bound", "a plan"}:
        assert isinstance(fast, list) and fast  # refused, not accepted
    if name.startswith(("flow", "block", "compact", "deep")):
        assert fast[0][0] == f"the document is nested more than {MAX_DEPTH} levels deep"  # type: ignore[index]


def test_a_document_that_could_overflow_the_stack_is_tokenized_first() -> None:
    # 100,000 open brackets: composing first would recurse past the C stack (a segfault).
    text = "a: " + "[" * 100_000
    assert not yamlsource._compose_is_safe(text)
    problems = outcome(text)
    assert isinstance(problems, list)
    assert problems[0][0] == f"the document is nested more than {MAX_DEPTH} levels deep"


def test_only_the_main_thread_s_stack_is_trusted() -> None:
    text = DOCS["a plan"]
    seen: list[bool] = []
    thread = threading.Thread(target=lambda: seen.append(yamlsource._compose_is_safe(text)))
    thread.start()
    thread.join()
    assert seen == [False] and yamlsource._compose_is_safe(text)
