"""Console output that survives any code page: the CLI's one output policy.

On Windows, Python writes to a console, a pipe (Ansible's win_command, a scheduled task) or a
redirected file in the ANSI code page: cp1252 on a Western PC, cp936 on a Chinese one. cp1252
has no Chinese, so a bilingual label like "主机 Host" raised UnicodeEncodeError and the command
died half-way. The policy, applied once by `setup()` at the start of `agent.cli.main`:

- a stream that cannot encode every character gets `errors="replace"`: what the code page has
  comes out intact (Chinese on cp936), anything else becomes `?`, never a crash;
- `chinese_ok()` says whether Chinese survives stdout; commands with a `--lang` choose English
  by default when it does not, so the table stays readable;
- `dumps()` is the JSON printer: what stdout can encode is printed as-is, every other
  character is escaped as \\uXXXX (still valid, lossless JSON).
"""

from __future__ import annotations

import codecs
import json
import sys
from typing import Any, TextIO

_PROBE = "主机©€\U0001f600"  # Chinese, Latin-1, cp1252-only and astral: every case of the policy


def _encoding(stream: TextIO) -> str:
    """The stream's encoding; one without (io.StringIO, in memory) holds any text: utf-8."""
    return getattr(stream, "encoding", None) or "utf-8"


def encodes_everything(stream: TextIO) -> bool:
    """True for UTF-8/16/32 streams: nothing written to them can fail to encode."""
    try:
        name = codecs.lookup(_encoding(stream)).name
    except LookupError:
        return False
    return name.startswith(("utf-8", "utf-16", "utf-32"))


def setup() -> None:
    """Make stdout and stderr replace what their code page cannot show, instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None or encodes_everything(stream):
            continue
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def chinese_ok(stream: TextIO | None = None) -> bool:
    """Whether Chinese text written to `stream` (default: stdout) comes out as Chinese."""
    target = sys.stdout if stream is None else stream
    try:
        _PROBE[:2].encode(_encoding(target))
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def default_lang() -> str:
    """ "zh" where the console shows Chinese, else "en"."""
    return "zh" if chinese_ok() else "en"


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a character the code page lacks, as a JSON \\u escape."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(json.dumps(ch)[1:-1] for ch in chunk), error.end


codecs.register_error("hostward-json", _json_escape)


def dumps(value: Any, **kwargs: Any) -> str:
    """JSON for stdout: each character stdout cannot encode is \\u escaped (lossless, valid JSON:
    outside strings JSON is ASCII), the rest (Chinese on cp936) stays readable."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    if encodes_everything(sys.stdout):
        return text
    encoding = _encoding(sys.stdout)
    try:
        return text.encode(encoding, "hostward-json").decode(encoding)
    except LookupError:
        return json.dumps(value, ensure_ascii=True, **kwargs)
