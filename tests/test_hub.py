"""aezoo.hub and aezoo.presets, offline: every request stays on 127.0.0.1.

The Hugging Face cache is a folder under tmp_path, written in the real cache layout;
the Hub is the loopback Hub of tests/loopback_hub.py, an HTTP server on 127.0.0.1 that
answers the endpoints huggingface_hub 2.x calls for ``create_repo``, ``create_commit``
(preupload, LFS batch + PUT, NDJSON commit), ``repo_info``, ``list_repo_tree`` and
``hf_hub_download``/``snapshot_download`` (HEAD/GET resolve with Range), keeps commits,
branches and tags, can drop a download mid-file, and records what arrives. A guard
fixture refuses any other connection or DNS lookup.
"""

import dataclasses
import hashlib
import json
import multiprocessing
import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import keras
from huggingface_hub import constants
from huggingface_hub.utils import _detect_agent, disable_progress_bars, enable_progress_bars

import aezoo
from aezoo import presets
from aezoo.cli import main as cli_main
from aezoo.presets.loader import bundled_weights_dir
from loopback_hub import LoopbackHub, pull_in_child, serve

ORG_REPO = "org/tiny"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


# --------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _no_network(loopback_only):
    """Every test here runs with only loopback reachable (conftest's loopback_only)."""
    yield


@pytest.fixture
def hf_cache(monkeypatch, tmp_path):
    """A private Hugging Face home and cache (huggingface_hub reads env at import,
    so its constants are patched too)."""
    cache, home = tmp_path / "hf-cache", tmp_path / "hf-home"
    for name, value in {"HF_HOME": home, "HF_HUB_CACHE": cache, "HF_TOKEN_PATH": home / "token",
                        "AGENT_HARNESSES_PATH": home / "agents.json"}.items():
        monkeypatch.setenv(name, str(value))
        monkeypatch.setattr(constants, name, str(value))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(_detect_agent, "_registry", _detect_agent._EMPTY_REGISTRY)
    disable_progress_bars()
    yield cache
    enable_progress_bars()


@pytest.fixture
def offline(monkeypatch, hf_cache):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return hf_cache


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(folder, model, x): one small saved preset, shared read-only by this module."""
    model = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,))
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype="float32")
    folder = presets.save_preset(model, tmp_path_factory.mktemp("presets") / "tiny", preset="tiny",
                                metadata={"dataset": "mnist", "metrics": {"mse_per_pixel": 0.02, "squared_error_per_image": 15.7}},
                                demo_inputs=x[:2])
    return folder, model, x


@pytest.fixture
def empty_bundle(monkeypatch, tmp_path):
    root = tmp_path / "weights"
    root.mkdir()
    monkeypatch.setattr("aezoo.presets.loader.bundled_weights_dir", lambda: root)
    return root


def put_in_cache(cache, repo_id, folder, commit=COMMIT):
    """Lay ``folder`` out as huggingface_hub's cache does: blobs, snapshot symlinks, refs/main."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for path in sorted(folder.iterdir()):
        blob = repo / "blobs" / hashlib.sha256(path.read_bytes()).hexdigest()
        shutil.copyfile(path, blob)
        os.symlink(os.path.relpath(blob, snapshot), snapshot / path.name)
    return snapshot


def assert_same_model(model, reference, x):
    np.testing.assert_allclose(model.reconstruct(x), reference.reconstruct(x), rtol=1e-6)


