"""The bundle itself: it starts on Windows CPython, carries pywin32, and is reproducible."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from wine_kit import BUILDER, WineBox


def test_the_launcher_runs_hostward_from_the_bundles_own_python(wine_box: WineBox) -> None:
    done = wine_box.hostward("--version")
    assert done.returncode == 0, done.describe()
    assert done.out("cp1252").strip().startswith("hostward ")
    where = wine_box.python("-c", "import sys, agent; print(sys.executable); print(agent.__file__)")
    assert where.returncode == 0, where.describe()
    exe, agent_file = where.out("cp1252").splitlines()
    assert exe.lower() == r"c:\program files\hostward\python\python.exe"
    assert agent_file.lower().startswith(r"c:\program files\hostward\python\lib\site-packages\agent")


def test_pywin32_service_framework_imports_from_the_embeddable_python(wine_box: WineBox) -> None:
    code = (
        "import win32api, win32service, win32serviceutil, win32event, servicemanager, pywintypes\n"
        "print(pywintypes.__file__)\n"
        "print(win32serviceutil.__name__)\n"
    )
    done = wine_box.python("-c", code)
    assert done.returncode == 0, done.describe()
    assert "pywintypes311.dll" in done.out("cp1252").lower()
    python_dir = wine_box.unix_path(r"C:\Program Files\hostward\python")
    for name in ("pythonservice.exe", "pywintypes311.dll", "pythoncom311.dll", "python311.dll"):
        assert (python_dir / name).is_file(), name


def test_the_same_inputs_build_a_byte_identical_zip(windows_bundle: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BUILDER), "build", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr
    again = Path(done.stdout.strip().splitlines()[-1])
    assert again.read_bytes() == windows_bundle.read_bytes()
    with zipfile.ZipFile(again) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {i.date_time for i in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert all(n.startswith("hostward/python/") for n in names)


def test_pywin32s_service_host_starts_next_to_python_exe(wine_box: WineBox) -> None:
    # pythonservice.exe links python311.dll and pywintypes311.dll: both found beside it, or it
    # would not start at all. Without arguments it prints its usage (partly in UTF-16).
    done = wine_box.run("pythonservice.exe")
    assert done.returncode == 2, done.describe()  # usage
    text = (done.stdout + done.stderr).replace(b"\x00", b"")
    assert b"Python Service Manager" in text and b"-debug servicename" in text
