"""The import's speed-ups give the answers of the code they replace (docs/performance.md).

* ``shellsyntax.complete_unit`` finds where a command over several lines ends from one parse
  of its first command (``_first_end``) instead of a parse of each longer prefix: the same
  end and tree as the prefix-by-prefix loop, on heredocs, continuations, open quotes,
  ``case … esac``, ``if … fi``, loops left open; and the work grows linearly with the length
  of an open loop (it grew quadratically: a 200-line one cost seconds).
* memo.py: the memoized text functions (``mutation.mutates``, rules' predicates) answer as
  their uncached selves, and ``memo.clear`` empties every cache (the bench's cold import).
* A document four times as long costs about four times as much (per MB ratio, CPU time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bashlex  # type: ignore[import-untyped]
import pytest

from phasegate.markdown import import_markdown_file, memo, mutation, rules, shellsyntax
from phasegate.markdown.placeholders import mask_for_parsing

TRICKY = {
    "heredoc": "cat <<EOF > /etc/app.conf\nport: 80\n# not a comment\nEOF\nsystemctl reload app",
    "heredoc in a loop": (
        "for h in a b; do\n  ssh $h sh <<'EOS'\n    rm -f /tmp/x\nEOS\ndone\necho ok"
    ),
    "continuation": "kubectl apply \\\n  -f deploy.yaml \\\n  -n prod\nkubectl get pods",
    "continuation at the end": "helm upgrade app ./chart \\\n  --wait \\",
    "open quote": 'echo "it\'s\nstill quoted"\necho done',
    "open quote to the end": "echo 'never closed\nkubectl get pods\nkubectl get svc",
    "case": (
        'case "$1" in\n  start) systemctl start app ;;\n  stop) systemctl stop app ;;\nesac\necho x'
    ),
    "if across lines": (
        "if curl -fs http://localhost/health; then\n  echo up\nelse\n  exit 1\nfi\nls"
    ),
    "nested": "for i in 1 2; do\n  if [ $i = 1 ]; then\n    echo one\n  fi\ndone\necho end",
    "loop left open": "for i in 1 2 3; do\n  kubectl get pods -n ns$i\n  sleep 1\n",
    "if left open": "if true; then\n  echo a\necho b",
    "pipe across lines": "kubectl get pods |\n  grep Running |\n  wc -l\necho next",
    "and across lines": "make build &&\n  make test\nmake deploy",
    "substitution across lines": 'NODES=$(kubectl get nodes \\\n  -o name)\necho "$NODES"',
    "braces": "{\n  echo a\n  echo b\n} > /tmp/out\necho c",
    "subshell": "(\n  cd /srv && ./deploy.sh\n)\necho d",
    "function": "wait_ready() {\n  until curl -fs localhost; do sleep 1; done\n}\nwait_ready",
    "arithmetic": "for ((i=0; i<3; i++)); do\n  echo $i\ndone",
    "double brackets": "if [[ -f /etc/app ]]; then\n  echo yes\nfi",
    "prose with an apostrophe": "Don't run this in prod\nkubectl get pods\nIt's fine",
    "stray closer": "done\nfi\necho after",
    "placeholders": (
        "kubectl -n <namespace> get pods > <file>\nfor x in <list>; do\n  echo $x\ndone"
    ),
}


def _prefix_by_prefix(lines: list[str], start: int) -> tuple[int | None, Any]:
    """The loop ``complete_unit`` ran before (each growing prefix parsed)."""
    limit = min(len(lines), start + shellsyntax.MAX_UNIT_LINES)
    heredoc = shellsyntax._heredoc_end(lines, start)
    if heredoc is not None:
        verdict, tree = shellsyntax.parse(shellsyntax._HEREDOC.sub("", lines[start]))
        return heredoc, tree if verdict == "ok" else None
    for end in range(start + 1, limit + 1):
        text = "\n".join(lines[start:end])
        if end < limit and lines[end - 1].rstrip().endswith("\\"):
            continue
        verdict, tree = shellsyntax.parse(text)
        if verdict == "ok":
            return end, tree
        if verdict == "incomplete":
            continue
        opinion = shellsyntax.bash_n(text)
        if opinion == "ok":
            return end, None
        if opinion != "incomplete":
            return None, None
    return None, None


def _dump(tree: Any) -> list[str] | None:
    return None if tree is None else [node.dump() for node in tree]


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_complete_unit_ends_where_the_prefix_loop_ended(name: str) -> None:
    lines = [mask_for_parsing(line) for line in TRICKY[name].splitlines()]
    for start in range(len(lines)):
        memo.clear()
        expected_end, expected_tree = _prefix_by_prefix(lines, start)
        memo.clear()
        end, tree = shellsyntax.complete_unit(lines, start)
        assert (end, _dump(tree)) == (expected_end, _dump(expected_tree)), (name, start)


def test_complete_unit_reads_the_multi_line_commands_whole() -> None:
    """The values, not only the agreement: each construct is one unit to its closing line."""
    lines = TRICKY["nested"].splitlines()
    assert shellsyntax.complete_unit(lines, 0)[0] == 5  # for … done, with the if inside
    assert shellsyntax.complete_unit(TRICKY["heredoc"].splitlines(), 0)[0] == 4
    assert shellsyntax.complete_unit(TRICKY["pipe across lines"].splitlines(), 0)[0] == 3
    open_loop = TRICKY["loop left open"].splitlines()
    assert shellsyntax.complete_unit(open_loop, 0) == (None, None)  # never closed: text
    assert shellsyntax.complete_unit(open_loop, 1)[0] == 2  # its body's lines are commands


def _parsed_characters(script_lines: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """Characters bashlex was given while the fence was cut into units (cold caches)."""
    seen = [0]

    def counting(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(text: str, *args: Any, **kwargs: Any) -> Any:
            seen[0] += len(text)
            return real(text, *args, **kwargs)

        return call

    with monkeypatch.context() as patch:
        patch.setattr(bashlex, "parse", counting(bashlex.parse))
        patch.setattr(bashlex.parser, "parsesingle", counting(bashlex.parser.parsesingle))
        memo.clear()
        from phasegate.markdown import shellparse

        units = shellparse.analyse("\n".join(script_lines))
    assert units[0].kind != "command"  # the open `for` line is text, never a command
    assert all(u.kind == "command" for u in units[1:])  # the body's lines are commands
    return seen[0]


def test_an_open_loop_costs_parses_linear_in_its_length(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `for … do` never closed (a document that elides the `done`) over n lines: the
    characters parsed grow like n (4× for 4× the lines), not like n² (16×)."""

    def fence(n: int) -> list[str]:
        return ["for i in 1 2 3; do"] + [f"kubectl get pods -n ns{i}" for i in range(n)]

    small = _parsed_characters(fence(50), monkeypatch)
    large = _parsed_characters(fence(200), monkeypatch)
    assert large / small < 6, (small, large)


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_mutates_cached_answers_as_uncached(name: str) -> None:
    text = TRICKY[name]
    memo.clear()
    uncached = mutation.mutates.__wrapped__(text)
    assert mutation.mutates(text) == uncached  # a miss
    assert mutation.mutates(text) == uncached  # a hit
    for line in text.splitlines():
        assert mutation.mutates(line) == mutation.mutates.__wrapped__(line)


