"""What readers of the state see: job runs, the stored records as JSON text, and the snapshot
that decodes them into typed records (agent/records/) once each. agent/state.py makes them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Any, Generic, TypeVar, cast

from agent.records.base import StateError, StateRecord
from common.frozen import frozen

R = TypeVar("R", bound=StateRecord)


@frozen
class JobRun:
    """One finished run of a named job. `started` is wall-clock epoch seconds."""

    job: str
    attempt: int  # 1 after a success, 2 for the first retry after a failure, ...
    started: float
    duration: float
    success: bool
    error: str = ""

    @property
    def finished(self) -> float:
        return self.started + self.duration


@frozen
class JobStatus:
    """What the exporter and the status page show per job."""

    last: JobRun
    last_success: float | None  # epoch seconds of the end of the last successful run
    runs: int  # runs kept in history


@frozen
class Record:
    """The latest record of a kind as stored: its JSON text, taken at `taken` (epoch seconds).
    Readers use `Snapshot.get(RecordType)` (typed); this raw form serves the few that look at
    every record alike (times from the future) and kinds this version does not know. The text
    is decoded only into the typed record: the daemon holds no second, untyped copy (the
    inventory's dicts alone are five times its JSON)."""

    kind: str
    taken: float
    text: str

    @classmethod
    def of(cls, kind: str, taken: float, payload: Mapping[str, Any]) -> Record:
        return cls(kind, taken, json.dumps(payload))

    @property
    def payload(self) -> Any:
        """The JSON decoded afresh at each call (tests, tools): the agent reads `Snapshot.get`."""
        return json.loads(self.text)


@frozen
class Stored(Generic[R]):
    """A typed record and when it was taken (epoch seconds)."""

    taken: float
    record: R


@frozen
class Snapshot:
    """An immutable view for the scrape path and the status page."""

    version: int
    jobs: Mapping[str, JobStatus] = field(default_factory=dict)
    records: Mapping[str, Record] = field(default_factory=dict)
    _typed: dict[str, Stored[Any] | StateError] = field(default_factory=dict, compare=False, repr=False)

    def get(self, record_type: type[R]) -> Stored[R] | None:
        """The record of `record_type`'s kind, decoded once per snapshot; None if none is stored.
        Raises StateError (naming the kind and the field) for a malformed payload."""
        kind = record_type.KIND
        found = self._typed.get(kind)
        if found is None:
            raw = self.records.get(kind)
            if raw is None:
                return None
            try:
                found = Stored(raw.taken, record_type.from_json(_decoded(raw)))
            except StateError as exc:
                found = exc
            self._typed[kind] = found
        if isinstance(found, StateError):
            raise found
        return cast("Stored[R]", found)

    def after(
        self, version: int, jobs: Mapping[str, JobStatus], rows: Iterable[tuple[str, float, str]]
    ) -> Snapshot:
        """The next snapshot, of `jobs` and the stored records (kind, taken, JSON text). A record
        whose text did not change keeps this snapshot's decoded form: a job's run makes a new
        snapshot, and the inventory (100 KB of JSON) must not be decoded again after each."""
        records: dict[str, Record] = {}
        typed: dict[str, Stored[Any] | StateError] = {}
        for kind, taken, text in rows:
            kept = self.records.get(kind)
            if kept is not None and kept.taken == taken and kept.text == text:
                records[kind] = kept
                if kind in self._typed:
                    typed[kind] = self._typed[kind]
            else:
                records[kind] = Record(kind, taken, text)
        return Snapshot(version, jobs, records, typed)


def _decoded(raw: Record) -> Any:
    try:
        return json.loads(raw.text)
    except ValueError as exc:
        raise StateError(f"state record {raw.kind!r} is not JSON: {exc}") from exc
