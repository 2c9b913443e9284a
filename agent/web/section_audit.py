"""Compliance by written rule: which clause holds or is broken on this host, from the last audit."""

from __future__ import annotations

from functools import lru_cache

from agent.records.audit import AuditRecord, UsbSeen
from agent.records.base import StateError
from agent.state import Snapshot
from agent.web.audit_report import STATUS_TEXT
from agent.web.markup import EMPTY, Markup, header_row, html, join
from agent.web.text import t, when
from policies.library import load_library
from policies.result import CheckResult
from policies.schema import RuleSpec

_BADGE = {"pass": "ok", "fail": "crit", "error": "warn", "not_applicable": "muted"}
_ORDER = {"fail": 0, "error": 1, "pass": 2, "not_applicable": 3}


@lru_cache(maxsize=1)
def _rules() -> dict[str, RuleSpec]:
    library, _ = load_library()
    return library.rules


def audit_section(snapshot: Snapshot, lang: str) -> Markup:
    head = html(
        '<section id="compliance"><h2>{}</h2>', t(lang, "制度合规（按条款）", "Compliance by written rule")
    )
    try:
        stored = snapshot.get(AuditRecord)
    except StateError as exc:
        unreadable = t(lang, "审计记录无法读取", "The audit record is unreadable")
        return head + html('<p class="error">{}: {}</p></section>', unreadable, exc)
    if stored is None:
        return head + html('<p class="empty">{}</p></section>', t(lang, "尚未审计。", "Not audited yet."))
    record = stored.record
    results = record.results
    by_rule: dict[str, list[CheckResult]] = {}
    for r in results:
        for rule in r.rules or ("",):  # "": a rejected policy file, which proves no rule
            by_rule.setdefault(rule, []).append(r)
    rules = _rules()
    rows = []
    for rule_id in sorted(by_rule, key=lambda rid: (min(_ORDER[r.status] for r in by_rule[rid]), rid)):
        spec = rules.get(rule_id)
        clause = (spec.clause.zh if lang == "zh" else spec.clause.en) if spec else ""
        if not rule_id:
            clause = t(lang, "策略文件", "Policy files")
        cells = []
        for r in by_rule[rule_id]:
            zh, en = STATUS_TEXT[r.status]
            label = t(lang, zh, en) + (t(lang, "（豁免）", " (waived)") if r.waived else "")
            cells.append(
                html(
                    '<div data-check="{}"><span class="badge {}">{}</span> {} <small>{}</small></div>',
                    r.check,
                    _BADGE[r.status],
                    label,
                    r.title_zh if lang == "zh" else r.title_en,
                    r.reason_in(lang),
                )
            )
        worst = min((r.status for r in by_rule[rule_id]), key=lambda s: _ORDER[s])
        rows.append(
            html(
                '<tr data-rule="{id}" class="{level}"><td>{id}</td><td>{clause}</td><td>{cells}</td></tr>',
                id=rule_id,
                level=_BADGE[worst],
                clause=clause,
                cells=join(cells),
            )
        )
    counts = " · ".join(f"{t(lang, *STATUS_TEXT[k])} {record.summary.count(k)}" for k in STATUS_TEXT)
    cols = header_row(lang, (("条款", "Rule"), ("内容", "Clause"), ("检查", "Checks")))
    return head + html(
        '<p>{} {} — {}</p><table id="compliance-table">{}<tbody>{}</tbody></table>{}</section>',
        t(lang, "审计时间", "Audited"),
        when(stored.taken),
        counts,
        cols,
        join(rows),
        _usb_devices(record.usb_devices_seen, lang),
    )


def _usb_devices(devices: tuple[UsbSeen, ...], lang: str) -> Markup:
    """USB-3: every USB storage device seen on this host, with first and last seen."""
    if not devices:
        return EMPTY
    cols = header_row(lang, (("厂商", "Vendor"), ("型号", "Product"), ("序列号", "Serial"),
                             ("首次", "First seen"), ("最近", "Last seen")))  # fmt: skip
    rows = join(
        html(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            d.vendor,
            d.product,
            d.serial,
            when(d.first_seen),
            when(d.last_seen),
        )
        for d in devices
    )
    return html(
        '<h3>{}</h3><table id="usb-devices">{}<tbody>{}</tbody></table>',
        t(lang, "USB存储设备记录", "USB storage devices seen"),
        cols,
        rows,
    )
