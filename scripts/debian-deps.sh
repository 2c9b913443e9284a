#!/usr/bin/env bash
# Installs the Debian packages a make target needs, when they are missing.
# Usage: scripts/debian-deps.sh run|test|bench
# As root it uses apt-get; as a normal user it only says what is missing.
set -euo pipefail

run_pkgs=(python3 python3-venv python3-pip)
test_pkgs=("${run_pkgs[@]}" restic snmpd snmp snmpsim openssh-server openssh-client
    prometheus prometheus-alertmanager chromium fonts-wqy-microhei clamav usbguard lynis iproute2 sqlite3
    e2fsprogs util-linux procps openssl faketime
    smartmontools  # tests/system/test_host_health.py: the real smartctl
    systemd-journal-remote  # tests/access: real journal files for journalctl --directory
    wine wine64 locales-all  # tests/windows: the Windows bundle under Wine (64-bit only, no i386)
    gcc-mingw-w64-x86-64)  # tests/windows: builds the stand-in restic.exe from C source
bench_pkgs=("${test_pkgs[@]}" prometheus-node-exporter prometheus-snmp-exporter)

case "${1:-}" in
    run) wanted=("${run_pkgs[@]}") ;;
    test) wanted=("${test_pkgs[@]}") ;;
    bench) wanted=("${bench_pkgs[@]}") ;;
    *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "debian-deps: not a Debian system; install by hand: ${wanted[*]}" >&2
    exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "debian-deps: missing Debian packages (run as root to install): ${missing[*]}" >&2
    exit 0
fi
echo "debian-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