# ---------------------------------------------------------------- preset table
def test_preset_table_lists_and_looks_up_names():
    bundled = sorted(p.name for p in bundled_weights_dir().iterdir() if (p / "config.json").is_file())
    assert presets.list_presets() == bundled  # every catalogued preset ships weights, and no folder is orphaned
    assert {"linear-ae-mnist", "conv-vae-faces", "iwae-mnist", "gru-ae-vowels"} <= set(bundled)
    assert presets.list_presets("*vae-faces") == ["beta-vae-faces", "conv-vae-faces"]
    spec = presets.get_preset("conv-vae-faces")
    assert spec.hf_repo == "aezoo/conv-vae-faces" and spec.image_shape == (64, 64, 3)
    assert hash(spec) == hash(presets.get_preset("conv-vae-faces"))  # frozen, hashable
    with pytest.raises(TypeError):
        spec.config["latent_dim"] = 2  # read-only
    with pytest.raises(ValueError, match="conv-vae-faces"):
        presets.get_preset("conv-vae-face")


def test_every_preset_config_builds_its_architecture():
    for spec in presets.PRESETS.values():
        model = spec.build()
        assert model.architecture == spec.architecture and tuple(model.data_shape) == spec.image_shape
        assert spec.recipe.startswith("recipes/") and (spec.dataset or spec.converted_from)


def test_preset_table_reads_bundled_metadata(tiny, empty_bundle):
    shutil.copytree(tiny[0], empty_bundle / "dense-ae-mnist")
    rows = presets.preset_table("dense-*")
    assert [r.name for r in rows] == ["dense-ae-mnist", "dense-vae-mnist"]
    assert rows[0] == ("dense-ae-mnist", "dense-ae", "mnist", tiny[1].count_params(), "squared_error_per_image", 15.7)
    assert rows[1].params is None and rows[1].value is None and rows[1].metric == "nll_is"


def test_bundled_weights_dir_in_a_checkout():
    root = presets.bundled_weights_dir()
    assert root is not None and root.name in ("weights", "_weights") and root.is_dir()


# ------------------------------------------------------------------------ load
def pin_to(monkeypatch, name, folder):
    """Make the catalog pin ``name`` to ``folder``'s manifest (tests use tiny stand-ins)."""
    spec = dataclasses.replace(presets.get_preset(name), manifest_sha256=presets.folder.manifest_sha256(folder))
    monkeypatch.setitem(presets.PRESETS, name, spec)


def test_load_from_folder_and_bundled_preset_name(tiny, empty_bundle, monkeypatch):
    folder, model, x = tiny
    for source in (folder, str(folder)):
        assert_same_model(presets.load(source), model, x)
    shutil.copytree(folder, empty_bundle / "dense-ae-mnist")
    pin_to(monkeypatch, "dense-ae-mnist", folder)
    loaded = presets.load("dense-ae-mnist")
    assert_same_model(loaded, model, x)
    assert loaded.compiled and loaded.preset_metadata["preset"] == "tiny"


def test_hf_uri_and_pull_resolve_from_offline_cache(tiny, offline):
    folder, model, x = tiny
    snapshot = put_in_cache(offline, ORG_REPO, folder)
    assert_same_model(presets.load(f"hf://{ORG_REPO}"), model, x)
    assert_same_model(presets.load(f"hf://{ORG_REPO}@main"), model, x)
    assert presets.pull(f"hf://{ORG_REPO}") == snapshot
    assert presets.pull(ORG_REPO) == presets.pull(f"hf://{ORG_REPO}@main") == snapshot
    # Keras's own loader reads the same layout from the same cache
    assert_same_model(keras.saving.load_model(f"hf://{ORG_REPO}"), model, x)


def test_preset_name_falls_back_to_the_cache(tiny, offline, empty_bundle, monkeypatch):
    folder, model, x = tiny
    put_in_cache(offline, presets.get_preset("dense-ae-mnist").hf_repo, folder)
    pin_to(monkeypatch, "dense-ae-mnist", folder)
    assert_same_model(presets.load("dense-ae-mnist"), model, x)


def test_missing_everywhere_says_what_was_tried(offline, empty_bundle):
    with pytest.raises(presets.PresetNotFoundError) as info:
        presets.load("conv-vae-faces")
    message = str(info.value)
    for step in ("1. bundled weights", "2. Hugging Face cache", "3. Hugging Face Hub", "aezoo/conv-vae-faces",
                 "pull('conv-vae-faces')"):
        assert step in message
    with pytest.raises(presets.PresetNotFoundError, match="not cached"):
        presets.pull("hf://org/absent")


