"""The preset table as data and as README's markdown, read from the bundled metadata.

Nothing is loaded: parameter counts and metrics come from each preset's metadata.json.
"""

import collections

from aezoo.presets.card import duration_text
from aezoo.presets.catalog import PRESETS, list_presets
from aezoo.presets.folder import METADATA_FILE, read_metadata
from aezoo.presets import loader as preset_load

#: one row of ``preset_table``; params and value are None where no weights are bundled
PresetRow = collections.namedtuple("PresetRow", "name architecture dataset params metric value")


def preset_table(pattern="*"):
    """``PresetRow``s for the matching presets, with parameter count and headline metric
    read from the bundled weights' metadata.json where present (nothing is loaded)."""
    root = preset_load.bundled_weights_dir()
    rows = []
    for name in list_presets(pattern):
        spec, meta = PRESETS[name], {}
        if root is not None and (root / name / METADATA_FILE).is_file():
            try:
                meta = read_metadata(root / name)
            except ValueError:
                meta = {}
        value = (meta.get("metrics") or {}).get(spec.headline_metric)
        rows.append(PresetRow(name, spec.architecture, spec.dataset, meta.get("parameters"),
                              spec.headline_metric, value))
    return rows


def markdown_table(pattern="*"):
    """README's preset table, generated from the bundled metadata (tests keep README in sync).

    One row per preset target: the metric obtained by the recipe, the bar it had to clear
    (a number, or a baseline measured in the same run plus a margin) with its anchor,
    met / not met, and the training budget that produced it.
    """
    root = preset_load.bundled_weights_dir()
    lines = ["| preset | params | metric | obtained | target (anchor) | met | trained |",
             "|---|---|---|---|---|---|---|"]
    for name in list_presets(pattern):
        spec = PRESETS[name]
        folder = None if root is None else root / name
        if folder is None or not (folder / METADATA_FILE).is_file():
            lines.append(f"| `{name}` | - | - | not trained yet | - | - | `aezoo train {name}` |")
            continue
        meta = read_metadata(folder)
        stale = _stale_keys(spec, folder)
        metrics = meta.get("metrics") or {}
        targets = meta.get("targets") or [{"metric": spec.headline_metric, "value": None, "anchor": ""}]
        for t in targets:
            obtained = metrics.get(t["metric"])
            shown = "-" if obtained is None else f"{obtained:.4g}"
            lines.append(f"| `{name}` | {meta.get('parameters', 0):,} | {t['metric']} | {shown} | "
                         f"{_target_text(t)} | {_met_text(t)} | {_made_text(meta)}"
                         + (f"; *trained from an older declaration ({', '.join(stale)}): retraining pending*"
                            if stale else "") + " |")
    return "\n".join(lines)


def _made_text(meta):
    """How the weights were made: the training budget, or the source they were converted from."""
    if meta.get("converted_from"):
        return f"converted from `{meta['converted_from']}` (`{meta.get('recipe')}`)"
    return _budget_text(meta.get("training") or {})


def _target_text(t):
    if t.get("value") is None:
        return "-"
    sign = ">=" if t.get("higher_is_better") else "<="
    if t.get("baseline"):
        bar = t.get("threshold")
        shown = "-" if bar is None else f"{bar:.4g}"
        return f"{sign} {shown} = {t['baseline']} + {t['value']:g} ({t.get('anchor', '')})"
    return f"{sign} {t['value']:g} ({t.get('anchor', '')})"


def _met_text(t):
    if "met" not in t:
        return "-"
    return "met" if t["met"] else "**not met**"


def _budget_text(training):
    """'200 epochs, 41 min, 2 CPU cores (tensorflow)' from a preset's training metadata."""
    epochs, seconds = training.get("epochs"), training.get("seconds")
    parts = [f"{epochs} epochs" if epochs else None,
             duration_text(seconds) if seconds else None,
             training.get("device") or None]
    text = ", ".join(p for p in parts if p)
    if training.get("backend"):
        text += f" ({training['backend']})"
    if training.get("init_from"):  # a warm start: the source preset's own budget comes first
        text += f", started from `{training['init_from']}`"
    return text or "-"


def _stale_keys(spec, folder):
    """Config keys where the bundled config.json differs from the catalog's declaration
    (weights trained by an older recipe); read from JSON, nothing is built."""
    import json

    from aezoo.presets.folder import CONFIG_FILE

    try:
        bundled = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")).get("config", {})
    except (OSError, ValueError):
        return []
    plain = lambda v: list(v) if isinstance(v, tuple) else v  # noqa: E731
    return sorted(k for k, v in spec.config.items() if k in bundled and plain(bundled[k]) != plain(v)
                  or k not in bundled)


def update_readme(path="README.md"):
    """Replace the preset table in README.md (from its ``| preset |`` header line to the
    first blank line) with ``markdown_table()``, atomically."""
    from pathlib import Path

    from aezoo.io import atomic_write_text

    text = Path(path).read_text(encoding="utf-8")
    start = text.index("| preset | params |")
    end = text.index("\n\n", start)
    atomic_write_text(path, text[:start] + markdown_table() + text[end:])


if __name__ == "__main__":  # python -m aezoo.presets.table: refresh README's preset table
    update_readme()
