"""The `devices:` config: v3 authPriv SHA-2/AES by default, weak crypto only when allowed,
secrets only from files, SSH host keys always pinned."""

from __future__ import annotations

import pytest

from agent.config.schema import Config
from common.schema import SchemaError, load_text

V3 = """
devices:
  - name: core-switch
    kind: switch
    address: "10.0.0.2:161"
    snmp: {user: hwmon, auth_key_file: /etc/hostward/a, priv_key_file: /etc/hostward/p%s}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(SchemaError) as info:
        load_text(Config, text)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def test_v3_defaults_to_authpriv_sha256_aes() -> None:
    config = load_text(Config, V3 % "")
    snmp = config.devices[0].snmp
    assert snmp is not None
    assert (snmp.version, snmp.auth_protocol, snmp.priv_protocol) == ("3", "SHA-256", "AES")
    assert snmp.security_level == "authPriv"


@pytest.mark.parametrize(
    ("extra", "path", "word"),
    [
        (", auth_protocol: MD5", "devices[0].snmp.auth_protocol", "MD5 is weak"),
        (", priv_protocol: DES", "devices[0].snmp.priv_protocol", "DES is weak"),
        (", priv_protocol: none", "devices[0].snmp.priv_protocol", "none is weak"),
    ],
)
def test_weak_snmpv3_crypto_is_refused(extra: str, path: str, word: str) -> None:
    assert any(p.startswith(path) and word in p for p in problems(V3 % extra))


def test_weak_snmpv3_crypto_is_accepted_when_allowed_for_the_device() -> None:
    config = load_text(Config, V3 % ", auth_protocol: MD5, priv_protocol: DES, allow_weak: true")
    assert config.devices[0].snmp is not None and config.devices[0].snmp.auth_protocol == "MD5"


def test_design_example_v2c_with_community_file_is_valid_and_without_is_not() -> None:
    ok = """
devices:
  - name: core-switch
    kind: switch
    address: "10.0.0.2:161"
    snmp: {version: "2c", community_file: /etc/hostward/snmp-community}
"""
    assert load_text(Config, ok).devices[0].snmp is not None
    bad = ok.replace(", community_file: /etc/hostward/snmp-community", "")
    assert any("community_file" in p for p in problems(bad))


def test_inline_secrets_are_unknown_keys() -> None:
    assert any("unknown key" in p for p in problems(V3 % ", auth_key: hunter22hunter"))


def test_ssh_needs_a_pinned_host_key_and_a_credential_file() -> None:
    base = """
devices:
  - name: sw
    kind: switch
    address: 10.0.0.3
    ssh: {platform: huawei, username: backup%s}
"""
    found = problems(base % "")
    assert any("known_hosts_file" in p and "pin the host key" in p for p in found)
    assert any("password_file" in p for p in found)
    good = base % ", password_file: /etc/hostward/sw.pass, known_hosts_file: /etc/hostward/known_hosts"
    assert load_text(Config, good).devices[0].ssh is not None
    bad_fp = base % ", password_file: /p, host_key_fingerprint: MD5:aa:bb"
    assert any("SHA256:" in p for p in problems(bad_fp))


def test_bad_address_and_unknown_platform_are_reported() -> None:
    text = """
devices:
  - name: sw
    kind: switch
    address: "10.0.0.3:99999"
    ssh: {platform: juniper, username: u, password_file: /p, known_hosts_file: /k}
"""
    assert any(p.startswith("devices[0].ssh.platform") and "huawei" in p for p in problems(text))
    fixed = text.replace("juniper", "huawei")
    assert any(p.startswith("devices[0].address") and "HOST:PORT" in p for p in problems(fixed))
    assert load_text(Config, fixed.replace("99999", "22")).devices[0].snmp_port == 22


NUT = """
devices:
  - name: ups-usb
    kind: %s
    address: "127.0.0.1"
    nut: {ups: myups%s}
"""


def test_a_nut_ups_defaults_to_upsds_port_and_needs_no_user() -> None:
    device = load_text(Config, NUT % ("ups", "")).devices[0]
    assert device.nut is not None and device.nut_port == 3493 and not device.nut.username


@pytest.mark.parametrize(
    ("kind", "extra", "path", "word"),
    [
        ("switch", "", "devices[0].nut", "nut is for kind ups"),
        ("ups", ", username: mon", "devices[0].nut.password_file", "both username and password_file"),
        ("ups", ", password: secret", "devices[0].nut", "password"),  # never inline
    ],
)
def test_a_wrong_nut_device_is_refused(kind: str, extra: str, path: str, word: str) -> None:
    assert any(p.startswith(path) and word in p for p in problems(NUT % (kind, extra)))


def test_the_trap_receiver_is_off_by_default_and_refuses_a_host_name() -> None:
    assert load_text(Config, "version: 1\n").devices_traps.listen == ""
    assert load_text(Config, 'devices_traps: {listen: "127.0.0.1:1162"}\n').devices_traps.rate == 5.0
    assert any(
        p.startswith("devices_traps.listen") for p in problems('devices_traps: {listen: "traps.local:162"}\n')
    )