def test_unknown_name_gets_close_matches(empty_bundle):
    with pytest.raises(ValueError, match="Did you mean: conv-vae-faces"):
        presets.load("conv-vae-face")
    with pytest.raises(FileNotFoundError):
        presets.load(empty_bundle / "absent")


def test_tampered_cache_and_pinned_hash_are_refused(tiny, offline, empty_bundle, monkeypatch):
    snapshot = put_in_cache(offline, ORG_REPO, tiny[0])
    blob = (snapshot / presets.WEIGHTS_FILE).resolve()
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    with pytest.raises(presets.ChecksumError, match="model.weights.h5: sha256 mismatch"):
        presets.load(f"hf://{ORG_REPO}")

    shutil.copytree(tiny[0], empty_bundle / "dense-ae-mnist")
    pinned = dataclasses.replace(presets.get_preset("dense-ae-mnist"), manifest_sha256="0" * 64)
    monkeypatch.setitem(presets.PRESETS, "dense-ae-mnist", pinned)
    with pytest.raises(presets.ChecksumError, match="is not the 0000.* that aezoo pins"):
        presets.load("dense-ae-mnist")


# ------------------------------------------------------------- loopback Hub
@pytest.fixture
def fake_hub(hf_cache, monkeypatch):
    """The loopback Hub (tests/loopback_hub.py), with huggingface_hub pointed at it:
    HF_ENDPOINT for spawned processes, the constants for this one."""
    server = LoopbackHub()
    stop = serve(server)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
    try:
        yield server
    finally:
        stop()
    assert server.unexpected == []


def local_files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def remote_files(hub, repo_id, revision="main"):
    """The repo's files at a revision, less the .gitattributes the Hub adds."""
    return {k: v for k, v in hub.files(repo_id, revision).items() if k != ".gitattributes"}


# ------------------------------------------------------------------------ push
def test_push_sends_every_file_byte_for_byte(tiny, fake_hub):
    folder = tiny[0]
    info = presets.push(folder, ORG_REPO, token="hf_test", endpoint=fake_hub.url)
    assert info.oid == fake_hub.head(ORG_REPO)
    assert remote_files(fake_hub, ORG_REPO) == local_files(folder)
    # small files travel inline (base64 in the NDJSON commit), one commit with all of them
    (repo_id, items), = fake_hub.commits
    assert items[0]["key"] == "header" and {i["value"]["path"] for i in items[1:]} == set(local_files(folder))
    paths = [p for _, p in fake_hub.requests]
    assert paths[0] == "/api/repos/create" and f"/api/models/{ORG_REPO}/preupload/main" in paths
    # pushing again is fine (the repo exists: 409 is accepted)
    presets.push(folder, ORG_REPO, token="hf_test", endpoint=fake_hub.url)
    assert len(fake_hub.commits) == 2


