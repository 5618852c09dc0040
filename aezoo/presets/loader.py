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
    >>> aezoo.presets.push("weights/conv-vae-faces", "me/conv-vae-faces")

``huggingface_hub`` is imported only when the Hub (or its cache) is consulted: loading a
bundled preset or a folder never imports it.
"""
import json
import os
import re
from pathlib import Path

from aezoo.presets import catalog
from aezoo.presets import folder as preset_folder

HF_PREFIX = "hf://"
#: a Hub repo id: ``name`` or ``org/name``, each part letters, digits, ``-``, ``_`` and ``.``
#: (not first or last), as the Hub accepts them
_REPO_ID = re.compile(r"(?:[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9])?/)?[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9])?")


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
        ValueError: unknown preset name (with close matches), a malformed ``hf://`` URI, or a
            preset folder in a newer format than this aezoo reads.
        FileNotFoundError: a path (it has a '/') that is no folder.
        PresetNotFoundError: no source had it (the message lists what was tried, and for the
            Hub the one-line reason ``pull`` would give: offline, no such repo or revision,
            the network or server failing mid-download).
        preset_folder.ChecksumError: a file failed its sha256 check; nothing was loaded.
    """
    folder, pinned = resolve(name_or_uri, revision)
    return preset_folder.load_preset_folder(folder, compile=compile, pinned=pinned)


def resolve(name_or_uri, revision=None):
    """``(folder, pinned)``: the local folder holding the preset (downloading it if
    needed) and the manifest sha256 the catalog pins for it (None for folders and
    repos aezoo does not know, or when another ``revision`` was asked for)."""
    folder, pinned, hub = _locate(name_or_uri, check_revision(revision))
    from aezoo.presets import converted  # the converters load only when a checkpoint needs them

    if converted.is_convertible(folder):  # a diffusers folder, a TAESD pair: converted once, cached
        folder, pinned = converted.converted_folder(folder, hub), None
    _check_format(folder)
    return folder, pinned


def _locate(name_or_uri, revision):
    text = os.fspath(name_or_uri)
    if text.startswith(HF_PREFIX):
        repo_id, subfolder, revision = _parse_hf_path(text, revision)
        spec = next((s for s in catalog.PRESETS.values() if s.hf_repo == repo_id), None)
        pinned, revision = _pin(spec, revision)
        return _from_hub(repo_id, revision, tried=[], subfolder=subfolder), pinned, (repo_id, subfolder)
    if isinstance(name_or_uri, os.PathLike) or (text not in catalog.PRESETS and Path(text).expanduser().exists()):
        folder = Path(text).expanduser()
        if not folder.is_dir() and not folder.name.endswith("_encoder.pth"):
            raise FileNotFoundError(f"No preset folder at {folder}")
        return folder, None, None
    if text not in catalog.PRESETS and _looks_like_a_path(text):
        hint = f"; for the Hub repo {text!r} pass {HF_PREFIX + text!r}" if _REPO_ID.fullmatch(text) else ""
        raise FileNotFoundError(f"No preset folder at {Path(text).expanduser()} (a preset name has no '/': "
                                f"aezoo.list_presets() lists them{hint})")
    try:
        spec = catalog.get_preset(text)
    except ValueError as e:
        raise ValueError(f"{e}\n(For a Hub repo pass 'hf://org/name'; for a preset folder, an existing path.)") from None
    pinned, hub_revision = _pin(spec, revision)
    tried = []
    if revision is None:
        root = bundled_weights_dir()
        if root is not None and (root / spec.name / preset_folder.METADATA_FILE).is_file():
            return root / spec.name, pinned, None
        tried.append(f"bundled weights: {root / spec.name if root else 'no weights folder'} (not there)")
    return _from_hub(spec.hf_repo, hub_revision, tried, label=spec.name), pinned, (spec.hf_repo, "")


def _looks_like_a_path(text):
    return "/" in text or os.sep in text or text.startswith((".", "~"))


