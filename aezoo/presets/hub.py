"""Push, pull and sync preset folders with the Hugging Face Hub (``huggingface_hub``).

Example:
    >>> aezoo.presets.hub.push("weights/conv-vae-faces", "me/conv-vae-faces")
    >>> aezoo.presets.hub.pull("conv-vae-faces")
"""

import json
import os
import tempfile
from pathlib import Path

from huggingface_hub import HfApi, constants, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from aezoo.presets import catalog
from aezoo.presets import folder as preset_folder
from aezoo.presets.loader import PresetNotFoundError, _first_line, _library, _repo_and_revision
from aezoo.presets import loader as preset_load

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
    preset_folder.verify_preset(folder)
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
    meta = preset_folder.verify_preset(folder)  # never publish a broken preset
    if repo_id is None:
        if meta.get("preset") not in catalog.PRESETS:
            raise ValueError(f"{folder} holds preset {meta.get('preset')!r}, not in the preset table: pass repo_id")
        repo_id = catalog.PRESETS[meta["preset"]].hf_repo
    api = HfApi(endpoint=endpoint, token=token, **_library())
    repo_id = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model").repo_id
    if revision not in (None, constants.DEFAULT_REVISION):
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    return api.upload_folder(
        repo_id=repo_id,
        folder_path=folder,
        allow_patterns=sorted(meta["files"]) + [preset_folder.METADATA_FILE],  # the preset's files, nothing else
        revision=revision,
        commit_message=commit_message or f"Upload {meta.get('preset')} (aezoo {meta.get('aezoo_version')})",
    )


def sync(names="*", org=catalog.HF_ORG, *, weights_dir=None, token=None, revision=None,
         private=False, endpoint=None, dry_run=False):
    """Push the local presets whose files differ from their Hub copy; skip the rest.

    A preset counts as changed when its ``files`` manifest (sha256 and size of every
    file) differs from the one in the Hub's metadata.json, or when the repo or that
    file does not exist.

    Args:
        names: preset names, or a wildcard over the table's names (``"*vae*"``).
        org: the Hub organisation; repos are ``<org>/<preset>``.
        weights_dir: the folder of preset folders (default: ``preset_load.bundled_weights_dir()``).
        dry_run: report what would be uploaded, upload nothing.

    Returns:
        ``{name: "uploaded" | "unchanged" | "would upload" | "no local weights"}``.
    """
    names = catalog.list_presets(names) if isinstance(names, str) else list(names)
    root = Path(weights_dir) if weights_dir is not None else preset_load.bundled_weights_dir()
    status = {}
    for name in names:
        folder = root / name if root is not None else None
        if folder is None or not (folder / preset_folder.METADATA_FILE).is_file():
            status[name] = "no local weights"
            continue
        local = preset_folder.verify_preset(folder)
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
            path = hf_hub_download(repo_id, preset_folder.METADATA_FILE, revision=revision, cache_dir=tmp,
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
    spec = catalog.get_preset(text)
    root = preset_load.bundled_weights_dir()
    if root is None or not (root / spec.name).is_dir():
        raise FileNotFoundError(f"No bundled weights for preset {spec.name!r} (looked in {root})")
    return root / spec.name