def test_push_through_lfs_uploads_the_weights_with_put(tiny, fake_hub, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # the plain LFS protocol
    fake_hub.lfs_suffixes = (".h5", ".npy")
    folder = tiny[0]
    presets.push(folder, ORG_REPO, token="hf_test", endpoint=fake_hub.url)
    weights = (folder / presets.WEIGHTS_FILE).read_bytes()
    assert fake_hub.lfs[hashlib.sha256(weights).hexdigest()] == weights
    assert ("PUT", f"/lfs-upload/{hashlib.sha256(weights).hexdigest()}") in fake_hub.requests
    (_, items), = fake_hub.commits
    lfs_paths = {i["value"]["path"] for i in items if i["key"] == "lfsFile"}
    assert lfs_paths == {presets.WEIGHTS_FILE, presets.DEMO_FILE}
    assert remote_files(fake_hub, ORG_REPO) == local_files(folder)


def test_sync_uploads_only_changed_presets(tiny, fake_hub, tmp_path):
    root = tmp_path / "weights"
    for name in ("dense-ae-mnist", "linear-ae-mnist", "sparse-ae-mnist"):
        shutil.copytree(tiny[0], root / name)
    presets.push(root / "dense-ae-mnist", "org/dense-ae-mnist", token="hf_test", endpoint=fake_hub.url)
    fake_hub.create("org/sparse-ae-mnist")  # a repo without metadata.json
    kwargs = {"org": "org", "weights_dir": root, "token": "hf_test", "endpoint": fake_hub.url}
    names = ["dense-ae-mnist", "linear-ae-mnist", "sparse-ae-mnist", "conv-vae-faces"]

    assert presets.sync(names, dry_run=True, **kwargs) == {
        "dense-ae-mnist": "unchanged", "linear-ae-mnist": "would upload", "sparse-ae-mnist": "would upload",
        "conv-vae-faces": "no local weights"}
    assert len(fake_hub.commits) == 1
    assert presets.sync(names, **kwargs) == {
        "dense-ae-mnist": "unchanged", "linear-ae-mnist": "uploaded", "sparse-ae-mnist": "uploaded",
        "conv-vae-faces": "no local weights"}
    assert [repo for repo, _ in fake_hub.commits] == ["org/dense-ae-mnist", "org/linear-ae-mnist",
                                                      "org/sparse-ae-mnist"]
    presets.write_model_card(root / "linear-ae-mnist", "# a new card\n")  # one file changes
    assert presets.sync("*-ae-mnist", **kwargs) == {
        "contractive-ae-mnist": "no local weights", "dense-ae-mnist": "unchanged",
        "denoising-ae-mnist": "no local weights", "linear-ae-mnist": "uploaded",
        "sparse-ae-mnist": "unchanged"}
    assert fake_hub.files("org/linear-ae-mnist")["README.md"] == b"# a new card\n"


# -------------------------------------------------------- push deletes, sync sees all
def edit_metadata(folder, **fields):
    """Change metadata.json only (its files manifest still holds): a metadata-only change."""
    path = folder / presets.METADATA_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}, indent=2) + "\n")
    presets.verify_preset(folder)
    return folder


