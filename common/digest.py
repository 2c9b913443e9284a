"""SHA-256 without hashlib: CPython's own implementation (`_sha2` from 3.12, `_sha256` before).

hashlib maps OpenSSL's libcrypto, about 3 MiB resident, into the process that imports it. The
daemon hashes only small things (journal entries, sealed access-log segments): it uses this
and keeps libcrypto out. Where neither module exists (a Python built without them), hashlib.
"""

from __future__ import annotations

import importlib
from typing import Any


def _builtin_sha256() -> Any:
    for name in ("_sha2", "_sha256"):  # 3.12+, 3.11
        try:
            return importlib.import_module(name).sha256
        except ImportError:
            continue
    return importlib.import_module("hashlib").sha256


sha256 = _builtin_sha256()
