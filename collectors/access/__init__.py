"""User access records (ROOM-6): logins, logouts, failed logins, privilege use, USB storage."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from common.frozen import frozen

KINDS = ("login", "logout", "failed_login", "privilege", "usb")


@frozen
class AccessEvent:
    """One access event. `ts` is Unix time; `source` the log it came from (wtmp, btmp, auth.log,
    journal, security, uevent, kernel-pnp, poll); `detail` small strings (target user, program,
    logon type, vendor/product/serial). No secrets: a sudo command keeps its program only."""

    ts: float
    kind: str
    user: str
    source: str
    service: str = ""
    host: str = ""
    detail: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ts": round(self.ts, 6),
            "kind": self.kind,
            "user": self.user,
            "source": self.source,
        }
        if self.service:
            out["service"] = self.service
        if self.host:
            out["host"] = self.host
        if self.detail:
            out["detail"] = dict(self.detail)
        return out

    @classmethod
    def from_json(cls, data: Any) -> AccessEvent:
        """Raises ValueError for what is not an event (the archive reader skips and counts it)."""
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ValueError("not an access event")
        detail = data.get("detail") or {}
        if not isinstance(detail, dict):
            raise ValueError("detail is not an object")
        return cls(
            ts=float(data["ts"]),
            kind=str(data["kind"]),
            user=str(data.get("user", "")),
            source=str(data.get("source", "")),
            service=str(data.get("service", "")),
            host=str(data.get("host", "")),
            detail={str(k): str(v) for k, v in detail.items()},
        )