def drop_file(folder, name):
    """Remove a file from a preset, and from its manifest."""
    (folder / name).unlink()
    meta = json.loads((folder / presets.METADATA_FILE).read_text())
    del meta["files"][name]
    (folder / presets.METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    presets.verify_preset(folder)


def test_push_deletes_remote_files_the_preset_no_longer_has(tiny, fake_hub, tmp_path):
    folder = shutil.copytree(tiny[0], tmp_path / "tiny")
    presets.push(folder, ORG_REPO, token="hf_test", endpoint=fake_hub.url)
    fake_hub.commit_files(ORG_REPO, {"notes.txt": b"added on the Hub's website\n"})
    drop_file(folder, presets.DEMO_FILE)
    head = fake_hub.head(ORG_REPO)

    presets.push(folder, ORG_REPO, token="hf_test", endpoint=fake_hub.url)
    assert remote_files(fake_hub, ORG_REPO) == local_files(folder)
    assert ".gitattributes" in fake_hub.files(ORG_REPO)  # the Hub's own file stays
    # one commit: the stale files deleted beside the preset's files, based on the head it listed
    (_, items) = fake_hub.commits[-1]
    assert len(fake_hub.commits) == 2 and items[0]["value"]["parentCommit"] == head
    assert {i["value"]["path"] for i in items if i["key"] == "deletedFile"} == {presets.DEMO_FILE, "notes.txt"}
    assert {i["value"]["path"] for i in items if i["key"] == "file"} == set(local_files(folder))


def test_sync_pushes_metadata_only_and_hub_side_changes(tiny, fake_hub, tmp_path):
    root = tmp_path / "weights"
    folder = shutil.copytree(tiny[0], root / "dense-ae-mnist")
    kwargs = {"org": "org", "weights_dir": root, "token": "hf_test", "endpoint": fake_hub.url}
    assert presets.sync(["dense-ae-mnist"], **kwargs) == {"dense-ae-mnist": "uploaded"}
    assert presets.sync(["dense-ae-mnist"], **kwargs) == {"dense-ae-mnist": "unchanged"}

    edit_metadata(folder, metrics={"mse_per_pixel": 0.019, "squared_error_per_image": 14.9})
    assert presets.sync(["dense-ae-mnist"], dry_run=True, **kwargs) == {"dense-ae-mnist": "would upload"}
    assert presets.sync(["dense-ae-mnist"], **kwargs) == {"dense-ae-mnist": "uploaded"}
    assert remote_files(fake_hub, "org/dense-ae-mnist") == local_files(folder)
    assert presets.sync(["dense-ae-mnist"], **kwargs) == {"dense-ae-mnist": "unchanged"}

    # the Hub copy edited on the website (the card), or given an extra file: both differ from the preset
    fake_hub.commit_files("org/dense-ae-mnist", {presets.CARD_FILE: b"# edited on the Hub\n"})
    assert presets.sync(["dense-ae-mnist"], dry_run=True, **kwargs) == {"dense-ae-mnist": "would upload"}
    presets.sync(["dense-ae-mnist"], **kwargs)
    fake_hub.commit_files("org/dense-ae-mnist", {"stray.bin": b"\0"})
    assert presets.sync(["dense-ae-mnist"], **kwargs) == {"dense-ae-mnist": "uploaded"}
    assert remote_files(fake_hub, "org/dense-ae-mnist") == local_files(folder)


def test_sync_compares_lfs_files_by_sha256(tiny, fake_hub, tmp_path):
    root = tmp_path / "weights"
    folder = shutil.copytree(tiny[0], root / "dense-ae-mnist")
    fake_hub.publish("org/dense-ae-mnist", folder)  # weights and demo inputs stored through LFS
    kwargs = {"org": "org", "weights_dir": root, "token": "hf_test", "endpoint": fake_hub.url}
    assert presets.sync(["dense-ae-mnist"], dry_run=True, **kwargs) == {"dense-ae-mnist": "unchanged"}
    weights = bytearray((folder / presets.WEIGHTS_FILE).read_bytes())
    weights[-1] ^= 1
    fake_hub.commit_files("org/dense-ae-mnist", {presets.WEIGHTS_FILE: bytes(weights)},
                          lfs={presets.WEIGHTS_FILE})
    assert presets.sync(["dense-ae-mnist"], dry_run=True, **kwargs) == {"dense-ae-mnist": "would upload"}


# ------------------------------------------------------------------------ pull
WEIGHTS = presets.WEIGHTS_FILE


def weights_gets(hub, since=0):
    return [(d["range"], d["status"], d["sent"]) for d in hub.downloads[since:] if d["path"] == WEIGHTS]


def test_pull_resumes_an_interrupted_download(tiny, fake_hub, monkeypatch):
    folder, model, x = tiny
    fake_hub.publish(ORG_REPO, folder)
    # huggingface_hub keeps what it received in whole DOWNLOAD_CHUNK_SIZE pieces (10 MB): with
    # 1 KiB pieces this small file resumes as a large one does, from the last whole piece
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 1024)
    size = len((folder / WEIGHTS).read_bytes())
    cut = size // 3 // 1024 * 1024

    # the connection drops a third of the way into the weights; the resume gets a 503
    fake_hub.faults[WEIGHTS] = [("cut", cut), ("status", 503)]
    with pytest.raises(presets.PresetNotFoundError) as info:
        presets.pull(ORG_REPO)
    message = str(info.value)
    for part in (repr(ORG_REPO), "revision 'main'", fake_hub.url, "pull again"):
        assert part in message
    assert "\n" not in message and info.value.__cause__ is None and info.value.__suppress_context__
    assert weights_gets(fake_hub) == [(None, 200, cut), (f"bytes={cut}-", 503, 0)]

    # pulling again resumes: only the weights are fetched, the connection drops once more,
    # and the client carries on from the byte where it dropped
    before = len(fake_hub.downloads)
    fake_hub.faults[WEIGHTS] = [("cut", cut)]
    snapshot = presets.pull(ORG_REPO)
    assert {d["path"] for d in fake_hub.downloads[before:]} == {WEIGHTS}
    assert weights_gets(fake_hub, before) == [(None, 200, cut), (f"bytes={cut}-", 206, size - cut)]
    assert local_files(snapshot) == local_files(folder)
    assert_same_model(presets.load(snapshot), model, x)
    assert not list(repo_cache(snapshot).rglob("*.incomplete"))


