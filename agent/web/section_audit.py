"""Compliance by written rule: which clause holds or is broken on this host, from the last audit."""

from __future__ import annotations

from functools import lru_cache

from agent.records.audit import AuditRecord, UsbSeen
from agent.records.base import StateError
from agent.state import Snapshot
from agent.web.audit_report import STATUS_TEXT
from agent.web.text import e, t, when
from policies.library import load_library
from policies.result import CheckResult
from policies.schema import RuleSpec

_BADGE = {"pass": "ok", "fail": "crit", "error": "warn", "not_applicable": "muted"}
_ORDER = {"fail": 0, "error": 1, "pass": 2, "not_applicable": 3}


@lru_cache(maxsize=1)
def _rules() -> dict[str, RuleSpec]:
    library, _ = load_library()
    return library.rules


def audit_section(snapshot: Snapshot, lang: str) -> str:
    head = f'<section id="compliance"><h2>{t(lang, "制度合规（按条款）", "Compliance by written rule")}</h2>'
    try:
        stored = snapshot.get(AuditRecord)
    except StateError as exc:
        unreadable = t(lang, "审计记录无法读取", "The audit record is unreadable")
        return head + f'<p class="error">{unreadable}: {e(str(exc))}</p></section>'
    if stored is None:
        return head + f'<p class="empty">{t(lang, "尚未审计。", "Not audited yet.")}</p></section>'
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
            title = r.title_zh if lang == "zh" else r.title_en
            cells.append(
                f'<div data-check="{e(r.check)}"><span class="badge {_BADGE[r.status]}">{label}</span> '
                f"{e(title)} <small>{e(r.reason_in(lang))}</small></div>"
            )
        worst = min((r.status for r in by_rule[rule_id]), key=lambda s: _ORDER[s])
        rows.append(
            f'<tr data-rule="{e(rule_id)}" class="{_BADGE[worst]}"><td>{e(rule_id)}</td>'
            f"<td>{e(clause)}</td><td>{''.join(cells)}</td></tr>"
        )
    counts = " · ".join(f"{t(lang, *STATUS_TEXT[k])} {record.summary.count(k)}" for k in STATUS_TEXT)
    cols = "".join(
        f"<th>{t(lang, zh, en)}</th>" for zh, en in (("条款", "Rule"), ("内容", "Clause"), ("检查", "Checks"))
    )
    return (
        head + f"<p>{t(lang, '审计时间', 'Audited')} {when(stored.taken)} — {counts}</p>"
        f'<table id="compliance-table"><thead><tr>{cols}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        + _usb_devices(record.usb_devices_seen, lang)
        + "</section>"
    )


def _usb_devices(devices: tuple[UsbSeen, ...], lang: str) -> str:
    """USB-3: every USB storage device seen on this host, with first and last seen."""
    if not devices:
        return ""
    head = f"<h3>{t(lang, 'USB存储设备记录', 'USB storage devices seen')}</h3>"
    cols = "".join(
        f"<th>{t(lang, zh, en)}</th>"
        for zh, en in (
            ("厂商", "Vendor"),
            ("型号", "Product"),
            ("序列号", "Serial"),
            ("首次", "First seen"),
            ("最近", "Last seen"),
        )
    )
    rows = "".join(
        f"<tr><td>{e(d.vendor)}</td><td>{e(d.product)}</td><td>{e(d.serial)}</td>"
        f"<td>{when(d.first_seen)}</td><td>{when(d.last_seen)}</td></tr>"
        for d in devices
    )
    return f'{head}<table id="usb-devices"><thead><tr>{cols}</tr></thead><tbody>{rows}</tbody></table>'

