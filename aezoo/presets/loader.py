"""Find a preset folder wherever it is and load it: ``aezoo.load``.

Where ``load`` looks, in this order, stopping at the first hit:

- a preset name (``"conv-vae-faces"``): the bundled ``weights/<name>/``, then the
  Hugging Face cache of its repo (``PresetSpec.hf_repo``), then a Hub download;
  with ``revision`` set the bundled copy is skipped;
- ``"hf://org/repo"`` (``"hf://org/repo@revision"`` too): the cache, then the Hub;
- a folder path: that folder.

Every folder is checked with ``preset_folder.verify_preset`` before anything is deserialised.

Example:
    >>> model = aezoo.load("conv-vae-faces")
    >>> model = aezoo.load("hf://aezoo/conv-vae-faces", revision="v1")
    >>> aezoo.hub.push("weights/conv-vae-faces", "me/conv-vae-faces")
"""
import os
from pathlib import Path

from huggingface_hub import constants, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from aezoo.presets import catalog
from aezoo.presets import folder as preset_folder

HF_PREFIX = "hf://"


class PresetNotFoundError(FileNotFoundError):
    """No source had the preset; the message lists every place tried."""


def bundled_weights_dir():
    """Folder of the bundled presets: package data ``aezoo/_weights/`` in an installed
    wheel, else ``weights/`` beside the package in a source checkout; ``None`` if neither."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_weights", package.parent / "weights"):
        if candidate.is_dir():
            return candidate
    return None


# ----------------------------------------------------------------------- load
def load(name_or_uri, revision=None, compile=True):
    """A ready model from a preset name, an ``hf://`` URI, or a preset folder.

    Args:
        name_or_uri: ``"conv-vae-faces"``, ``"hf://org/repo"`` or a folder path.
        revision: a Hub branch, tag or commit (skips the bundled copy).
        compile: compile with the architecture's defaults.

    Raises:
        ValueError: unknown preset name (with close matches).
        PresetNotFoundError: no source had it (the message lists what was tried).
        preset_folder.ChecksumError: a file failed its sha256 check; nothing was loaded.
    """
    folder, pinned = resolve(name_or_uri, revision)
    return preset_folder.load_preset_folder(folder, compile=compile, pinned=pinned)


def resolve(name_or_uri, revision=None):
    """``(folder, pinned)``: the local folder holding the preset (downloading it if
    needed) and the manifest sha256 the catalog pins for it (None for folders and
    repos aezoo does not know, or when another ``revision`` was asked for)."""
    text = os.fspath(name_or_uri)
    if text.startswith(HF_PREFIX):
        repo_id, revision = _parse_hf_uri(text, revision)
        spec = next((s for s in catalog.PRESETS.values() if s.hf_repo == repo_id), None)
        pinned, revision = _pin(spec, revision)
        return _from_hub(repo_id, revision, tried=[]), pinned
    if isinstance(name_or_uri, os.PathLike) or (text not in catalog.PRESETS and Path(text).expanduser().is_dir()):
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"No preset folder at {folder}")
        return folder, None
    try:
        spec = catalog.get_preset(text)
    except ValueError as e:
        raise ValueError(f"{e}\n(For a Hub repo pass 'hf://org/name'; for a preset folder, an existing path.)") from None
    pinned, hub_revision = _pin(spec, revision)
    tried = []
    if revision is None:
        root = bundled_weights_dir()
        if root is not None and (root / spec.name / preset_folder.METADATA_FILE).is_file():
            return root / spec.name, pinned
        tried.append(f"bundled weights: {root / spec.name if root else 'no weights folder'} (not there)")
    return _from_hub(spec.hf_repo, hub_revision, tried, label=spec.name), pinned


def _pin(spec, revision):
    """``(manifest sha256 to enforce, Hub revision to fetch)`` for a catalog preset.

    Without ``revision`` (or with the pinned one) the pin holds and the pinned commit is
    fetched; another revision is the user's explicit choice of other weights: no pin.
    """
    if spec is None:
        return None, revision
    if revision is None or revision == spec.revision:
        return spec.manifest_sha256, spec.revision
    return None, revision


def _from_hub(repo_id, revision, tried, label=None):
    """The cached snapshot of ``repo_id`` if there is one, else a fresh download."""
    where = f"{repo_id}@{revision or constants.DEFAULT_REVISION}"
    try:
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except LocalEntryNotFoundError as e:  # includes an incomplete cached snapshot
        tried.append(f"Hugging Face cache: {constants.HF_HUB_CACHE} ({where}: {_first_line(e)})")
    try:
        return Path(snapshot_download(repo_id, revision=revision, **_library()))
    except (LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError, HfHubHTTPError, OSError) as e:
        tried.append(f"Hugging Face Hub: {constants.ENDPOINT}/{repo_id} ({type(e).__name__}: {_first_line(e)})")
    steps = "\n".join(f"  {i}. {step}" for i, step in enumerate(tried, 1))
    raise PresetNotFoundError(
        f"Could not find the weights of {label or where!r}. Tried, in order:\n{steps}\n"
        f"Where there is a network, run aezoo.hub.pull({label or HF_PREFIX + repo_id!r}) once to cache them; "
        "or copy a preset folder here and pass its path to aezoo.load."
    )


def _parse_hf_uri(uri, revision):
    repo_id, _, at = uri[len(HF_PREFIX):].strip("/").partition("@")
    if revision is not None and at and at != revision:
        raise ValueError(f"{uri!r} names revision {at!r} but revision={revision!r} was passed")
    return repo_id, revision or at or None


def _repo_and_revision(name_or_repo, revision):
    """``(repo_id, revision)`` of a preset name, ``"org/repo"`` or ``"hf://org/repo[@rev]"``."""
    text = os.fspath(name_or_repo)
    if text.startswith(HF_PREFIX):
        return _parse_hf_uri(text, revision)
    if text in catalog.PRESETS or "/" not in text:
        return catalog.get_preset(text).hf_repo, revision
    return text, revision


def _library():
    import aezoo

    return {"library_name": "aezoo", "library_version": aezoo.__version__}


def _first_line(error):
    return (str(error).strip().splitlines() or [""])[0]