def repo_cache(snapshot):
    """The cache's ``models--org--name`` folder that holds a snapshot."""
    return snapshot.parents[1]


def test_two_processes_pull_the_same_preset_at_once(tiny, fake_hub, monkeypatch):
    folder, model, x = tiny
    fake_hub.publish(ORG_REPO, folder)
    fake_hub.slow[WEIGHTS] = 0.25  # about 2 s per weights download: the two pulls overlap
    for name, value in {"HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_TELEMETRY": "1",
                        "HF_HUB_DISABLE_PROGRESS_BARS": "1"}.items():
        monkeypatch.setenv(name, value)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=pull_in_child, args=(ORG_REPO, barrier, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=240) for _ in workers]
    finally:
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert outcomes[0][1] == outcomes[1][1]
    snapshot = Path(outcomes[0][1])
    assert local_files(snapshot) == local_files(folder)
    assert_same_model(presets.load(snapshot), model, x)
    assert not list(repo_cache(snapshot).parent.rglob("*.incomplete"))  # the whole cache
    # both processes asked for the commit before the first weights download had finished
    weights_done = min(d["end"] for d in fake_hub.downloads if d["path"] == WEIGHTS)
    infos = [t for t, _, path in fake_hub.log if path == f"/api/models/{ORG_REPO}/revision/main"]
    assert len(infos) == 2 and max(infos) < weights_done


def test_pull_by_name_gets_the_pinned_revision_after_main_moved_on(tiny, fake_hub, empty_bundle, monkeypatch,
                                                                   tmp_path):
    folder, model, x = tiny
    repo = presets.get_preset("dense-ae-mnist").hf_repo
    v1 = fake_hub.publish(repo, folder)
    fake_hub.tag(repo, "v1", v1)
    newer = edit_metadata(shutil.copytree(folder, tmp_path / "newer"), description="retrained")
    fake_hub.publish(repo, newer)  # main moves on
    pinned = dataclasses.replace(presets.get_preset("dense-ae-mnist"), revision=v1,
                                 manifest_sha256=presets.folder.manifest_sha256(folder))
    monkeypatch.setitem(presets.PRESETS, "dense-ae-mnist", pinned)

    snapshot = presets.pull("dense-ae-mnist")
    assert snapshot.name == v1 and local_files(snapshot) == local_files(folder)
    assert local_files(presets.pull(f"hf://{repo}@v1")) == local_files(folder)  # a tag
    assert local_files(presets.pull(repo, revision=v1)) == local_files(folder)  # a commit
    assert local_files(presets.pull(repo, revision="main")) == local_files(newer)  # asked for main: main
    # offline, loading the name finds the pinned commit in the cache
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert_same_model(presets.load("dense-ae-mnist"), model, x)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("case", ["no such repo", "no such revision", "hub unreachable", "offline, not cached"])
def test_pull_failures_are_one_clear_error(case, tiny, fake_hub, monkeypatch, capsys):
    fake_hub.publish(ORG_REPO, tiny[0])
    repo, revision, expected = {
        "no such repo": ("org/absent", None, "does not exist, or is private or gated"),
        "no such revision": (ORG_REPO, "v9", "has no such branch, tag or commit"),
        "hub unreachable": (ORG_REPO, None, "Check the network"),
        "offline, not cached": (ORG_REPO, None, "offline mode is on (HF_HUB_OFFLINE=1) and it is not cached"),
    }[case]
    if case == "hub unreachable":
        dead = f"http://127.0.0.1:{free_port()}"
        monkeypatch.setattr(constants, "ENDPOINT", dead)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", dead + "/{repo_id}/resolve/{revision}/{filename}")
    if case == "offline, not cached":
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(presets.PresetNotFoundError) as info:
        presets.pull(repo, revision=revision)
    message = str(info.value)
    assert expected in message and f"{repo!r} at revision {revision or 'main'!r}" in message
    assert "\n" not in message and info.value.__cause__ is None and info.value.__suppress_context__
    # the CLI: exit code 2 and that one line, no traceback
    argv = ["pull", repo] + (["--revision", revision] if revision else [])
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"aezoo pull: error: {message}"]


