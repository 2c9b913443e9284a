"""Windows security policy from a `secedit /export /cfg FILE /areas SECURITYPOLICY` export.

secedit writes an INF file in UTF-16LE with a byte-order mark: sections such as
[System Access] (EnableGuestAccount, MinimumPasswordLength, ...), [Event Audit] and
[Registry Values], each with `Key = value` lines. The export goes to a private temporary
directory and is removed after reading; an empty or unreadable export is NoEvidence.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from collectors.system.evidence import NoEvidence
from collectors.system.runner import Runner
from common.errors import CommandError

TIMEOUT = 30.0
MAX_BYTES = 4 * 1024 * 1024
WHERE = "secedit /export"


def decode_inf(data: bytes) -> str:
    """UTF-16LE with its BOM as secedit writes it; UTF-8 (with or without BOM) also read."""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le", "replace")
    if b"\x00" in data[:200]:
        return data.decode("utf-16-le", "replace")
    return data.decode("utf-8-sig", "replace")


def parse_inf(text: str) -> dict[str, dict[str, str]]:
    """{section: {key: value}}; keys keep their case, values lose quotes around them."""
    out: dict[str, dict[str, str]] = {}
    section: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1].strip(), {})
        elif section is not None and "=" in line:
            key, _, value = line.partition("=")
            section[key.strip()] = value.strip().strip('"')
    return out


def lookup(policy: dict[str, dict[str, str]], section: str, key: str) -> str | None:
    """A value by section and key, both case-insensitive as Windows treats them."""
    for name, values in policy.items():
        if name.lower() == section.lower():
            for k, v in values.items():
                if k.lower() == key.lower():
                    return v
    return None


def read_security_policy(runner: Runner) -> dict[str, dict[str, str]]:
    workdir = tempfile.mkdtemp(prefix="hostward-secedit-")
    try:
        cfg = os.path.join(workdir, "policy.inf")
        argv = ("secedit", "/export", "/cfg", cfg, "/areas", "SECURITYPOLICY", "/quiet")
        try:
            result = runner.run(argv, timeout=TIMEOUT, max_output=64 * 1024)
        except CommandError as exc:
            raise NoEvidence(WHERE, f"could not run secedit: {exc}", f"无法运行 secedit：{exc}") from exc
        if result.timed_out or not result.ok:
            why = "timed out" if result.timed_out else f"exit code {result.returncode}"
            raise NoEvidence(WHERE, f"failed: {why}", f"失败：{why}")
        try:
            with open(cfg, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise NoEvidence(WHERE, f"wrote no export: {exc}", f"没有生成导出文件：{exc}") from exc
        if len(data) > MAX_BYTES:
            raise NoEvidence(WHERE, "export larger than 4 MiB", "导出文件超过 4 MiB")
        policy = parse_inf(decode_inf(data))
        if not any(policy.values()):
            raise NoEvidence(WHERE, "the export holds no policy", "导出文件中没有任何策略")
        return policy
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
