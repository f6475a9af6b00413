"""The importer against a labelled set of real corpus documents (issue 11, acceptance).

The expectations in tests/markdown/labelled/*.yaml were written by reading each document as a
careful SRE would; tests/markdown/labelled_check.py imports the document with the real importer
and judges the real plan model. Two properties:

* no SAFETY violation: nothing the document makes conditional, alternative, troubleshooting,
  rollback or example runs unconditionally forward; no never-ending command is a plain step or
  gate; no non-failure list is a trigger; no placeholder or empty plan is claimed executable.
  A violation nobody could fix yet is a strict xfail naming the document and why (below);
* the share of expectations met stays at or above the floor measured when the set was written
  (raise it as the importer improves; `scripts/labelled_report.py` prints the detail).
"""

from __future__ import annotations

import pytest

from tests.markdown import labelled_check as lc

needs_corpus = pytest.mark.skipif(not lc.CORPUS.is_dir(), reason=f"no corpus at {lc.CORPUS}")

# measured share of expectations met, rounded down (see docs/markdown-import.md)
SHARE_FLOOR = 0.99


def _outcomes() -> list[lc.Outcome]:
    return lc.evaluate_all()


@pytest.fixture(scope="module")
def outcomes() -> list[lc.Outcome]:
    return _outcomes()


def _safety_params() -> list[object]:
    params: list[object] = []
    for spec in lc.load_specs():
        # a known violation nobody could fix yet carries `xfail: why` in its labelled file
        labels = [
            (str(e.get("cmd") or e.get("phrase") or e.get("placeholder")), e.get("xfail"))
            for e in spec.get("expectations", [])
            if lc.is_safety(e)
        ]
        if "executable" in spec and spec["executable"] is False:
            labels.append(("executable=False", spec.get("executable_xfail")))
        for label, why in labels:
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            params.append(
                pytest.param(spec["doc"], label, marks=marks, id=f"{spec['doc'][:24]}:{label[:40]}")
            )
    return params


def test_labelled_set_is_large_and_varied() -> None:
    specs = lc.load_specs()
    assert len(specs) >= 25, "issue 11 asks for at least 25 labelled documents"
    kinds = {e["kind"] for s in specs for e in s["expectations"]}
    assert kinds >= lc.KINDS - {"executable"}, f"missing kinds: {lc.KINDS - kinds}"
    for spec in specs:
        assert (lc.CORPUS / spec["doc"]).is_file() or not lc.CORPUS.is_dir(), spec["doc"]
        for exp in spec["expectations"]:
            assert exp["kind"] in lc.KINDS, (spec["_file"], exp)
            assert exp.get("why") and exp.get("line"), (spec["_file"], exp)


@needs_corpus
@pytest.mark.parametrize(("doc", "label"), _safety_params())
def test_no_safety_violation(outcomes: list[lc.Outcome], doc: str, label: str) -> None:
    found = [
        o
        for o in outcomes
        if o.doc == doc and o.label == label and (o.kind in lc.SAFETY_KINDS or o.kind == "rollback")
    ]
    assert found, (doc, label)
    bad = [o.render() for o in found if o.safety_violation]
    assert not bad, "\n".join(bad)


@needs_corpus
def test_share_of_expectations_met(outcomes: list[lc.Outcome]) -> None:
    met = sum(o.met for o in outcomes)
    print(f"labelled set: {met}/{len(outcomes)} expectations met ({lc.share(outcomes):.1%})")
    assert lc.share(outcomes) >= SHARE_FLOOR, "\n".join(o.render() for o in outcomes if not o.met)
