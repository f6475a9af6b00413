"""Hash a directory tree: every entry's path, mode and content (symlink targets too)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def tree_listing(root: Path) -> dict[str, tuple[int, str]]:
    """Every entry under root (root included): relative path -> (st_mode, content digest)."""
    listing: dict[str, tuple[int, str]] = {}
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in [".", *sorted(dirs), *sorted(files)]:
            path = Path(directory, name)
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                content = "-> " + os.readlink(path)
            else:
                content = ""
            relative = os.path.normpath(os.path.relpath(path, root))
            listing[relative] = (info.st_mode, content)
    return listing


def tree_digest(root: Path) -> str:
    """One SHA-256 over every path, mode and content under root."""
    digest = hashlib.sha256()
    for relative, (mode, content) in sorted(tree_listing(root).items()):
        digest.update(f"{relative}\0{mode:o}\0{content}\n".encode())
    return digest.hexdigest()
