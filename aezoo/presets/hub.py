"""Push, pull and sync preset folders with the Hugging Face Hub (``huggingface_hub``).

- ``pull`` downloads a preset (a preset name: at the commit the catalog pins, checked
  against the pinned manifest, as ``aezoo.load`` does), verifies it, and reports every way
  a download can fail as one ``PresetNotFoundError`` line naming the repo, the revision and
  what to do.
- ``push`` makes a Hub branch hold exactly the preset: one commit adds its files and
  deletes every other file there (``.gitattributes`` aside).
- ``sync`` pushes the presets whose Hub copy differs in any file, metadata.json and
  README.md included.

Example:
    >>> aezoo.presets.hub.push("weights/conv-vae-faces", "me/conv-vae-faces")
    >>> aezoo.presets.hub.pull("conv-vae-faces")
"""

import errno
import functools
import hashlib
import importlib
import os
from pathlib import Path

from aezoo.presets import catalog
from aezoo.presets import folder as preset_folder
from aezoo.presets import loader as preset_load
from aezoo.presets.loader import PresetNotFoundError, _first_line, _library, _repo_and_revision

# huggingface_hub (and its HTTP client) take ~0.4 s to import, so this module imports them
# inside the functions that talk to the Hub: `import aezoo` and loading a bundled preset
# never do (tests/test_bad_input.py checks sys.modules).

#: the file the Hub adds to every repo and needs: never deleted, never compared
HUB_FILES = (".gitattributes",)


def _client_errors():
    """The HTTP client's own errors (not OSErrors): httpx2 under huggingface_hub 2.x, httpx under 1.x."""
    found = []
    for module in ("httpx2", "httpx"):
        try:
            found.append(importlib.import_module(module).HTTPError)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


@functools.lru_cache(maxsize=None)
def download_errors():
    """Every error a Hub download can raise: OSError (which covers huggingface_hub's
    HfHubHTTPError and LocalEntryNotFoundError) and the HTTP client's own errors."""
    return (OSError, *_client_errors())


_DISK_ERRNOS = (errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EPERM, getattr(errno, "EDQUOT", errno.ENOSPC))


# ------------------------------------------------------------------------ pull
def pull(name_or_repo, revision=None, local_dir=None):
    """Download a preset from the Hub into the cache (or ``local_dir``), verify it, and
    return its folder. ``name_or_repo``: a preset name, ``"org/repo"`` or ``"hf://org/repo"``.
    Offline (``HF_HUB_OFFLINE=1``), a cached copy is returned.

    A preset name without ``revision`` fetches the commit the catalog pins and checks it
    against the pinned manifest, so ``pull(name)`` caches exactly what ``aezoo.load(name)``
    then loads offline, whatever the branch has moved on to.

    Raises:
        PresetNotFoundError: one line naming the repo and revision and what to do: offline
            with no cached copy, no such repo (or no access), no such revision, or the
            network or Hub failed mid-way (pulling again resumes: finished files are kept).
        preset_folder.ChecksumError: the downloaded files fail verification.
        ValueError: the preset was saved in a newer format than this aezoo reads.
    """
    repo_id, revision, pinned = _pull_target(name_or_repo, revision)
    folder = _download(repo_id, revision, local_dir)
    preset_load._check_format(folder)  # a preset of a newer aezoo: say so, not "checksum mismatch"
    preset_folder.verify_preset(folder, pinned=pinned)
    return folder


def _pull_target(name_or_repo, revision):
    """``(repo_id, revision, pinned manifest sha256)``, pinned as ``aezoo.load`` pins it, so the two agree."""
    repo_id, revision = _repo_and_revision(name_or_repo, revision)
    spec = next((s for s in catalog.PRESETS.values() if s.hf_repo == repo_id), None)
    pinned, revision = preset_load._pin(spec, revision)
    return repo_id, revision, pinned


