"""Session fixtures for the Wine suite; the helpers (and their documented API) are in wine_kit.py.

`windows_bundle`: the bundle zip (built once, reused while its inputs are unchanged).
`wine`: the wine program, checked before anything is built.
`wine_box`: one private WINEPREFIX per session with the bundle unpacked (see wine_kit.WineBox).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from wine_kit import WineBox, bundle_zip, require_wine


@pytest.fixture(scope="session")
def windows_bundle() -> Path:
    return bundle_zip()


@pytest.fixture(scope="session")
def wine() -> str:
    """The wine program (fails the suite when missing; see wine_kit.require_wine)."""
    return require_wine()


@pytest.fixture(scope="session")
def wine_box(wine: str, windows_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WineBox]:
    box = WineBox.create(tmp_path_factory.mktemp("wine"), windows_bundle)
    try:
        yield box
    finally:
        box.close()
