"""Where data lives: the local folders searched for named datasets, the cache, and
the error that lists every place looked at."""

import logging
import os
from pathlib import Path


from aezoo.data.catalog import DEBIAN_DATASETS, DatasetNotFoundError

_REPO_ROOT = Path(__file__).resolve().parents[2]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# Where data lives
# --------------------------------------------------------------------------
def data_roots():
    """Local folders searched for named datasets, in order, existing or not.

    ``$AEZOO_DATA`` (one folder, or several joined by ``os.pathsep``), Debian's
    ``/usr/share/datasets``, then a ``shared/datasets`` folder beside (or inside) the
    current directory and the repository root: CI runs from a fresh clone with
    ``../shared`` beside it.
    """
    roots = [Path(p).expanduser() for p in os.environ.get("AEZOO_DATA", "").split(os.pathsep) if p]
    roots.append(Path(DEBIAN_DATASETS))
    for base in (Path.cwd(), Path(_REPO_ROOT)):
        roots += [base.parent / "shared" / "datasets", base / "shared" / "datasets"]
    unique, seen = [], set()
    for root in roots:
        key = os.path.realpath(root)
        if key not in seen:
            seen.add(key)
            unique.append(Path(os.path.normpath(os.path.abspath(root))))
    return unique


def cache_dir():
    """Folder for decoded copies (``$AEZOO_CACHE``, else ``~/.cache/aezoo``): the user's, not the repo's."""
    if os.environ.get("AEZOO_CACHE"):
        return Path(os.environ["AEZOO_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "aezoo"


class _Search:
    """Records every place looked at, so a failure can list them all."""

    def __init__(self, name):
        self.name, self.looked, self.tried, self.layout = name, [], [], None

    def find(self, *relatives):
        """First existing ``root/relative`` over roots (outer) and candidates (inner)."""
        self.layout = self.layout or relatives[0]
        for root in data_roots():
            for rel in relatives:
                path = root / rel
                self.looked.append(path)
                if path.exists():
                    return path
        return None

    def download(self, what, fn):
        """Run a downloader; on failure remember why and return None."""
        try:
            return fn()
        except Exception as err:  # network, quota, missing manual files: all end the same way
            first_line = (str(err).strip().splitlines() or [""])[0][:200]
            self.tried.append(f"{what}: failed with {type(err).__name__}: {first_line}")
            return None

    def error(self, how_to_get):
        lines = [f"Dataset {self.name!r} was not found. Looked, in order, at:"]
        for path in self.looked:
            lines.append(f"  - {path}" + ("" if path.parent.is_dir() else "   (folder missing)"))
        lines += [f"  - {t}" for t in self.tried]
        lines.append(f"To get it: {how_to_get}")
        if self.layout:
            lines.append(f"Or put the files in a folder of your own as $AEZOO_DATA/{self.layout} "
                         "and set AEZOO_DATA to that folder.")
        return DatasetNotFoundError("\n".join(lines))
