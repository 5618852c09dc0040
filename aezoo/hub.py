"""Find a preset folder wherever it is, and push, pull and sync preset folders with
the Hugging Face Hub.

Where ``load`` looks, in this order, stopping at the first hit:

- a preset name (``"conv-vae-faces"``): the bundled ``weights/<name>/``, then the
  Hugging Face cache of its repo (``PresetSpec.hf_repo``), then a Hub download;
  with ``revision`` set the bundled copy is skipped;
- ``"hf://org/repo"`` (``"hf://org/repo@revision"`` too): the cache, then the Hub;
- a folder path: that folder.

Every folder is checked with ``saving.verify_preset`` before anything is deserialised.

Example:
    >>> model = aezoo.load("conv-vae-faces")
    >>> model = aezoo.load("hf://aezoo/conv-vae-faces", revision="v1")
    >>> aezoo.hub.push("weights/conv-vae-faces", "me/conv-vae-faces")
"""

import json
import os
import tempfile
from pathlib import Path

from huggingface_hub import HfApi, constants, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from aezoo import presets, saving

HF_PREFIX = "hf://"


class PresetNotFoundError(FileNotFoundError):
    """No source had the preset; the message lists every place tried."""


def bundled_weights_dir():
    """Folder of the bundled presets: package data ``aezoo/_weights/`` in an installed
    wheel, else ``weights/`` beside the package in a source checkout; ``None`` if neither."""
    package = Path(__file__).resolve().parent
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
        saving.ChecksumError: a file failed its sha256 check; nothing was loaded.
    """
    folder, pinned = resolve(name_or_uri, revision)
    return saving.load_preset_folder(folder, compile=compile, pinned=pinned)


def resolve(name_or_uri, revision=None):
    """``(folder, pinned)``: the local folder holding the preset (downloading it if
    needed) and the hashes the preset table pins for it (or None)."""
    text = os.fspath(name_or_uri)
    if text.startswith(HF_PREFIX):
        repo_id, revision = _parse_hf_uri(text, revision)
        return _from_hub(repo_id, revision, tried=[]), None
    if isinstance(name_or_uri, os.PathLike) or (text not in presets.PRESETS and Path(text).expanduser().is_dir()):
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"No preset folder at {folder}")
        return folder, None
    try:
        spec = presets.get_preset(text)
    except ValueError as e:
        raise ValueError(f"{e}\n(For a Hub repo pass 'hf://org/name'; for a preset folder, an existing path.)") from None
    pinned = {saving.WEIGHTS_FILE: spec.weights_sha256} if spec.weights_sha256 and revision is None else None
    tried = []
    if revision is None:
        root = bundled_weights_dir()
        if root is not None and (root / spec.name / saving.METADATA_FILE).is_file():
            return root / spec.name, pinned
        tried.append(f"bundled weights: {root / spec.name if root else 'no weights folder'} (not there)")
    return _from_hub(spec.hf_repo, revision, tried, label=spec.name), pinned


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
    if text in presets.PRESETS or "/" not in text:
        return presets.get_preset(text).hf_repo, revision
    return text, revision


def _library():
    import aezoo

    return {"library_name": "aezoo", "library_version": aezoo.__version__}


def _first_line(error):
    return (str(error).strip().splitlines() or [""])[0]


# ------------------------------------------------------------ pull, push, sync
def pull(name_or_repo, revision=None, local_dir=None):
    """Download a preset from the Hub into the cache (or ``local_dir``), verify it, and
    return its folder. ``name_or_repo``: a preset name, ``"org/repo"`` or ``"hf://org/repo"``.
    Offline (``HF_HUB_OFFLINE=1``), a cached copy is returned."""
    repo_id, revision = _repo_and_revision(name_or_repo, revision)
    try:
        folder = Path(snapshot_download(repo_id, revision=revision, local_dir=local_dir, **_library()))
    except LocalEntryNotFoundError as e:
        raise PresetNotFoundError(f"Could not download {repo_id!r} and it is not cached: {_first_line(e)}") from e
    saving.verify_preset(folder)
    return folder


def push(folder_or_preset, repo_id=None, *, token=None, revision=None, private=False, endpoint=None,
         commit_message=None):
    """Upload a verified preset folder to a Hub model repo (created if missing).

    Args:
        folder_or_preset: a preset folder, or a preset name (its bundled folder).
        repo_id: ``"org/name"``; defaults to the preset's ``hf_repo``.
        token: a Hub token with write access (default: the logged-in one).
        revision: a branch to commit to (created if missing); default ``main``.
        private: create the repo private.
        endpoint: another Hub endpoint (default ``HF_ENDPOINT`` or huggingface.co).

    Returns:
        The ``huggingface_hub.CommitInfo`` of the commit.
    """
    folder = _local_folder(folder_or_preset)
    meta = saving.verify_preset(folder)  # never publish a broken preset
    if repo_id is None:
        if meta.get("preset") not in presets.PRESETS:
            raise ValueError(f"{folder} holds preset {meta.get('preset')!r}, not in the preset table: pass repo_id")
        repo_id = presets.PRESETS[meta["preset"]].hf_repo
    api = HfApi(endpoint=endpoint, token=token, **_library())
    repo_id = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model").repo_id
    if revision not in (None, constants.DEFAULT_REVISION):
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    return api.upload_folder(
        repo_id=repo_id,
        folder_path=folder,
        allow_patterns=sorted(meta["files"]) + [saving.METADATA_FILE],  # the preset's files, nothing else
        revision=revision,
        commit_message=commit_message or f"Upload {meta.get('preset')} (aezoo {meta.get('aezoo_version')})",
    )


def sync(names="*", org=presets.HF_ORG, *, weights_dir=None, token=None, revision=None,
         private=False, endpoint=None, dry_run=False):
    """Push the local presets whose files differ from their Hub copy; skip the rest.

    A preset counts as changed when its ``files`` manifest (sha256 and size of every
    file) differs from the one in the Hub's metadata.json, or when the repo or that
    file does not exist.

    Args:
        names: preset names, or a wildcard over the table's names (``"*vae*"``).
        org: the Hub organisation; repos are ``<org>/<preset>``.
        weights_dir: the folder of preset folders (default: ``bundled_weights_dir()``).
        dry_run: report what would be uploaded, upload nothing.

    Returns:
        ``{name: "uploaded" | "unchanged" | "would upload" | "no local weights"}``.
    """
    names = presets.list_presets(names) if isinstance(names, str) else list(names)
    root = Path(weights_dir) if weights_dir is not None else bundled_weights_dir()
    status = {}
    for name in names:
        folder = root / name if root is not None else None
        if folder is None or not (folder / saving.METADATA_FILE).is_file():
            status[name] = "no local weights"
            continue
        local = saving.verify_preset(folder)
        repo_id = f"{org}/{name}"
        remote = _remote_metadata(repo_id, revision, endpoint, token)
        if remote is not None and remote.get("files") == local["files"]:
            status[name] = "unchanged"
        elif dry_run:
            status[name] = "would upload"
        else:
            push(folder, repo_id, token=token, revision=revision, private=private, endpoint=endpoint)
            status[name] = "uploaded"
    return status


def _remote_metadata(repo_id, revision, endpoint, token):
    """The Hub copy's metadata.json as a dict; None if the repo, revision or file is missing."""
    with tempfile.TemporaryDirectory() as tmp:  # a fresh read, not a possibly stale cache
        try:
            path = hf_hub_download(repo_id, saving.METADATA_FILE, revision=revision, cache_dir=tmp,
                                   endpoint=endpoint, token=token, **_library())
        except (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except ValueError:
            return None


def _local_folder(folder_or_preset):
    text = os.fspath(folder_or_preset)
    if Path(text).expanduser().is_dir():
        return Path(text).expanduser()
    spec = presets.get_preset(text)
    root = bundled_weights_dir()
    if root is None or not (root / spec.name).is_dir():
        raise FileNotFoundError(f"No bundled weights for preset {spec.name!r} (looked in {root})")
    return root / spec.name
