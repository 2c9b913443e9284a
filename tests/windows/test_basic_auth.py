"""The exporter's basic auth with the bundle's bcrypt (4.2.1, pinned so it loads on Windows 8.1
and under Wine) and with this machine's: a password past bcrypt's 72 bytes is always refused."""

from __future__ import annotations

import base64

import bcrypt
from wine_kit import WineBox

from agent.exporter.auth import BasicAuth

PASSWORD = "p" * 72

CHECK = r"""
import base64, sys, bcrypt
from agent.exporter.auth import BasicAuth
auth = BasicAuth({"prometheus": sys.argv[1]})
def header(password):
    return "Basic " + base64.b64encode(b"prometheus:" + password.encode()).decode()
print(bcrypt.__version__, auth.check(header(sys.argv[2])), auth.check(header(sys.argv[2] + "x")),
      auth.check(header("wrong")))
"""


def _header(password: str) -> str:
    return "Basic " + base64.b64encode(b"prometheus:" + password.encode()).decode()


def test_a_password_longer_than_72_bytes_is_refused_with_this_machines_bcrypt() -> None:
    auth = BasicAuth({"prometheus": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()})
    assert auth.check(_header(PASSWORD))
    assert not auth.check(_header(PASSWORD + "x"))
    assert not auth.check(_header("x" * 100))


def test_hash_password_and_basic_auth_work_with_the_bundled_bcrypt(wine_box: WineBox) -> None:
    hashed = wine_box.hostward("hash-password", "--cost", "10", stdin=PASSWORD.encode() + b"\r\n")
    assert hashed.returncode == 0, hashed.describe()
    encoded = hashed.out("cp1252").strip()
    assert encoded.startswith("$2b$10$")
    assert bcrypt.checkpw(PASSWORD.encode(), encoded.encode())  # Linux bcrypt agrees with Windows'
    done = wine_box.python("-c", CHECK, encoded, PASSWORD)
    assert done.returncode == 0, done.describe()
    assert done.out("cp1252").split() == ["4.2.1", "True", "False", "False"]
