"""What every SNMP session offers the poller: GET and table walks, values as plain Python.

Three implementations: `snmp_v2c.V2cSession` (a small built-in v2c codec: pyasn1's generic BER
decoding costs ~40 us per value, too slow for 200 switches a round on a small server),
`snmp_usm.UsmSession` (SNMPv3 USM with SHA-1/SHA-2 and AES-128 on that codec) and
`snmp_client.PysnmpSession` (pysnmp's asyncio API, for the other v3 protocols). All share the
walk logic here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from collectors.devices.oids import Table
from common.errors import HostwardError

Value = int | str | bytes
Oid = tuple[int, ...]


class EndOfMib:
    """The endOfMibView marker in a GETBULK answer."""


END_OF_MIB = EndOfMib()
Bind = tuple[Oid, Value | EndOfMib | None]  # None: noSuchObject / noSuchInstance


class SnmpError(HostwardError):
    """A request failed; `reason` says why in words an administrator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooBig(SnmpError):
    """The device answered tooBig: the request asked for more than fits in its answer."""


# SNMPv3 failures said plainly (what an administrator should check); both v3 paths use them.
WRONG_DIGEST = "SNMPv3 authentication failed: wrong auth key or auth protocol"
DECRYPTION_ERROR = "SNMPv3 decryption failed: wrong privacy key or privacy protocol"
UNKNOWN_USER = "SNMPv3 user unknown to the device"
UNSUPPORTED_LEVEL = "SNMPv3 security level not supported by the device for this user"
NOT_IN_TIME_WINDOW = "SNMPv3 message outside the time window (clock/engine boots)"
UNKNOWN_ENGINE_ID = "SNMPv3 engine ID discovery failed"


@functools.lru_cache(maxsize=1024)
def oid_tuple(text: str) -> Oid:
    return tuple(int(part) for part in text.strip(".").split("."))


def oid_text(oid: Oid) -> str:
    return ".".join(map(str, oid))


# Values asked for in one GETBULK when a table's columns are read together (repetitions x
# columns). 64: agents built on pysnmp (snmpsim among them) drop a GETBULK asking for more, where
# net-snmp sends fewer rows (RFC 3416 4.2.3); 64 values fit one Ethernet frame or two.
MAX_BINDS = 64


class Session:
    """Subclasses implement `_get` and `_bulk`; `max_rows` caps every table."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.warnings: list[str] = []

    async def _get(self, oids: Sequence[Oid]) -> list[Bind]:
        raise NotImplementedError

    async def _bulk(self, oids: Sequence[Oid], repetitions: int) -> list[Bind]:
        raise NotImplementedError

    async def get(self, oids: Sequence[str]) -> dict[str, Value]:
        """GET the instances `oids`; absent ones (noSuchObject/Instance) are left out."""
        binds = await self._get([oid_tuple(o) for o in oids])
        return {oid_text(oid): value for oid, value in binds if value is not None and value is not END_OF_MIB}  # type: ignore[misc]

    async def walk(self, table: Table, max_repetitions: int = 25) -> dict[str, dict[str, Value]]:
        """Read the columns of `table` with GETBULK.

        Returns {column name: {row index (dotted): value}}. The columns are asked for together,
        one row of each per repetition (up to `MAX_BINDS` values a request): a table of a few
        dozen rows costs one round trip, not one per column. A column ends when the device
        leaves its subtree, says endOfMibView, returns an OID that does not increase (a buggy
        agent would loop us forever), or after `max_rows` rows (noted in `warnings`); the others
        go on. A device that answers tooBig is read again column by column.
        """
        columns = [(name, oid_tuple(text)) for name, text in table]
        try:
            return await self._walk_together(columns, max_repetitions)
        except TooBig:
            return {name: await self._walk_column(name, root, max_repetitions) for name, root in columns}

    async def _walk_together(
        self, columns: list[tuple[str, Oid]], repetitions: int
    ) -> dict[str, dict[str, Value]]:
        result: dict[str, dict[str, Value]] = {name: {} for name, _ in columns}
        # per column still read: [name, root, len(root), last OID, rows, first OID past the column]
        active: list[list[Any]] = [
            [name, root, len(root), root, result[name], (*root[:-1], root[-1] + 1)] for name, root in columns
        ]
        while active:
            n = len(active)
            binds = await self._bulk([c[3] for c in active], max(1, min(repetitions, MAX_BINDS // n)))
            if not binds:
                break
            done: set[int] = set()
            for i, (oid, value) in enumerate(binds):
                j = i % n
                if j in done:
                    continue
                column = active[j]
                name, root, cut, last, rows, end = column
                if value is END_OF_MIB or oid >= end or oid < root:  # left the column's subtree
                    done.add(j)
                    continue
                if oid <= last:
                    self.warnings.append(f"{name}: device returned a non-increasing OID; walk stopped")
                    done.add(j)
                    continue
                column[3] = oid
                if value is not None:
                    rows[str(oid[cut]) if len(oid) == cut + 1 else ".".join(map(str, oid[cut:]))] = value
                    if len(rows) >= self.max_rows:
                        self.warnings.append(f"{name}: more than {self.max_rows} rows; table cut")
                        done.add(j)
            if done:
                active = [c for j, c in enumerate(active) if j not in done]
        return result

    async def _walk_column(self, name: str, root: Oid, repetitions: int) -> dict[str, Value]:
        rows: dict[str, Value] = {}
        last = root
        cut = len(root)
        while True:
            binds = await self._bulk([last], repetitions)
            if not binds:
                return rows
            for oid, value in binds:
                if value is END_OF_MIB or oid[:cut] != root:
                    return rows
                if oid <= last:
                    self.warnings.append(f"{name}: device returned a non-increasing OID; walk stopped")
                    return rows
                last = oid
                if value is not None:
                    rows[oid_text(oid[cut:])] = value  # type: ignore[assignment]
                if len(rows) >= self.max_rows:
                    self.warnings.append(f"{name}: more than {self.max_rows} rows; table cut")
                    return rows
