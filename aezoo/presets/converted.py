"""Checkpoints of other libraries loaded as aezoo presets: convert once, record the source.

``aezoo.load`` hands a folder that is no aezoo preset but a convertible layout (a
diffusers folder, a TAESD ``.pth`` pair; ``aezoo.convert.layout``) to this module. A
local folder is converted in memory; a Hub snapshot is converted once into
``<aezoo cache>/converted/<org>--<repo>[--<subfolder>]/<commit>/``, an ordinary preset
folder whose metadata records the repo, the commit, each source file's sha256 and the
licence its card declares, and which later loads are verified against like any preset.
"""

import re
from pathlib import Path

from aezoo.convert import convert_folder, layout
from aezoo.io import file_digest
from aezoo.presets import folder as preset_folder

SOURCE_PATTERNS = ("config.json", "*.safetensors", "*.pth", "README.md", "LICENSE*")


def is_convertible(folder):
    """True for a folder that is not an aezoo preset but a layout ``aezoo.convert`` reads."""
    folder = Path(folder)
    return not (folder / preset_folder.METADATA_FILE).is_file() and layout(folder) is not None


def source_metadata(folder, converted_from):
    """What a converted preset records of its source: where from, each file's sha256, the licence."""
    folder = Path(folder)
    if folder.is_file():  # a TAESD encoder file: it and its decoder
        paths = [folder, folder.with_name(folder.name.replace("_encoder", "_decoder"))]
        folder = folder.parent
    else:
        paths = [p for p in sorted(folder.iterdir()) if p.is_file() and any(p.match(pat) for pat in SOURCE_PATTERNS)]
    files = {p.name: file_digest(p) for p in paths if p.is_file()}
    return {"converted_from": converted_from, "source": {"files": files, "license_name": _card_license(folder)}}


def _card_license(folder):
    """The ``license:`` of a Hub model card's YAML header (the repo's or its parent's), else None."""
    for card in (Path(folder) / "README.md", Path(folder).parent / "README.md"):
        try:
            text = card.read_text(encoding="utf-8")
        except OSError:
            continue
        header = text.split("---", 2)[1] if text.startswith("---") else ""
        found = re.search(r"^license:\s*\"?([\w.+-]+)\"?\s*$", header, re.MULTILINE)
        if found:
            return found.group(1)
    return None


def converted_folder(source, hub=None):
    """The preset folder converted from ``source`` (a checkpoint folder), made on first use.

    ``hub``: ``(repo_id, subfolder)`` when ``source`` is a Hub snapshot (``snapshots/<commit>[/<sub>]``);
    the cache key is then repo, subfolder and commit. A local folder is keyed by the sha256
    of its source files, so an edited checkpoint is converted again, never served stale.
    """
    import hashlib

    from aezoo.data.search import cache_dir

    source = Path(source)
    if hub:
        repo_id, subfolder = hub
        commit = source.parents[len(Path(subfolder).parts) - 1].name if subfolder else source.name
        name = repo_id.replace("/", "--") + (f"--{subfolder.replace('/', '--')}" if subfolder else "")
        uri = f"hf://{repo_id}" + (f"/{subfolder}" if subfolder else "") + f"@{commit}"
        meta = source_metadata(source, uri)
    else:
        meta = source_metadata(source, str(source.resolve()))
        files = sorted((n, d["sha256"]) for n, d in meta["source"]["files"].items())
        commit = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
        name = f"local--{source.resolve().name}"
    target = cache_dir() / "converted" / name / commit
    if not preset_folder.is_preset_folder(target):
        model = convert_folder(source)
        meta.update(description=f"`{meta['converted_from']}` converted to Keras by aezoo.",
                    license=meta["source"]["license_name"] or "other")
        preset_folder.save_preset(model, target, preset=name, metadata=meta)
    return target
