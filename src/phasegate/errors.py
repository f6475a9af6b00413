"""Every error phasegate raises on purpose derives from :class:`PhasegateError`.

The tree::

    PhasegateError                      exit 2 unless noted
    ├── PlanError                       a plan cannot be loaded or is invalid
    │   └── (carries a list of Problem: file:line:col, field path, message, hint)
    ├── UsageError                      a CLI invocation that cannot be honoured
    ├── StoreError                      the journal cannot be opened, read or written
    │   ├── JournalFull                 no space left: exit 130, the run stops resumable
    │   ├── JournalWriteFailed          another write error (I/O, read-only): exit 130 too
    │   ├── JournalDamaged              the file is corrupt or lost: exit 65 (EX_DATAERR)
    │   ├── SchemaTooNew                the store was written by a newer phasegate
    │   ├── EventUnreadable             a stored event does not fit its class (run/events.py)
    │   │   └── UnknownEventType        an event type this phasegate does not know
    │   └── InvalidTransition           an event that the run's state machine refuses
    ├── RunNotFound                     no run with that id (or prefix)
    ├── LockHeld                        another run holds the plan's lock
    ├── IdempotencyConflict             the key was used for a different plan
    └── RunStateError                   the verb does not apply to the run's state

Control flow is not failure: a paused run, an inconclusive gate or a retry are outcomes the
engine models as data (see ``run.state``), never exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass


class PhasegateError(Exception):
    """Root of phasegate's own errors; the CLI maps each to a message and an exit code."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan, located as precisely as the source allows."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    field: str | None = None  # dotted path, e.g. phases[1].steps[0].timeout
    hint: str | None = None

    def location(self) -> str:
        parts = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def render(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "hint": self.hint,
        }


class PlanError(PhasegateError):
    def __init__(self, problems: list[Problem], headline: str | None = None) -> None:
        self.problems = problems
        self.headline = headline
        super().__init__("\n".join(p.render() for p in problems))

    def render(self) -> str:
        n = len(self.problems)
        head = (self.headline or f"plan is invalid ({n} problem{'s' if n != 1 else ''})") + ":"
        return (
            head + "\n" + "\n".join("  " + p.render().replace("\n", "\n  ") for p in self.problems)
        )


class UsageError(PhasegateError):
    pass


class StoreError(PhasegateError):
    pass


class JournalFull(StoreError):
    """The disk is full. Nothing recorded is lost: the run stopped at its last committed event
    and resumes once there is space (exit 130, like an interrupted run)."""

    exit_code = 130


class JournalWriteFailed(StoreError):
    """A journal write failed for another reason than a full disk (an I/O error, a file made
    read-only). Steps may have run: the run stops at its last committed event and resumes once
    the journal is writable again, so the exit code is 130 like JournalFull, never 2."""

    exit_code = 130


class OwnershipLost(StoreError):
    """This process no longer owns the run: another owner claimed it (its owner epoch moved
    on), or the database session that held the run's ownership lock was lost, so another
    worker may have claimed it. The write was refused; this process stops and leaves the run
    to its new owner (exit 75, EX_TEMPFAIL: nothing is wrong with the run)."""

    exit_code = 75


class JournalDamaged(StoreError):
    """The journal file is corrupt (SQLite's quick_check fails, a row cannot be decoded) or was
    lost (0 bytes or missing beside existing run directories). Nothing is run against it.
    Exit 65 (EX_DATAERR from sysexits.h): the data, not the invocation, is wrong."""

    exit_code = 65


class SchemaTooNew(StoreError):
    pass


class EventUnreadable(StoreError):
    """A stored event cannot be read as its class says (a field of the wrong type)."""


class UnknownEventType(EventUnreadable):
    """A journal holds an event type this phasegate does not know: a newer release wrote it.
    Refused rather than skipped, since folding a run without it would show a wrong state."""


class InvalidTransition(StoreError):
    """The state machine refused an event: a bug or a corrupted journal, never user input."""


class RunNotFound(PhasegateError):
    pass


class LockHeld(PhasegateError):
    pass


class IdempotencyConflict(PhasegateError):
    pass


class RunStateError(PhasegateError):
    pass
