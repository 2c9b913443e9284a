"""agent/console.py on this machine, with streams in Windows code pages (no Wine needed)."""

from __future__ import annotations

import io
import json
import sys

import pytest

from agent import console


def _stream(encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding)


@pytest.mark.parametrize("encoding", ["cp1252", "cp936", "ascii"])
def test_setup_makes_a_legacy_code_page_stream_replace_instead_of_raising(
    encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, err = _stream(encoding), _stream(encoding)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    with pytest.raises(UnicodeEncodeError):
        out.write("主机😀")
    console.setup()
    out.write("主机 Host 😀")
    out.flush()
    written = out.buffer.getvalue().decode(encoding)  # type: ignore[attr-defined]
    assert written.endswith("Host ?")
    assert written.startswith("主机" if encoding == "cp936" else "??")


def test_setup_leaves_a_utf8_stream_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _stream("utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    console.setup()
    assert out.errors == "strict"


@pytest.mark.parametrize(("encoding", "lang"), [("cp1252", "en"), ("cp936", "zh"), ("utf-8", "zh")])
def test_default_language_follows_what_the_console_can_show(
    encoding: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", _stream(encoding))
    assert console.default_lang() == lang


@pytest.mark.parametrize("encoding", ["cp1252", "cp936", "utf-8"])
def test_json_for_the_console_is_lossless_on_every_code_page(
    encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", _stream(encoding))
    value = {"reason_zh": "密码 😀", "en": "café"}
    text = console.dumps(value, indent=2)
    text.encode(encoding)  # never raises: what the page lacks is escaped
    assert json.loads(text) == value
    if encoding == "cp936":
        assert "密码" in text and "\\ud83d" in text  # readable where possible, escaped where not


def test_an_in_memory_stream_without_an_encoding_keeps_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    console.setup()
    assert console.default_lang() == "zh"
    assert console.dumps({"t": "密码"}) == '{"t": "密码"}'
