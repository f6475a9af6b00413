"""Choices made on rollback: a phase's ``rollback_decision`` and an action's ``when``.

A document may offer two ways back ("Option A: revert the image / Option B: restore the
snapshot"). Running both would be wrong and guessing one unsafe, so the rollback stops at the
phase's decision (``rollback:PHASE/decide``, awaiting approval; the run pauses) until a person
chooses with ``phasegate approve RUN rollback:PHASE/decide --choose OPTION``; each way's
actions carry ``when: vars.VAR == 'option'`` and only the chosen one runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from phasegate.expr import ExprError, truthy
from phasegate.plan.model import Action, VarSpec
from phasegate.run.events import ItemFinished, ItemStarted
from phasegate.run.records import ItemBase

if TYPE_CHECKING:
    from phasegate.engine.port import RunPort


def decide_on_rollback(runner: RunPort, key: str) -> None:
    """The decision item: succeeded once a person chose (the choice is journalled with the
    approval), else awaiting approval (the rollback pauses there)."""
    choice, phase_id = runner.targets.rollback_decisions[key]
    base: ItemBase = {"key": key, "kind": "rollback", "phase": phase_id, "name": "decide"}
    chosen = runner.state.choices.get(choice.var)
    if chosen in choice.options:
        item = runner.state.items[key]
        runner.journal(
            ItemStarted.model_validate({**base, "attempt": item.attempt + 1, "command": "decide"})
        )
        runner.journal(
            ItemFinished.model_validate(
                {**base, "status": "succeeded", "message": f"chose {choice.var}={chosen}"}
            ),
            durable=True,
        )
        runner.ctx.console.item("rollback", f"decide: {chosen}", "succeeded")
        return
    # The plan's words for the ways (an imported runbook's own sentences: who decides, when),
    # so the person asked reads more than the options' names.
    spec = runner.ctx.plan.vars.get(choice.var)
    said = spec.description if isinstance(spec, VarSpec) and spec.description else None
    message = (
        f"the way to roll back {phase_id} is a person's choice: `phasegate approve "
        f"{runner.state.run_id} {key} --choose OPTION` (options: {', '.join(choice.options)})"
        + (f"; {said}" if said else "")
    )
    runner.journal(
        ItemFinished.model_validate({**base, "status": "awaiting_approval", "message": message}),
        durable=True,
    )
    runner.ctx.console.item("rollback", "decide", "awaiting_approval", message)


def skipped_by_when(runner: RunPort, key: str, base: ItemBase, action: Action) -> bool:
    """True (and the item journalled as skipped) when the action's ``when`` is false. A
    condition that cannot be evaluated skips too: on rollback, running an action nobody chose
    is worse than leaving it to a person (the journal says why)."""
    if action.when is None:
        return False
    try:
        run_it = truthy(action.when, runner.ctx.activation(runner.state))
        why = f"when: {action.when} is false"
    except ExprError as exc:
        run_it, why = False, f"when: {exc.message}; not run (do it by hand if it is needed)"
    if run_it:
        return False
    runner.journal(ItemFinished.model_validate({**base, "status": "skipped", "message": why}))
    runner.ctx.console.item(str(base["kind"]), str(base["name"]), "skipped")
    return True