def _download(repo_id, revision, local_dir):
    """``snapshot_download``, with its many failure types turned into one readable error
    (``from None``: the user gets our line, not huggingface_hub's chain of retries)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, revision=revision, local_dir=local_dir, **_library()))
    except download_errors() as error:
        raise PresetNotFoundError(_pull_failure(error, repo_id, revision, local_dir)) from None


def _pull_failure(error, repo_id, revision, local_dir, verb="pull", again="pull again"):
    """The one-line message for a failed download: what went wrong and what to do about it
    (``verb``/``again``: how the caller's action is named, "pull" for ``pull``)."""
    from huggingface_hub import constants
    from huggingface_hub import errors as hf_errors
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    what = f"Could not {verb} {repo_id!r} at revision {revision or constants.DEFAULT_REVISION!r}"
    hub, store = f"{constants.ENDPOINT}/{repo_id}", local_dir or constants.HF_HUB_CACHE
    if isinstance(error, RevisionNotFoundError):
        return (f"{what}: {hub} has no such branch, tag or commit. Pass an existing revision, "
                "or none for the main branch.")
    if isinstance(error, RepositoryNotFoundError) or _http_status(error) in (401, 403):
        return (f"{what}: {hub} does not exist, or is private or gated. Check the repo name; for a private "
                "repo log in with a token that can read it (`hf auth login` or HF_TOKEN).")
    if isinstance(error, LocalEntryNotFoundError) and _offline(error):
        incomplete = getattr(hf_errors, "IncompleteSnapshotError", ())  # huggingface_hub >= 2 only
        cached = "is only partly cached" if isinstance(error, incomplete) else "is not cached"
        return (f"{what}: offline mode is on (HF_HUB_OFFLINE=1) and it {cached} in {store}. Pull it once "
                "with a network (HF_HUB_OFFLINE unset), or pass a preset folder's path to aezoo.load.")
    if isinstance(error, OSError) and error.errno in _DISK_ERRNOS:
        return f"{what}: cannot write to {store} ({error.strerror}). Free space or fix permissions there."
    return (f"{what} from {constants.ENDPOINT}: {_root_cause(error)}. Check the network (and HF_ENDPOINT), "
            f"then {again}: the files already downloaded stay in {store} and only the rest is fetched.")


def _http_status(error):
    from huggingface_hub.errors import HfHubHTTPError

    response = getattr(error, "response", None) if isinstance(error, HfHubHTTPError) else None
    return getattr(response, "status_code", None)


def _offline(error):
    """Offline mode, as the environment says it or as huggingface_hub's error chain records it."""
    from huggingface_hub import constants
    from huggingface_hub.errors import OfflineModeIsEnabled

    return bool(constants.HF_HUB_OFFLINE) or isinstance(error.__cause__, OfflineModeIsEnabled)


def _root_cause(error):
    """``Type: first line`` of the innermost cause: huggingface_hub wraps a connection
    error in a LocalEntryNotFoundError whose own text says less."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {_first_line(error)}"


# ------------------------------------------------------------------------ push
def push(folder_or_preset, repo_id=None, *, token=None, revision=None, private=False, endpoint=None,
         commit_message=None):
    """Upload a verified preset folder to a Hub model repo (created if missing).

    One commit makes the branch hold exactly the preset: its files are added and any other
    file there (say a demo_inputs.npy the preset no longer has) is deleted, ``.gitattributes``
    aside. The commit names the head it was computed from, so a push that raced with another
    fails instead of keeping or deleting the wrong files.

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
    from huggingface_hub import HfApi, constants

    folder = _local_folder(folder_or_preset)
    meta = preset_folder.verify_preset(folder)  # never publish a broken preset
    api = HfApi(endpoint=endpoint, token=token, **_library())
    repo_id = api.create_repo(repo_id or _catalog_repo(meta, folder), private=private, exist_ok=True,
                              repo_type="model").repo_id
    if revision not in (None, constants.DEFAULT_REVISION):
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    head, remote = _remote_files(api, repo_id, revision)
    return api.create_commit(
        repo_id,
        _commit_operations(folder, _preset_files(meta), remote or {}),
        commit_message=commit_message or f"Upload {meta.get('preset')} (aezoo {meta.get('aezoo_version')})",
        revision=revision,
        parent_commit=head,
    )


def _catalog_repo(meta, folder):
    if meta.get("preset") not in catalog.PRESETS:
        raise ValueError(f"{folder} holds preset {meta.get('preset')!r}, not in the preset table: pass repo_id")
    return catalog.PRESETS[meta["preset"]].hf_repo


def _preset_files(meta):
    """The files that make the preset: what metadata.json lists, and metadata.json."""
    return sorted(set(meta["files"]) | {preset_folder.METADATA_FILE})


def _commit_operations(folder, names, remote):
    """Deletions of the remote files the preset does not have, then the preset's files."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    stale = sorted(set(remote) - set(names) - set(HUB_FILES))
    return ([CommitOperationDelete(path_in_repo=path) for path in stale]
            + [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name)) for name in names])


def _remote_files(api, repo_id, revision):
    """``(commit sha, {path: RepoFile})`` of a Hub branch; ``(None, None)`` if the repo or
    the revision does not exist. The listing is read at that commit, so it is consistent."""
    from huggingface_hub import RepoFile, constants
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        head = api.repo_info(repo_id, revision=revision or constants.DEFAULT_REVISION).sha
        tree = api.list_repo_tree(repo_id, revision=head or revision, recursive=True)
        return head, {entry.path: entry for entry in tree if isinstance(entry, RepoFile)}
    except (RepositoryNotFoundError, RevisionNotFoundError):
        return None, None


# ------------------------------------------------------------------------ sync
def sync(names="*", org=catalog.HF_ORG, *, weights_dir=None, token=None, revision=None,
         private=False, endpoint=None, dry_run=False):
    """Push the local presets whose Hub copy differs; skip the rest.

    A preset counts as unchanged only when the Hub branch holds exactly its files, each
    with the same content (by the Hub's own ids: sha256 for LFS files, the git blob id for
    the rest), so an edit to metadata.json or README.md alone is pushed too, and so is a
    Hub copy edited on the website or holding a file the preset no longer has.

    Args:
        names: preset names, or a wildcard over the table's names (``"*vae*"``).
        org: the Hub organisation; repos are ``<org>/<preset>``.
        weights_dir: the folder of preset folders (default: ``preset_load.bundled_weights_dir()``).
        dry_run: report what would be uploaded, upload nothing.

    Returns:
        ``{name: "uploaded" | "unchanged" | "would upload" | "no local weights"}``.
    """
    from huggingface_hub import HfApi

    names = catalog.list_presets(names) if isinstance(names, str) else list(names)
    root = Path(weights_dir) if weights_dir is not None else preset_load.bundled_weights_dir()
    api = HfApi(endpoint=endpoint, token=token, **_library())
    status = {}
    for name in names:
        folder = root / name if root is not None else None
        if folder is None or not (folder / preset_folder.METADATA_FILE).is_file():
            status[name] = "no local weights"
            continue
        local = preset_folder.verify_preset(folder)
        repo_id = f"{org}/{name}"
        remote = _remote_files(api, repo_id, revision)[1]
        if remote is not None and _same_files(folder, _preset_files(local), remote):
            status[name] = "unchanged"
        elif dry_run:
            status[name] = "would upload"
        else:
            push(folder, repo_id, token=token, revision=revision, private=private, endpoint=endpoint)
            status[name] = "uploaded"
    return status


def _same_files(folder, names, remote):
    """True when the Hub copy holds exactly ``names``, byte for byte (``HUB_FILES`` aside)."""
    if set(remote) - set(HUB_FILES) != set(names):
        return False
    return all(_same_content(folder / name, remote[name]) for name in names)


def _same_content(path, entry):
    """Compare by the id the Hub lists: an LFS file's sha256, else the git blob id."""
    if entry.lfs is not None:
        return entry.lfs.sha256 == preset_folder.file_digest(path)["sha256"]
    return entry.blob_id == _git_blob_id(path)


def _git_blob_id(path, chunk_size=1 << 20):
    """The id git gives a file: sha1 of ``blob <size>\\0`` and its bytes (read in chunks)."""
    digest = hashlib.sha1(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _local_folder(folder_or_preset):
    text = os.fspath(folder_or_preset)
    if Path(text).expanduser().is_dir():
        return Path(text).expanduser()
    spec = catalog.get_preset(text)
    root = preset_load.bundled_weights_dir()
    if root is None or not (root / spec.name).is_dir():
        raise FileNotFoundError(f"No bundled weights for preset {spec.name!r} (looked in {root})")
    return root / spec.name
