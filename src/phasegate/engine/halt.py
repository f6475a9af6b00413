"""How the runner ends running commands: on ``abort``, and on a SIGTERM/SIGINT to phasegate.

The runner keeps one ``StopRequest`` per task that runs a plan's command (``runner.stops``);
the executor acts on it (``executors/stopping.py``). Design and the systems followed:
docs/stopping.md.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING, NoReturn

from phasegate.engine.tasks import cancel_all
from phasegate.errors import OwnershipLost
from phasegate.executors.stopping import KILL_GRACE
from phasegate.run.events import RunInterrupted

if TYPE_CHECKING:
    from phasegate.engine.port import HaltPort


def vanish(runner: HaltPort, exc: OwnershipLost) -> NoReturn:
    """This process lost the run (store/postgres/ownership.py): another owner may drive it
    already, so it must neither write nor end anything. It exits as a killed engine would,
    without the orderly stop that ends running commands: each keeps running under its
    supervisor, and the run's next owner settles it from the supervisor's record
    (engine/orphans.py), instead of finding it killed and its outcome unknown."""
    runner.ctx.console.close()
    print(f"run {runner.state.run_id}: {exc.render()}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(exc.exit_code)


def runs_command(runner: HaltPort, kind: str, key: str) -> bool:
    """A plan's own command (a `run:` step, an undo, a rollback action): phasegate ends it
    politely. Canary steps and checks are simply cancelled; repeating them is harmless."""
    if kind == "run_step":
        return runner.targets.step(key).step.action == "run"
    if kind == "run_fleet":
        return True  # one stop request for every host command of the phase
    return kind == "run_undo" and (key in runner.targets.undos or "@" in key)


def stop_commands(runner: HaltPort, reason: str, *, wait: float, grace: float) -> list[str]:
    """Ask every running command to end; returns their keys."""
    for stop in runner.stops.values():
        stop.request(reason, wait=wait, grace=grace)
    return sorted(runner.stops)


def on_signal(runner: HaltPort, sig: int) -> None:
    name = signal.Signals(sig).name
    if runner.interrupted is None:
        # Temporal's graceful worker shutdown: nothing new starts, running commands get the
        # grace period to finish by themselves, then SIGTERM and SIGKILL.
        runner.interrupted = sig
        grace = runner.ctx.shutdown_grace
        ending = stop_commands(runner, name, wait=grace, grace=KILL_GRACE)
        if ending:
            runner.ctx.console.note(
                f"{name}: starting nothing new; {', '.join(ending)} may finish within "
                f"{grace:g}s (signal again to end them now)",
                "yellow",
            )
    else:
        # A second signal: the operator will not wait.
        stop_commands(runner, name, wait=0.0, grace=0.0)
    runner.wake.set()


async def drain(runner: HaltPort) -> None:
    """After a signal: checks, canary holds and analyses are cancelled (they are repeated on
    resume); commands finish, or are ended, within the grace period and journal their
    outcome; then ``run.interrupted``."""
    await cancel_all(t for k, t in runner.tasks.items() if k not in runner.stops)
    commands = [t for k, t in runner.tasks.items() if k in runner.stops]
    if commands:
        await asyncio.wait(commands)
    runner.reap()
    runner.tasks.clear()
    killed = [k for k, i in runner.state.items.items() if i.status == "interrupted"]
    sig = runner.interrupted or signal.SIGTERM
    runner.journal_many(
        [
            *runner.halt_triggers(),
            RunInterrupted(
                signal=sig,
                name=signal.Signals(sig).name,
                grace=runner.ctx.shutdown_grace,
                killed=tuple(killed),
            ),
        ],
        durable=True,
    )
    runner.ctx.console.note("interrupted: `phasegate resume` continues this run", "yellow")
