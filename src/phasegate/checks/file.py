"""The ``file`` check: a path exists (or not), and its size, digest, content or entries.

Plan syntax::

    - file: ${TARGET}/app.txt            # relative paths are relative to the plan's directory
      expect:
        exists: true                     # default; `exists: false` or `absent: true` for "gone"
        kind: file                       # file | dir
        min_size: 1                      # bytes, files only
        sha256: 9f86d081...              # hex digest of the content, files only
        contains: "ready"                # text the file must contain, files only
    - file: docs/specs/PROOF-001/
      expect: {count: 8}                 # entries of a directory: a number or a comparison
    - file: gate_logs/
      expect: {glob: "*.log", count: {">=": 1}}   # `glob` alone means at least one match

``count`` counts every entry of the directory (hidden ones included) matching ``glob``
(default ``*``; ``**/*.log`` descends). A missing path or a mismatch is ``failed``; a path that
cannot be read (permissions) is ``error``.

As a host gate of a fleet phase on ssh hosts the path is the host's (``PluginContext.host_files``:
stat, ``sha256sum``, ``grep -F``, ``find`` there; relative to the login's home), and the same
verdicts follow; ``on: controller`` reads this machine's instead. A host that cannot be reached,
or a connection lost while reading, is ``error``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from phasegate.checks._hostfiles import depth_of, host_path, matching
from phasegate.checks._support import comparison, expand_all, resolve_path, time_limit, words
from phasegate.checks.base import CheckSpec, Observation
from phasegate.compare import matches
from phasegate.executors.ssh_files import HostFileError, HostFiles, HostLost
from phasegate.options import Model
from phasegate.plugin import PluginContext
from phasegate.run.record import JsonDict

_CHUNK = 1 << 20


class FileExpect(Model):
    exists: bool | None = Field(
        None, description="the path must exist (true, the default) or must not exist (false)"
    )
    absent: bool | None = Field(None, description="same as exists: false")
    kind: Literal["file", "dir"] | None = Field(
        None, description="the path must be a regular file or a directory"
    )
    min_size: int | None = Field(None, ge=0, description="minimum size in bytes (files)")
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$", description="hex SHA-256 of the content (files)"
    )
    contains: str | None = Field(None, description="text the file must contain (files)")
    count: Any = Field(
        None,
        description="number of directory entries matching `glob`: a number or a comparison "
        "such as {'>=': 8}",
    )
    glob: str | None = Field(
        None, min_length=1, description="pattern for `count` (default `*`); alone: count >= 1"
    )

    @field_validator("count")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | dict):
            raise ValueError("count must be a number or a comparison such as {'>=': 8}")
        return comparison(value)

    @model_validator(mode="after")
    def _coherent(self) -> FileExpect:
        if self.absent is not None and self.exists is not None and self.absent == self.exists:
            raise ValueError("`absent` and `exists` contradict each other; keep one")
        if self.wants_absent():
            others = [
                name
                for name in ("kind", "min_size", "sha256", "contains", "count", "glob")
                if getattr(self, name) is not None
            ]
            if others:
                raise ValueError(f"a path expected to be absent cannot also expect {others[0]}")
        return self

    def wants_absent(self) -> bool:
        return self.absent is True or self.exists is False

    def expected_count(self) -> Any:
        if self.count is not None:
            return self.count
        return {">=": 1} if self.glob is not None else None


class FileCheck(CheckSpec):
    """A path on this machine: existence, type, size, SHA-256, content, directory entries."""

    kind: ClassVar[str] = "file"

    file: str = Field(
        min_length=1, description="path to check; ${VAR}s expand; relative to the plan's directory"
    )
    expect: FileExpect = Field(default_factory=FileExpect, description="what must hold")
    on: Literal["host", "controller"] | None = Field(
        None,
        description="a fleet phase's host gate only: read the host's file (host, the default "
        "on ssh hosts) or this machine's (controller: e.g. a report a step fetched here)",
    )

    def describe(self) -> str:
        return self.name or f"file {self.file}"

    def expectation(self) -> str:
        e = self.expect
        if e.wants_absent():
            return "absent"
        parts: list[str] = [e.kind or "exists"]
        if e.min_size is not None:
            parts.append(f"at least {e.min_size} bytes")
        if e.sha256 is not None:
            parts.append(f"sha256 {e.sha256[:12]}…")
        if e.contains is not None:
            parts.append(f"contains {e.contains!r}")
        if e.expected_count() is not None:
            parts.append(f"{e.glob or '*'} entries {words(e.expected_count())}")
        return ", ".join(parts)

    async def evaluate(self, ctx: PluginContext) -> Observation:
        if ctx.host_files is not None and self.on != "controller":
            return await self._on_host(ctx, ctx.host_files)
        path = resolve_path(ctx, self.file)
        contains = None if self.expect.contains is None else ctx.expand(self.expect.contains)
        count = expand_all(self.expect.expected_count(), ctx.expand)
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._inspect, path, contains, count), time_limit(self, ctx)
            )
        except TimeoutError:
            return Observation(
                "error",
                {"path": path},
                f"{path}: could not inspect within {time_limit(self, ctx):g}s",
            )

    def _inspect(self, path: str, contains: str | None, count: Any) -> Observation:
        expect = self.expect
        observed: JsonDict = {"path": path}
        try:
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            observed["exists"] = False
            if expect.wants_absent():
                return Observation("passed", observed, f"{path} is absent, as expected")
            return Observation("failed", observed, f"expected {path} to exist; it does not")
        except OSError as exc:
            return Observation("error", observed, f"cannot stat {path}: {exc.strerror}")
        refused = self._refusal(path, info.st_mode, info.st_size, contains, count, observed)
        if refused is not None:
            return refused
        try:
            return self._compare(path, info, contains, count, observed)
        except OSError as exc:
            return Observation("error", observed, f"cannot read {path}: {exc.strerror or exc}")

    def _refusal(
        self, path: str, mode: int, size: int, contains: str | None, count: Any, observed: JsonDict
    ) -> Observation | None:
        """The verdict an existing path gets from its type alone (None: compare further)."""
        expect = self.expect
        is_dir = stat.S_ISDIR(mode)
        found = "dir" if is_dir else "file" if stat.S_ISREG(mode) else "other"
        observed.update(exists=True, kind=found)
        if not is_dir:
            observed["size"] = size
        if expect.wants_absent():
            return Observation("failed", observed, f"expected {path} to be absent; found a {found}")
        if expect.kind is not None and found != expect.kind:
            return Observation(
                "failed", observed, f"expected {path} to be a {expect.kind}; found a {found}"
            )
        needs_file = [
            name
            for name, value in (
                ("min_size", expect.min_size),
                ("sha256", expect.sha256),
                ("contains", contains),
            )
            if value is not None
        ]
        if needs_file and found != "file":
            return Observation(
                "failed", observed, f"{path} is a {found}; {needs_file[0]} needs a regular file"
            )
        if count is not None and not is_dir:
            return Observation(
                "failed", observed, f"{path} is a {found}; counting entries needs a directory"
            )
        return None

    async def _on_host(
        self, ctx: PluginContext, host_files: Callable[[], AbstractAsyncContextManager[HostFiles]]
    ) -> Observation:
        path = host_path(ctx, self.file)
        contains = None if self.expect.contains is None else ctx.expand(self.expect.contains)
        count = expand_all(self.expect.expected_count(), ctx.expand)
        observed: JsonDict = {"path": path}
        try:
            async with host_files() as files:
                return await self._inspect_host(files, path, contains, count, observed)
        except (HostLost, HostFileError) as exc:
            return Observation("error", observed, str(exc))

    async def _inspect_host(
        self, files: HostFiles, path: str, contains: str | None, count: Any, observed: JsonDict
    ) -> Observation:
        expect = self.expect
        info = await files.stat(path)
        if info is None:
            observed["exists"] = False
            if expect.wants_absent():
                return Observation("passed", observed, f"{path} is absent, as expected")
            return Observation("failed", observed, f"expected {path} to exist; it does not")
        refused = self._refusal(path, info.mode, info.size, contains, count, observed)
        if refused is not None:
            return refused
        if expect.min_size is not None and info.size < expect.min_size:
            return _too_small(path, expect.min_size, info.size, observed)
        if expect.sha256 is not None:
            observed["sha256"] = await files.sha256(path)
            if observed["sha256"] != expect.sha256.lower():
                return _other_digest(path, expect.sha256, str(observed["sha256"]), observed)
        if contains is not None:
            observed["contains"] = await files.contains(path, contains)
            if not observed["contains"]:
                return _lacks(path, contains, observed)
        if count is not None:
            pattern = expect.glob or "*"
            entries = await files.listing(path, depth_of(pattern))
            observed["glob"] = pattern
            observed["count"] = len(matching(entries, pattern, _path_glob))
            if not matches(observed["count"], count):
                return _miscount(path, pattern, count, observed)
        return Observation("passed", observed, f"{path}: {self.expectation()}")

    def _compare(
        self,
        path: str,
        info: os.stat_result,
        contains: str | None,
        count: Any,
        observed: JsonDict,
    ) -> Observation:
        expect = self.expect
        if expect.min_size is not None and info.st_size < expect.min_size:
            return _too_small(path, expect.min_size, info.st_size, observed)
        if expect.sha256 is not None:
            digest = _sha256(path)
            observed["sha256"] = digest
            if digest != expect.sha256.lower():
                return _other_digest(path, expect.sha256, digest, observed)
        if contains is not None:
            observed["contains"] = _contains(path, contains.encode())
            if not observed["contains"]:
                return _lacks(path, contains, observed)
        if count is not None:
            pattern = expect.glob or "*"
            observed["glob"] = pattern
            observed["count"] = len(_path_glob(path, pattern))
            if not matches(observed["count"], count):
                return _miscount(path, pattern, count, observed)
        return Observation("passed", observed, f"{path}: {self.expectation()}")


def _path_glob(root: str, pattern: str) -> list[str]:
    return [str(p) for p in Path(root).glob(pattern)]


def _too_small(path: str, wanted: int, size: int, observed: JsonDict) -> Observation:
    return Observation(
        "failed", observed, f"expected {path} to have at least {wanted} bytes; it has {size}"
    )


def _other_digest(path: str, wanted: str, digest: str, observed: JsonDict) -> Observation:
    return Observation(
        "failed", observed, f"expected {path} to have sha256 {wanted.lower()}; it has {digest}"
    )


def _lacks(path: str, contains: str, observed: JsonDict) -> Observation:
    return Observation("failed", observed, f"expected {path} to contain {contains!r}; it does not")


def _miscount(path: str, pattern: str, count: Any, observed: JsonDict) -> Observation:
    return Observation(
        "failed",
        observed,
        f"expected {words(count)} entries matching {pattern!r} in {path}; "
        f"found {observed['count']}",
    )


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _contains(path: str, needle: bytes) -> bool:
    # Chunks overlap by len(needle) - 1 bytes so a match across a chunk border is not missed.
    if not needle:
        return True
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            window = tail + chunk
            if needle in window:
                return True
            tail = window[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return False
