"""bcrypt basic auth for the exporter, with the same meaning as Prometheus' exporter-toolkit.

- Hashes are checked once at start; a hash bcrypt rejects is a broken config (ExporterError):
  the server then refuses to start rather than serve without authentication.
- A successful check is cached under a keyed hash of user and password, so Prometheus
  scraping every 15 s does not pay a bcrypt round each time; failures are never cached.
- An unknown user still pays one bcrypt check against a dummy hash of the same cost, so the
  response time does not tell which user names exist.
- The stored hash itself sent as the password is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
from collections.abc import Mapping
from typing import Any

from agent.exporter.errors import ExporterError

_CACHE_LIMIT = 256
_BCRYPT_MAX = 72


class BasicAuth:
    """Thread-safe checker for `Authorization: Basic ...` headers."""

    def __init__(self, users: Mapping[str, str]) -> None:
        if not users:
            raise ExporterError("basic auth configured with no users")
        try:
            import bcrypt
        except ImportError as exc:
            raise ExporterError("basic auth needs the Python package bcrypt") from exc
        self._bcrypt: Any = bcrypt
        self._users: dict[bytes, bytes] = {}
        cost = 4
        for user, hashed in users.items():
            if not user or ":" in user:
                raise ExporterError(f"basic auth: invalid user name {user!r}")
            encoded = hashed.encode("ascii", "replace")
            try:
                bcrypt.checkpw(b"hostward-probe", encoded)
                cost = max(cost, int(hashed.split("$")[2]))
            except (ValueError, IndexError) as exc:
                raise ExporterError(f"basic auth: user {user!r} has an unusable bcrypt hash") from exc
            self._users[user.encode()] = encoded
        self._dummy: bytes = bcrypt.hashpw(b"hostward-dummy", bcrypt.gensalt(rounds=cost))
        self._key = os.urandom(32)
        self._cache: set[bytes] = set()
        self._lock = threading.Lock()

    def check(self, header: str | None) -> bool:
        """True if the header carries a configured user and the right password."""
        credentials = _parse(header)
        if credentials is None:
            return False
        user, password = credentials
        key = hmac.new(self._key, user + b"\0" + password, hashlib.sha256).digest()
        with self._lock:
            if key in self._cache:
                return True
        hashed = self._users.get(user)
        # bcrypt reads at most 72 bytes (5.x raises past them, 4.x, bundled on Windows, truncates);
        # hash-password refuses longer passwords, so a longer one is never right on any version.
        if hashed is None or len(password) > _BCRYPT_MAX:
            self._bcrypt.checkpw(password[:_BCRYPT_MAX], self._dummy)  # same cost as a real check
            return False
        if hmac.compare_digest(password, hashed):  # the hash is not the password
            self._bcrypt.checkpw(password, self._dummy)
            return False
        if not self._bcrypt.checkpw(password, hashed):
            return False
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache.add(key)
        return True


def _parse(header: str | None) -> tuple[bytes, bytes] | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    return user, password
