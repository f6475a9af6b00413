"""Free TCP ports on 127.0.0.1 for lab processes."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port the kernel just found free (it could be taken again before use: bind soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
