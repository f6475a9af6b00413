"""What a policy finds: a violation with its policy, level, message and plan location."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["advisory", "soft", "hard"]
LEVELS: tuple[Level, ...] = ("advisory", "soft", "hard")
JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Violation:
    """One rule broken by one plan node (``path`` into the plan as written, ``()`` for the
    plan as a whole), located in the plan's source when the rule points at a node."""

    policy: str
    level: Level
    message: str
    path: JsonPath = ()
    language: str = ""  # rego | cel
    file: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def field(self) -> str:
        from phasegate.plan.yamlsource import format_path

        return format_path(self.path)

    def where(self) -> str:
        if self.file is None:
            return self.field
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return where + (f": {self.field}" if self.path else "")

    def render(self) -> str:
        where = self.where()
        head = f"{where}: " if where else ""
        return f"{head}[{self.level}] {self.policy}: {self.message}"

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "policy": self.policy,
            "level": self.level,
            "message": self.message,
            "field": self.field or None,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "language": self.language,
        }


@dataclass
class Verdict:
    """Every violation a pack found in one plan, and what admission makes of them."""

    violations: list[Violation] = field(default_factory=list)

    def at(self, level: Level) -> list[Violation]:
        return [v for v in self.violations if v.level == level]

    @property
    def hard(self) -> list[Violation]:
        return self.at("hard")

    @property
    def soft(self) -> list[Violation]:
        return self.at("soft")

    @property
    def advisory(self) -> list[Violation]:
        return self.at("advisory")
