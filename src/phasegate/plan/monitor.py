"""A phase's background monitor: a long-running observation command bounded by its phase.

Runbooks say "watch the rollout": ``kubectl get pods -w``, ``tail -f app.log``,
``watch -n 5 kubectl get pods``. Those commands never end by themselves, so as a step or a gate
they would hang until a timeout and then roll back a healthy deployment. A monitor starts when
its phase starts, runs beside the phase's steps and gates with its output logged, and is ended
(its process group: SIGTERM, then SIGKILL) when the phase ends, whatever way it ends. It only
observes: its exit never fails the phase. Docker Compose's ``depends_on`` sidecars and GitHub
Actions' job ``services`` are the model: started before the work, torn down after it.
"""

from __future__ import annotations

from pydantic import Field

from phasegate.options import Command, Duration, Identifier, Model


class Monitor(Model):
    name: Identifier = Field(description="unique within its phase; its log is `PHASE/monitor:NAME`")
    run: Command = Field(description="the observation command; it may run forever")
    every: Duration | None = Field(
        None,
        gt=0,
        description="start the command again this long after it ends (`watch -n 5 CMD` is "
        "`run: CMD` with `every: 5s`); without it, a monitor that ends by itself stays ended",
    )
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    shell: str | None = Field(None, description="overrides defaults.shell for this command")
    description: str | None = None