def _check_format(folder):
    """Refuse a preset folder written in a newer (or another) format than this aezoo reads,
    before its files are verified: a newer format may lay them out differently. A missing or
    unreadable metadata.json is left to ``verify_preset``, which names it."""
    try:
        with open(Path(folder) / preset_folder.METADATA_FILE, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return
    if not isinstance(meta, dict):
        return
    kind, version = meta.get("format", preset_folder.FORMAT), meta.get("format_version", preset_folder.FORMAT_VERSION)
    if kind != preset_folder.FORMAT:
        raise ValueError(f"{folder} is not an aezoo preset folder: its metadata.json says format {kind!r}, "
                         f"not {preset_folder.FORMAT!r}")
    if not isinstance(version, int) or version > preset_folder.FORMAT_VERSION:
        import aezoo

        raise ValueError(f"preset folder {folder} is format version {version!r}; aezoo {aezoo.__version__} reads "
                         f"version {preset_folder.FORMAT_VERSION} at most: upgrade aezoo (pip install -U aezoo)")


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


def _from_hub(repo_id, revision, tried, label=None, subfolder=""):
    """The cached snapshot of ``repo_id`` if there is one, else a fresh download.

    Every way the Hub can fail (no such repo or revision, offline, the network or the
    server dropping mid-download, a full disk) ends as one ``PresetNotFoundError`` whose
    Hub step is the one line ``hub.pull`` would give; huggingface_hub's chain is dropped.
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    from aezoo.presets import hub  # hub imports this module: imported at call time

    where = f"{repo_id}{'/' + subfolder if subfolder else ''}@{revision or constants.DEFAULT_REVISION}"
    # a subfolder (a pipeline's vae/) is fetched alone; PyTorch pickles and Flax/ONNX copies never
    # (diffusers repos ship them beside the safetensors: they would double the download)
    patterns = {"allow_patterns": [f"{subfolder}/*", "README.md"] if subfolder else None,
                "ignore_patterns": ["*.bin", "*.ckpt", "*.pt", "*.msgpack", "*.onnx", "*.onnx_data"]}
    try:
        return _within(Path(snapshot_download(repo_id, revision=revision, local_files_only=True, **patterns)),
                       subfolder)
    except LocalEntryNotFoundError as e:  # includes an incomplete cached snapshot
        partly = type(e).__name__ == "IncompleteSnapshotError"  # huggingface_hub >= 2 only
        tried.append(f"Hugging Face cache: {constants.HF_HUB_CACHE} ({where}: "
                     f"{'only partly cached' if partly else 'not cached'})")
    try:
        return _within(Path(snapshot_download(repo_id, revision=revision, **patterns, **_library())), subfolder)
    except hub.download_errors() as e:
        failure = hub._pull_failure(e, repo_id, revision, None, verb="download", again="load again")
        tried.append(f"Hugging Face Hub: {failure}")
    steps = "\n".join(f"  {i}. {step}" for i, step in enumerate(tried, 1))
    raise PresetNotFoundError(
        f"Could not find the weights of {label or where!r}. Tried, in order:\n{steps}\n"
        f"Where there is a network, run aezoo.presets.pull({label or HF_PREFIX + repo_id!r}) "
        f"(or `aezoo pull {label or repo_id}`) once to cache them; "
        "or copy a preset folder here and pass its path to aezoo.load."
    ) from None


def _within(snapshot, subfolder):
    """The subfolder of a downloaded snapshot; a missing one is the user's typo, said in one line."""
    folder = snapshot / subfolder if subfolder else snapshot
    if not folder.is_dir():
        raise FileNotFoundError(f"the Hub repo has no folder {subfolder!r} (at {snapshot.name})")
    return folder


def _parse_hf_path(uri, revision):
    """``(repo_id, subfolder, revision)`` of ``hf://org/name[/sub/folder][@revision]``."""
    path, at, rev = uri[len(HF_PREFIX):].strip("/").partition("@")
    parts = path.split("/")
    subfolder = "/".join(parts[2:])
    if subfolder and not all(re.fullmatch(r"[\w.-]+", p) and p not in (".", "..") for p in parts[2:]):
        raise ValueError(f"Malformed Hub URI {uri!r}: the subfolder must be plain names, e.g. 'hf://org/repo/vae'")
    repo_id, revision = _parse_hf_uri(HF_PREFIX + "/".join(parts[:2]) + at + rev, revision)
    return repo_id, subfolder, revision


#: a Hub revision: a branch or tag name (git's rules, simplified: no '..', no leading '/' or '.'),
#: or a commit sha; anything else never reaches huggingface_hub's cache paths
_REVISION = re.compile(r"[A-Za-z0-9_][\w.-]*(?:/[A-Za-z0-9_][\w.-]*)*")


def check_revision(revision):
    """``revision`` unchanged if it is a plausible branch, tag or commit; else a one-line ValueError."""
    if revision is None:
        return None
    if not isinstance(revision, str) or not _REVISION.fullmatch(revision) or ".." in revision \
            or revision.endswith((".lock", ".")):
        raise ValueError(f"Malformed Hub revision {revision!r}: expected a branch or tag name "
                         "(letters, digits, '-', '_', '.', '/' between names, no '..') or a commit sha")
    return revision


def _parse_hf_uri(uri, revision):
    repo_id, _, at = uri[len(HF_PREFIX):].strip("/").partition("@")
    if not _REPO_ID.fullmatch(repo_id):
        raise ValueError(f"Malformed Hub URI {uri!r}: expected 'hf://org/name' or 'hf://org/name@revision' "
                         "(letters, digits, '-', '_' and '.' in each part)")
    if revision is not None and at and at != revision:
        raise ValueError(f"{uri!r} names revision {at!r} but revision={revision!r} was passed")
    return repo_id, check_revision(revision or at or None)


def _repo_and_revision(name_or_repo, revision):
    """``(repo_id, revision)`` of a preset name, ``"org/repo"`` or ``"hf://org/repo[@rev]"``."""
    text = os.fspath(name_or_repo)
    if text.startswith(HF_PREFIX):
        return _parse_hf_uri(text, revision)
    if text in catalog.PRESETS or "/" not in text:
        return catalog.get_preset(text).hf_repo, revision
    if not _REPO_ID.fullmatch(text):
        raise ValueError(f"Malformed Hub repo {text!r}: expected 'org/name' "
                         "(letters, digits, '-', '_' and '.' in each part)")
    return text, revision


def _library():
    import aezoo

    return {"library_name": "aezoo", "library_version": aezoo.__version__}


def _first_line(error):
    return (str(error).strip().splitlines() or [""])[0]