# ------------------------------------------------------- converted checkpoints
def test_a_diffusers_vae_in_a_pipeline_subfolder_converts_through_the_hub_once(fake_hub, monkeypatch, tmp_path):
    """hf://org/repo/vae: the subfolder alone is downloaded (at a pinned commit), converted
    once into aezoo's cache with its source recorded, then served from there."""
    torch = pytest.importorskip("torch", reason="torch builds the diffusers original")
    diffusers = pytest.importorskip("diffusers", reason="diffusers is a test dependency ([test] extra)")
    monkeypatch.setenv("AEZOO_CACHE", str(tmp_path / "aezoo-cache"))
    torch.manual_seed(0)
    ref = diffusers.AutoencoderTiny(latent_channels=4).eval()
    ref.save_pretrained(tmp_path / "vae")
    files = {f"vae/{p.name}": p.read_bytes() for p in (tmp_path / "vae").iterdir()}
    files["unet/diffusion_pytorch_model.safetensors"] = b"not downloaded"
    files["README.md"] = b"---\nlicense: mit\n---\n# a pipeline\n"
    commit = fake_hub.commit_files("org/pipe", files)
    model = aezoo.load(f"hf://org/pipe/vae@{commit}")
    fetched = {d["path"] for d in fake_hub.downloads}
    assert "unet/diffusion_pytorch_model.safetensors" not in fetched and "vae/config.json" in fetched
    meta = model.preset_metadata
    assert meta["converted_from"] == f"hf://org/pipe/vae@{commit}" and meta["license"] == "mit"
    sha = meta["source"]["files"]["diffusion_pytorch_model.safetensors"]["sha256"]
    assert sha == hashlib.sha256(files["vae/diffusion_pytorch_model.safetensors"]).hexdigest()
    x = np.random.default_rng(0).uniform(0, 1, (1, 16, 16, 3)).astype("float32")
    with torch.no_grad():
        z_ref = ref.encode(torch.from_numpy(x.transpose(0, 3, 1, 2) * 2 - 1)).latents.numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(model.encode(x), z_ref, atol=1e-4)
    before = len(fake_hub.downloads)
    again = aezoo.load(f"hf://org/pipe/vae@{commit}")  # the converted folder in the cache, verified
    assert len(fake_hub.downloads) == before and again.preset_metadata["converted_from"] == meta["converted_from"]
    with pytest.raises(FileNotFoundError, match="has no folder 'vea'"):
        aezoo.load(f"hf://org/pipe/vea@{commit}")
    with pytest.raises(ValueError, match="subfolder must be plain names"):
        aezoo.load("hf://org/pipe/../x")
