"""Update or check ``pins.json``: the manifest sha256 of every bundled preset.

Run ``python -m aezoo.presets.pins --update`` after a recipe writes new weights into
``weights/`` (the test suite fails until the pins match), ``--check`` to compare only.
"""

import argparse
import json
import sys

from aezoo.io import atomic_write_text
from aezoo.presets import catalog, loader
from aezoo.presets.folder import METADATA_FILE, manifest_sha256


def current_pins():
    """``{preset: {"manifest_sha256", "revision"}}`` computed from the bundled folders."""
    root = loader.bundled_weights_dir()
    pins = {}
    for name, spec in sorted(catalog.PRESETS.items()):
        if root is not None and (root / name / METADATA_FILE).is_file():
            pins[name] = {"manifest_sha256": manifest_sha256(root / name), "revision": spec.revision}
    return pins


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite pins.json from the bundled weights")
    args = parser.parse_args(argv)
    pins = current_pins()
    stored = json.loads(catalog.PINS_FILE.read_text()) if catalog.PINS_FILE.is_file() else {}
    changed = sorted(n for n in set(pins) | set(stored) if pins.get(n) != stored.get(n))
    if args.update:
        atomic_write_text(catalog.PINS_FILE, json.dumps(pins, indent=2, sort_keys=True) + "\n")
        print(f"pinned {len(pins)} presets; changed: {', '.join(changed) or 'none'}")
        return 0
    for name in changed:
        print(f"{name}: pinned {stored.get(name)}, bundled {pins.get(name)}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
