"""Reading nothing is not evidence: the error a reader raises when what it got cannot stand as one.

A reader that ran but returned nothing, or output that is not what its tool writes (empty
stdout, text where JSON was due, a timeout, a size cap hit), or an inventory that cannot be
empty on a real host (no local accounts, no installed software, no network adapter) raises
`NoEvidence`. The engine turns it into `error` with the reason in English and Chinese, so a
check never passes on an empty reading (a PowerShell blocked by policy prints nothing).
"""

from __future__ import annotations

from collections.abc import Sized
from typing import TypeVar

from collectors.system.files import SystemReadError

S = TypeVar("S", bound=Sized)


class NoEvidence(SystemReadError):
    """A reader produced nothing that can be judged; `zh` is the same reason in Chinese."""

    def __init__(self, where: str, en: str, zh: str) -> None:
        super().__init__(where, en)
        self.en = f"{where}: {en}"
        self.zh = f"{where}：{zh}"


def require(items: S, where: str, en: str, zh: str) -> S:
    """`items` if it holds anything; NoEvidence(en/zh) when it is empty."""
    if len(items) == 0:
        raise NoEvidence(where, en, zh)
    return items
