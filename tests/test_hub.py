"""aezoo.hub and aezoo.presets, offline: every request stays on 127.0.0.1.

The Hugging Face cache is a folder under tmp_path, written in the real cache layout;
the Hub is ``FakeHub``, a loopback HTTP server that answers the endpoints
huggingface_hub 2.x calls for ``create_repo``, ``upload_folder`` (preupload, LFS batch
+ PUT, NDJSON commit) and ``hf_hub_download`` (HEAD/GET resolve), and records what
arrives. A guard fixture refuses any other connection or DNS lookup.
"""

import base64
import dataclasses
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import threading
import urllib.parse

import numpy as np
import pytest
import keras
from huggingface_hub import constants
from huggingface_hub.utils import _detect_agent, disable_progress_bars, enable_progress_bars

import aezoo
from aezoo import presets

ORG_REPO = "org/tiny"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


# --------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Refuse (and record) any connection or name lookup that is not loopback."""
    refused = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(sock, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            refused.append(address)
            raise ConnectionRefusedError(f"test: no network ({address})")
        return connect(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK:
            refused.append(host)
            raise socket.gaierror(f"test: no network ({host})")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield
    assert refused == [], f"tried to reach the network: {refused}"


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
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0), rtol=1e-6)


# ---------------------------------------------------------------- preset table
def test_preset_table_lists_and_looks_up_names():
    assert presets.list_presets() == sorted([
        "linear-ae-mnist", "dense-ae-mnist", "conv-ae-fashion", "sparse-ae-mnist", "denoising-ae-mnist",
        "contractive-ae-mnist", "dense-vae-mnist", "conv-vae-mnist", "conv-vae-fashion", "conv-vae-fashion-2d",
        "conv-vae-faces", "conv-vae-faces-2d", "beta-vae-faces"])
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
        assert spec.recipe.startswith("recipes/") and spec.dataset


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


