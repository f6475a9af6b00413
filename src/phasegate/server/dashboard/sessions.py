"""Dashboard sessions: a signed, expiring, HttpOnly cookie, and CSRF tokens bound to it.

Someone signs in by pasting their API token once. The server checks it, then sets a cookie
that names the token and its role, signed with the server's own key (itsdangerous, HMAC-SHA1
over the payload with a timestamp) and valid for ``SESSION_SECONDS``. The token itself is
never stored in the cookie. Every state-changing form carries a CSRF token derived from the
session's random nonce; a cross-site form post has neither the SameSite=Strict cookie nor a
matching token, and its Origin is checked too.

A signature proves only that the server issued the cookie, not that its token still stands.
So every read asks the token store (``Sessions.check``: the token's name and when the session
was issued -> its current role, or None): a revoked token ends its sessions at the next
request, a role change applies at once, and a token revoked and created again under the same
name does not revive sessions issued before it existed. This is what Django does by binding a
session to the password hash it was created with, and what GitHub does when a token is
revoked: the server's records decide, every time, not the cookie.

Signing out ends the session on the server too (``Sessions.end``): its nonce is recorded in
``ended-sessions`` next to the key (0600) until the session would have expired anyway, and a
cookie carrying it is refused from then on, whoever holds a copy (another tab, a proxy's
log, a thief). The list lives where the key does: a session is valid only where its key is.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

COOKIE = "phasegate_session"
SESSION_SECONDS = 8 * 3600
KEY_FILE = "session.key"
ENDED_FILE = "ended-sessions"


@dataclass(frozen=True)
class Session:
    name: str  # the token's name, which the journal records as the actor
    role: str
    nonce: str


def load_key(directory: Path) -> bytes:
    """The server's signing key: created once (0600) in the state directory, so sessions
    survive a restart and nobody without the state directory can forge one."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return key


class EndedSessions:
    """Nonces of sessions signed out before they expired, one ``nonce until`` a line in a
    0600 file; read again whenever another process (or server) has appended to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._ended: dict[str, float] = {}

    def end(self, nonce: str, until: float) -> None:
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, f"{nonce} {until:.0f}\n".encode())
            finally:
                os.close(fd)
            self._ended[nonce] = until
            self._prune()

    def ended(self, nonce: str) -> bool:
        with self._lock:
            self._reload()
            until = self._ended.get(nonce)
        return until is not None and until > time.time()

    def _reload(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._version, self._ended = None, {}
            return
        version = (stat.st_mtime_ns, stat.st_size)
        if version == self._version:
            return
        ended: dict[str, float] = {}
        for line in self.path.read_text(errors="replace").splitlines():
            nonce, _, until = line.partition(" ")
            with contextlib.suppress(ValueError):
                ended[nonce] = float(until)
        self._version, self._ended = version, ended

    def _prune(self) -> None:
        """Rewrite the file without the entries whose sessions have expired anyway."""
        self._reload()
        now = time.time()
        live = {n: u for n, u in self._ended.items() if u > now}
        if len(live) == len(self._ended):
            return
        temporary = self.path.with_name(self.path.name + ".new")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, "".join(f"{n} {u:.0f}\n" for n, u in live.items()).encode())
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        self._version, self._ended = None, live


# (token name, when the session was issued) -> the token's role now, or None: no such token,
# or only one created after the session was issued.
SessionCheck = Callable[[str, float], "str | None"]


class Sessions:
    def __init__(
        self,
        key: bytes,
        max_age: int = SESSION_SECONDS,
        check: SessionCheck | None = None,
        ended: EndedSessions | None = None,
    ) -> None:
        self._cookies = URLSafeTimedSerializer(key, salt="phasegate-session")
        self._csrf = URLSafeTimedSerializer(key, salt="phasegate-csrf")
        self.max_age = max_age
        # Set by the server (``ui.mount_dashboard``) to its token store's answer.
        self.check = check
        # Sessions signed out on the server (``end``); None: signing out only drops the cookie.
        self.ended_sessions = ended

    def issue(self, name: str, role: str) -> str:
        payload = {"n": name, "r": role, "x": secrets.token_urlsafe(16), "t": time.time()}
        return self._cookies.dumps(payload)

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie proves, or None: missing, forged, tampered or expired."""
        if not cookie:
            return None
        try:
            data = self._cookies.loads(cookie, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict):
            return None
        name, role, nonce, issued = data.get("n"), data.get("r"), data.get("x"), data.get("t")
        if not all(isinstance(v, str) for v in (name, role, nonce)):
            return None
        if self.ended_sessions is not None and self.ended_sessions.ended(str(nonce)):
            return None  # signed out
        if self.check is not None:
            if not isinstance(issued, int | float):
                return None  # issued before sessions were checked: sign in again
            role = self.check(str(name), float(issued))
            if role is None:
                return None
        return Session(str(name), str(role), str(nonce))

    def end(self, session: Session) -> None:
        """Sign the session out on the server: its cookie is refused from now on."""
        if self.ended_sessions is not None:
            # Kept as long as any session can live; a nonce is random, never reused.
            self.ended_sessions.end(session.nonce, time.time() + self.max_age)

    def csrf_token(self, session: Session) -> str:
        return self._csrf.dumps(session.nonce)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        if not token:
            return False
        try:
            nonce = self._csrf.loads(token, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return False
        return isinstance(nonce, str) and secrets.compare_digest(nonce, session.nonce)
