"""The wheel ships every subpackage and every asset the code reads (an editable install
would hide a missing one: only `pip install .` shows it)."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setuptools():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_subpackage_is_declared():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "aezoo").rglob("__init__.py")}
    declared = set(_setuptools()["packages"])
    assert found <= declared, f"add to [tool.setuptools] packages: {sorted(found - declared)}"


def test_every_asset_matches_the_package_data():
    patterns = _setuptools()["package-data"]["aezoo.assets"]
    for path in (ROOT / "aezoo" / "assets").iterdir():
        if path.name != "__init__.py" and path.suffix != ".pyc" and path.is_file():
            assert any(fnmatch.fnmatch(path.name, p) for p in patterns), f"{path.name} would not ship: {patterns}"
