"""Bytes from outside into text: UTF-8, else GB18030.

Chinese-market gear (Huawei, H3C, Ruijie switches; UPS cards) and Excel on a Chinese Windows PC
write GBK; GB18030 is its superset and decodes every byte string, so the fallback never fails.
"""

from __future__ import annotations


def utf8_else_gb18030(raw: bytes, *, bom: bool = False) -> str:
    """`raw` as UTF-8 if it decodes (a leading BOM dropped when `bom`), else as GB18030.

    GB18030 maps nearly every byte sequence; what it cannot becomes U+FFFD, never an error.
    """
    try:
        return raw.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", "replace")