def test_mutates_values_survive_the_cache() -> None:
    memo.clear()
    for _ in range(2):  # the second round is answered from the cache
        assert mutation.mutates(TRICKY["heredoc"]) == "writes `/etc/app.conf`"
        assert mutation.mutates("kubectl get pods") is None
        assert mutation.mutates(TRICKY["continuation"]) == "`kubectl apply` changes things"


PROSE = [
    "Only after the IC says go:",
    "Ask the DBA before you continue",
    "Rollback",
    "## Verify",
    "(after 2 weeks at 100%)",
    "If the canary fails, stop and ask in #ops",
    "Optional: warm the cache",
    "kubectl get pods",
    "",
]


@pytest.mark.parametrize(
    "predicate",
    [
        rules.asks_human,
        rules.defers,
        rules.is_rollback_title,
        rules.is_verify_text,
        rules.is_checklist_text,
        rules.person_decides,
        rules.is_conditional_text,
        rules.stops_to_ask,
        rules.is_optional_part,
        rules.is_reference_title,
    ],
    ids=lambda f: f.__name__,
)
def test_rule_predicates_cached_answer_as_uncached(predicate: Any) -> None:
    memo.clear()
    expected = [predicate.__wrapped__(text) for text in PROSE]
    assert [predicate(text) for text in PROSE] == expected
    assert [predicate(text) for text in PROSE] == expected  # from the cache
    assert predicate.cache_info().hits >= len(set(PROSE))


def test_some_rules_say_yes_and_no() -> None:
    """The cached predicates still tell texts apart (not one cached answer for all)."""
    memo.clear()
    assert rules.asks_human("Only after the IC says go:")
    assert not rules.asks_human("kubectl get pods")
    assert rules.is_rollback_title("Rollback")
    assert not rules.is_rollback_title("## Verify")


def test_memo_clear_empties_every_cache() -> None:
    mutation.mutates("rm -rf /tmp/x")
    rules.asks_human("Ask the DBA before you continue")
    shellsyntax.parse("echo hi")
    caches = [mutation.mutates, rules.asks_human, shellsyntax.parse, shellsyntax.bash_n]
    assert all(c in memo._CACHES for c in caches)
    assert mutation.mutates.cache_info().currsize > 0
    memo.clear()
    assert [c.cache_info().currsize for c in memo._CACHES] == [0] * len(memo._CACHES)


