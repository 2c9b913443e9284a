"""Session fixtures for the Wine suite; the helpers (and their documented API) are in wine_kit.py.

`windows_bundle`: the bundle zip (built once, reused while its inputs are unchanged).
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
def wine_box(windows_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WineBox]:
    require_wine()
    box = WineBox.create(tmp_path_factory.mktemp("wine"), windows_bundle)
    try:
        yield box
    finally:
        box.close()
