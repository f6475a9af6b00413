"""API tokens: random bearer secrets, stored only as salted PBKDF2 hashes (``server.db``,
or the PostgreSQL store's ``tokens`` table).

Rows live behind the store's ``ServerLedger``. A token reads ``pg_<key id>_<secret>``. The
key id (not secret) finds the row without trying every hash; the secret is checked against
the row's salted hash with a constant-time comparison. The plaintext exists once, in the
output of ``phasegate token create``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass

from phasegate.errors import UsageError
from phasegate.store.contract import ServerLedger
from phasegate.store.records import StoredToken

ROLES = ("viewer", "operator", "admin")
PREFIX = "pg_"
ITERATIONS = 120_000
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TOKEN_RE = re.compile(r"^pg_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class TokenInfo:
    name: str
    role: str
    created_at: float


def _hash(secret: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def _matches(secret: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, _ = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        expected = _hash(secret, bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode(), stored.encode())


class TokenStore:
    def __init__(self, ledger: ServerLedger) -> None:
        self.ledger = ledger
        # sha256(token) -> the stored hash it was verified against: PBKDF2 runs once per
        # token and process, yet a revoked or replaced token fails at once (the row is read
        # on every request, and the cached hash must still equal it).
        self._verified: dict[str, str] = {}
        self._lock = threading.Lock()

    def create(self, name: str, role: str) -> str:
        """Store a new token; return its plaintext (shown once, never stored)."""
        if not NAME_RE.match(name):
            raise UsageError(
                f"token name {name!r} is not valid",
                hint="letters, digits, '.', '_' and '-', starting with a letter or digit, "
                "at most 64 characters",
            )
        if role not in ROLES:
            raise UsageError(f"unknown role {role!r}", hint=f"one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        stored = StoredToken(
            name, role, key_id, _hash(secret, secrets.token_bytes(16)), time.time()
        )
        if not self.ledger.add_token(stored):
            raise UsageError(
                f"a token named {name!r} exists",
                hint=f"`phasegate token revoke {name}` first, or choose another name",
            )
        return f"{PREFIX}{key_id}_{secret}"

    def list(self) -> list[TokenInfo]:
        return [TokenInfo(t.name, t.role, t.created_at) for t in self.ledger.tokens()]

    def revoke(self, name: str) -> None:
        if not self.ledger.revoke_token(name):
            raise UsageError(f"no token named {name!r}", hint="`phasegate token list`")

    def session_role(self, name: str, issued_at: float) -> str | None:
        """The current role of the token a dashboard session was issued for, or None when
        that token is gone: revoked, or replaced by a newer one of the same name."""
        token = self.ledger.token_named(name)
        if token is None or token.created_at > issued_at:
            return None
        return token.role

    def verify(self, token: str) -> TokenInfo | None:
        """The token's name and role, or None for anything else (unknown, revoked, forged)."""
        match = TOKEN_RE.match(token)
        if match is None:
            return None
        key_id, secret = match.groups()
        found = self.ledger.token_by_key_id(key_id)
        if found is None:
            return None
        name, role, stored, created = found.name, found.role, found.hash, found.created_at
        fingerprint = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            cached = self._verified.get(fingerprint)
        if cached is None or not hmac.compare_digest(cached, stored):
            if not _matches(secret, stored):
                return None
            with self._lock:
                self._verified[fingerprint] = stored
        return TokenInfo(name, role, created)