def _document(sections: int) -> str:
    """A runbook of distinct sections (no two alike: content caches cannot help the larger
    one more than the smaller)."""
    parts = ["# Rollout of the billing service\n"]
    for n in range(sections):
        parts.append(
            f"## Phase {n}: deploy shard-{n}\n\n"
            f"Deploy shard {n} of the service to the cluster `prod-{n}`.\n\n"
            f"```bash\nkubectl apply -f shard-{n}.yaml -n billing-{n}\n"
            f"for i in 1 2 3; do\n  kubectl rollout status deploy/shard-{n} -n billing-{n}\n"
            f"done\n```\n\n"
            f"### Verify shard {n}\n\n"
            f"```bash\ncurl -fsS http://shard-{n}.internal/health\n```\n\n"
            f"- [ ] the error rate of shard {n} stays below 1 %\n"
            f"- [ ] p99 latency of shard {n} below {200 + n} ms\n\n"
            f"### Rollback shard {n}\n\n"
            f"```bash\nkubectl rollout undo deploy/shard-{n} -n billing-{n}\n```\n\n"
        )
    return "".join(parts)


def _cpu_per_byte(path: Path) -> float:
    samples = []
    for _ in range(3):
        memo.clear()
        start = time.process_time()
        import_markdown_file(path)
        samples.append(time.process_time() - start)
    return min(samples) / path.stat().st_size


def test_import_time_grows_linearly_with_the_document(tmp_path: Path) -> None:
    """bench/markdown_import.py --scaling as a test: the CPU time per byte of a document four
    times as long is about the same (≈ 1× for a linear import, ≈ 4× for a quadratic one). A
    ratio of two measurements in the same process, so a loaded machine slows both."""
    small, large = tmp_path / "small.md", tmp_path / "large.md"
    small.write_text(_document(30), encoding="utf-8")
    large.write_text(_document(120), encoding="utf-8")
    counts = import_markdown_file(large).report["counts"]
    # every section read as written: a phase, its step, its checks and its way back
    assert (counts["phases"], counts["steps"], counts["checks"], counts["rollback"]) == (
        120,
        120,
        360,
        120,
    )
    import_markdown_file(small)  # warm: modules the import loads lazily
    growth = _cpu_per_byte(large) / _cpu_per_byte(small)
    assert growth < 2.0, f"per-byte import time grew {growth:.2f}× for 4× the document"


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_analyse_cached_gives_the_uncached_units(name: str) -> None:
    from phasegate.markdown import shellparse

    memo.clear()
    expected = shellparse._analyse(TRICKY[name])
    assert shellparse.analyse(TRICKY[name]) == expected  # a miss
    assert shellparse.analyse(TRICKY[name]) == expected  # a hit


def test_analyse_hands_out_fresh_units() -> None:
    """A caller that changes the units it got cannot change what the next caller gets."""
    from phasegate.markdown import shellparse

    memo.clear()
    script = "kubectl apply -f a.yaml\nwatch kubectl get pods\nThis is prose."
    first = shellparse.analyse(script)
    assert [u.kind for u in first] == ["command", "command", shellparse.PROSE]
    assert first[1].forever is not None  # `watch` never ends
    first[0].lines.append("rm -rf /")
    first[0].kind = "comment"
    again = shellparse.analyse(script)
    assert again[0].lines == ["kubectl apply -f a.yaml"] and again[0].kind == "command"
    assert shellparse.clean(script).commands == 1


COMMANDS = [
    "kubectl -n <namespace> rollout undo deploy/<service>",
    "curl -H 'Authorization: Bearer YOUR_TOKEN' https://api.example.com/${ENV}/v1",
    "cat <<'EOF'\n${NOT_A_PLACEHOLDER}\nEOF\nhelm upgrade {{release}} ./chart",
    "docker inspect --format '{{.State.Health.Status}}' app",
    "echo $IMAGE_TAG > /tmp/tag",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_placeholders_cached_find_equals_uncached(command: str) -> None:
    from phasegate.markdown import placeholders

    memo.clear()
    expected = placeholders._find(command)
    first = placeholders.find(command)
    assert first == expected
    first.clear()  # a caller's list (and its Found objects) are its own
    assert placeholders.find(command) == expected


def test_placeholders_found_values_survive_the_cache() -> None:
    from phasegate.markdown import placeholders

    memo.clear()
    for _ in range(2):
        found = placeholders.find(COMMANDS[0])
        assert [f.text for _, _, f in found] == ["<namespace>", "<service>"]
        assert [COMMANDS[0][s:e] for s, e, _ in found] == ["<namespace>", "<service>"]
    assert placeholders.find(COMMANDS[3]) == []  # the tool's own template, not the reader's


def test_route_labels_cached_equal_uncached() -> None:
    from phasegate.markdown import routes

    memo.clear()
    texts = ["If yes → go to 3a; if no → see step 4b.", "No digits here → go to b", ""]
    expected = [routes._routes_in.__wrapped__(t) for t in texts]
    assert [routes._routes_in(t) for t in texts] == expected
    assert [routes._routes_in(t) for t in texts] == expected
    assert expected == [("3a", "4b"), (), ()]