# ------------------------------------------------------------------- fake Hub
class FakeHub(http.server.ThreadingHTTPServer):
    """The Hub endpoints huggingface_hub uses to create a repo, commit files and read
    one, served from memory on 127.0.0.1. ``lfs_suffixes``: files the preupload
    answer sends through LFS (batch + PUT) rather than inline base64."""

    daemon_threads = True

    def __init__(self, lfs_suffixes=()):
        super().__init__(("127.0.0.1", 0), _FakeHubHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lfs_suffixes = tuple(lfs_suffixes)
        self.repos = {}  # repo_id -> {"files": {path: bytes}, "head": commit}
        self.lfs = {}  # sha256 -> bytes, from PUT uploads
        self.commits = []  # (repo_id, [ndjson items])
        self.requests = []  # (method, path)
        self.unexpected = []

    def create(self, repo_id):
        self.repos[repo_id] = {"files": {".gitattributes": b"*.h5 filter=lfs diff=lfs merge=lfs -text\n"},
                               "head": hashlib.sha1(repo_id.encode()).hexdigest()}


class _FakeHubHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._route("HEAD")

    do_GET = do_HEAD

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._route("PUT")

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return body
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status, payload=None, body=b"", headers=()):
        if payload is not None:
            body = json.dumps(payload).encode()
        self.send_response(status)
        for key, value in dict(headers).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _missing(self, code):
        self._send(404, {"error": code}, headers={"X-Error-Code": code})

    def _route(self, method):
        hub_, path = self.server, urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        body = self._read_body() if method in ("POST", "PUT") else b""
        hub_.requests.append((method, path))
        repo = r"([\w.-]+/[\w.-]+)"
        if method == "POST" and path == "/api/repos/create":
            request = json.loads(body)
            repo_id = f"{request['organization']}/{request['name']}"
            if repo_id in hub_.repos:
                return self._send(409, {"error": "You already created this model repo",
                                       "url": f"{hub_.url}/{repo_id}"})
            hub_.create(repo_id)
            return self._send(200, {"url": f"{hub_.url}/{repo_id}"})
        if method == "POST" and path == "/api/validate-yaml":
            return self._send(200, {"errors": [], "warnings": []})
        if method == "POST" and (m := re.fullmatch(rf"/api/models/{repo}/(preupload|commit)/[^/]+", path)):
            if m[1] not in hub_.repos:
                return self._missing("RepoNotFound")
            return self._preupload(json.loads(body)) if m[2] == "preupload" else self._commit(m[1], body)
        if method == "POST" and (m := re.fullmatch(rf"/{repo}\.git/info/lfs/objects/batch", path)):
            objects = [dict(o, authenticated=True) if o["oid"] in hub_.lfs else
                       dict(o, actions={"upload": {"href": f"{hub_.url}/lfs-upload/{o['oid']}"},
                                        "verify": {"href": f"{hub_.url}/lfs-verify"}})
                       for o in json.loads(body)["objects"]]
            return self._send(200, {"transfer": "basic", "objects": objects})
        if method == "PUT" and (m := re.fullmatch(r"/lfs-upload/([0-9a-f]{64})", path)):
            if hashlib.sha256(body).hexdigest() != m[1]:
                return self._send(400, {"error": "sha256 mismatch"})
            hub_.lfs[m[1]] = body
            return self._send(200)
        if method == "POST" and path == "/lfs-verify":
            return self._send(200 if json.loads(body)["oid"] in hub_.lfs else 404, {})
        if method in ("HEAD", "GET") and (m := re.fullmatch(rf"/{repo}/resolve/[^/]+/(.+)", path)):
            if m[1] not in hub_.repos:
                return self._missing("RepoNotFound")
            stored = hub_.repos[m[1]]
            if m[2] not in stored["files"]:
                return self._missing("EntryNotFound")
            data = stored["files"][m[2]]
            return self._send(200, body=data, headers={"ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                                                       "X-Repo-Commit": stored["head"]})
        hub_.unexpected.append((method, path))
        return self._send(404, {"error": "not served by FakeHub"})

    def _preupload(self, request):
        files = [{"path": f["path"], "uploadMode": "lfs" if f["path"].endswith(self.server.lfs_suffixes)
                  else "regular", "shouldIgnore": False, "oid": None} for f in request["files"]]
        return self._send(200, {"files": files})

    def _commit(self, repo_id, body):
        items = [json.loads(line) for line in body.splitlines() if line.strip()]
        files = dict(self.server.repos[repo_id]["files"])
        for item in items:
            value = item["value"]
            if item["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] == "lfsFile":
                if value["oid"] not in self.server.lfs:
                    return self._send(400, {"error": f"LFS object {value['oid']} was never uploaded"})
                files[value["path"]] = self.server.lfs[value["oid"]]
        head = hashlib.sha1(body).hexdigest()
        self.server.repos[repo_id] = {"files": files, "head": head}
        self.server.commits.append((repo_id, items))
        return self._send(200, {"commitUrl": f"{self.server.url}/{repo_id}/commit/{head}", "commitOid": head,
                                "success": True})


@pytest.fixture
def fake_hub(hf_cache, monkeypatch):
    server = FakeHub()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    watchdog = threading.Timer(120, server.shutdown)  # a hung test cannot keep it alive
    watchdog.daemon = True
    watchdog.start()
    # calls that fall back to the default endpoint stay local too
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
    try:
        yield server
    finally:
        watchdog.cancel()
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert server.unexpected == []


def local_files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# ------------------------------------------------------------------------ push
def test_push_sends_every_file_byte_for_byte(tiny, fake_hub):
    folder = tiny[0]
    info = presets.push(folder, ORG_REPO, token="hf_test", endpoint=fake_hub.url)
    remote = fake_hub.repos[ORG_REPO]
    assert info.oid == remote["head"]
    assert {k: v for k, v in remote["files"].items() if k != ".gitattributes"} == local_files(folder)
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
    assert {k: v for k, v in fake_hub.repos[ORG_REPO]["files"].items() if k != ".gitattributes"} \
        == local_files(folder)


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
    assert fake_hub.repos["org/linear-ae-mnist"]["files"]["README.md"] == b"# a new card\n"
