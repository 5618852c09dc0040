"""A loopback Hugging Face Hub for the tests: a ``http.server`` thread on 127.0.0.1.

It answers the endpoints huggingface_hub 2.x calls, from memory, with git-like history
(commits, branches, tags):

- ``create_repo``: ``POST /api/repos/create``;
- ``create_commit`` / ``upload_folder``: preupload, LFS batch + PUT + verify, and the
  NDJSON commit (``file``, ``lfsFile``, ``deletedFile``; ``parentCommit`` is enforced);
- ``repo_info`` / ``model_info``: ``GET /api/models/<repo>[/revision/<rev>]``;
- ``list_repo_tree``: ``GET /api/models/<repo>/tree/<rev>`` (git blob ids, LFS sha256);
- ``hf_hub_download`` / ``snapshot_download``: ``HEAD``/``GET /<repo>/resolve/<rev>/<file>``
  with ``Range`` (206) support.

Faults for download tests: ``faults[file]`` is a list of one-shot answers to the next GETs
of that file: ``("cut", n)`` sends the headers of the whole file, n bytes, then drops the
connection; ``("status", code)`` answers ``code``. ``slow[file] = seconds`` sends the file
in 8 pieces with that pause between them. Every GET of a file is logged in ``downloads``.

Nothing here imports aezoo: spawned test processes import this module quickly.
"""

import base64
import hashlib
import http.server
import json
import re
import threading
import time
import urllib.parse

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
GITATTRIBUTES = b"*.h5 filter=lfs diff=lfs merge=lfs -text\n*.npy filter=lfs diff=lfs merge=lfs -text\n"


def git_blob_id(data):
    """The id git gives a file's bytes (what the Hub's tree lists as ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class LoopbackHub(http.server.ThreadingHTTPServer):
    """The Hub, in memory, on 127.0.0.1. ``lfs_suffixes``: files the preupload answer
    sends through LFS (batch + PUT) rather than inline base64."""

    daemon_threads = True

    def __init__(self, lfs_suffixes=()):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lfs_suffixes = tuple(lfs_suffixes)
        self.repos = {}  # repo_id -> {"refs": {name: sha}, "commits": {sha: {"files": {path: bytes}, "lfs": set}}}
        self.lfs = {}  # sha256 -> bytes, from PUT uploads
        self.commits = []  # (repo_id, [ndjson items]) of every commit a client made
        self.requests = []  # (method, path)
        self.log = []  # (time, method, path)
        self.downloads = []  # one dict per GET of a file: path, range, status, sent, start, end
        self.faults = {}
        self.slow = {}
        self.unexpected = []
        self._lock = threading.Lock()

    # ----------------------------------------------------------- repo state
    def create(self, repo_id):
        """A new repo whose first commit holds a .gitattributes, as the Hub makes it."""
        self.repos[repo_id] = {"refs": {}, "commits": {}}
        self.commit_files(repo_id, {".gitattributes": GITATTRIBUTES})

    def commit_files(self, repo_id, files, lfs=(), delete=(), branch="main"):
        """Commit straight into the store (as an edit on the Hub's website would); returns the sha."""
        if repo_id not in self.repos:
            self.create(repo_id)
        with self._lock:
            repo = self.repos[repo_id]
            parent = repo["commits"].get(repo["refs"].get(branch), {"files": {}, "lfs": set()})
            tree = {p: d for p, d in parent["files"].items() if p not in delete}
            tree.update(files)
            stored = {p for p in parent["lfs"] if p in tree and p not in files} | set(lfs)
            sha = hashlib.sha1(repr((repo["refs"].get(branch), sorted(tree.items()))).encode()
                               + str(time.monotonic_ns()).encode()).hexdigest()
            repo["commits"][sha] = {"files": tree, "lfs": stored}
            repo["refs"][branch] = sha
            return sha

    def publish(self, repo_id, folder, branch="main"):
        """Commit a preset folder's files, weights and demo inputs through LFS; returns the sha."""
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        return self.commit_files(repo_id, files, lfs={p for p in files if p.endswith((".h5", ".npy"))},
                                 branch=branch)

    def tag(self, repo_id, name, revision):
        self.repos[repo_id]["refs"][name] = self.resolve(repo_id, revision)

    def resolve(self, repo_id, revision):
        """The commit sha a branch, tag or sha names; None if there is none."""
        repo = self.repos[repo_id]
        return repo["refs"].get(revision) or (revision if revision in repo["commits"] else None)

    def head(self, repo_id, branch="main"):
        return self.repos[repo_id]["refs"][branch]

    def files(self, repo_id, revision="main"):
        """``{path: bytes}`` of the repo at a revision."""
        return dict(self.repos[repo_id]["commits"][self.resolve(repo_id, revision)]["files"])

    def tree_entry(self, repo_id, sha, path):
        """One ``list_repo_tree`` item: regular files by git blob id, LFS files by pointer and sha256."""
        commit = self.repos[repo_id]["commits"][sha]
        data = commit["files"][path]
        entry = {"type": "file", "path": path, "size": len(data), "oid": git_blob_id(data)}
        if path in commit["lfs"]:
            sha256 = hashlib.sha256(data).hexdigest()
            pointer = LFS_POINTER.format(sha256=sha256, size=len(data)).encode()
            entry.update(oid=git_blob_id(pointer), lfs={"oid": sha256, "size": len(data), "pointerSize": len(pointer)})
        return entry

    def next_fault(self, path):
        with self._lock:
            queue = self.faults.get(path) or []
            return queue.pop(0) if queue else None


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._route("HEAD")

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._route("PUT")

    # --------------------------------------------------------------- plumbing
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
        hub, path = self.server, urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        body = self._read_body() if method in ("POST", "PUT") else b""
        hub.requests.append((method, path))
        hub.log.append((time.monotonic(), method, path))
        for pattern, methods, handler in _ROUTES:
            if method in methods and (m := re.fullmatch(pattern, path)):
                return handler(self, *m.groups(), body=body)
        hub.unexpected.append((method, path))
        return self._send(404, {"error": "not served by the loopback Hub"})

    def _repo_at(self, repo_id, revision):
        """``(repo_id, sha)``, or None after answering 404 RepoNotFound / RevisionNotFound."""
        if repo_id not in self.server.repos:
            return self._missing("RepoNotFound")
        sha = self.server.resolve(repo_id, revision)
        if sha is None:
            return self._missing("RevisionNotFound")
        return repo_id, sha

    # -------------------------------------------------------------- endpoints
    def _create_repo(self, body):
        request, hub = json.loads(body), self.server
        repo_id = f"{request['organization']}/{request['name']}"
        if repo_id in hub.repos:
            return self._send(409, {"error": "You already created this model repo", "url": f"{hub.url}/{repo_id}"})
        hub.create(repo_id)
        return self._send(200, {"url": f"{hub.url}/{repo_id}"})

    def _validate_yaml(self, body):
        return self._send(200, {"errors": [], "warnings": []})

    def _model_info(self, repo_id, revision=None, body=b""):
        if (found := self._repo_at(repo_id, revision or "main")) is None:
            return None
        files = self.server.repos[repo_id]["commits"][found[1]]["files"]
        return self._send(200, {"id": repo_id, "sha": found[1], "private": False,
                                "siblings": [{"rfilename": p} for p in sorted(files)]})

    def _tree(self, repo_id, revision, body=b""):
        if (found := self._repo_at(repo_id, revision)) is None:
            return None
        files = self.server.repos[repo_id]["commits"][found[1]]["files"]
        return self._send(200, [self.server.tree_entry(repo_id, found[1], p) for p in sorted(files)])

    def _preupload(self, repo_id, revision, body):
        if repo_id not in self.server.repos:
            return self._missing("RepoNotFound")
        files = [{"path": f["path"], "uploadMode": "lfs" if f["path"].endswith(self.server.lfs_suffixes)
                  else "regular", "shouldIgnore": False, "oid": None} for f in json.loads(body)["files"]]
        return self._send(200, {"files": files})

    def _commit(self, repo_id, branch, body):
        hub = self.server
        if repo_id not in hub.repos:
            return self._missing("RepoNotFound")
        items = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = items[0]["value"]
        head = hub.repos[repo_id]["refs"].get(branch)
        if header.get("parentCommit") not in (None, head):
            return self._send(412, {"error": f"parent commit {header['parentCommit']} is not the head {head}"})
        files, lfs, delete = {}, set(), set()
        for item in items[1:]:
            value = item["value"]
            if item["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] == "lfsFile":
                if value["oid"] not in hub.lfs:
                    return self._send(400, {"error": f"LFS object {value['oid']} was never uploaded"})
                files[value["path"]] = hub.lfs[value["oid"]]
                lfs.add(value["path"])
            elif item["key"] == "deletedFile":
                if value["path"] not in hub.files(repo_id, branch):
                    return self._send(404, {"error": f"{value['path']} does not exist"})
                delete.add(value["path"])
            else:
                return self._send(400, {"error": f"unsupported commit item {item['key']}"})
        sha = hub.commit_files(repo_id, files, lfs=lfs, delete=delete, branch=branch)
        hub.commits.append((repo_id, items))
        return self._send(200, {"commitUrl": f"{hub.url}/{repo_id}/commit/{sha}", "commitOid": sha,
                                "success": True})

    def _lfs_batch(self, repo_id, body):
        hub = self.server
        objects = [dict(o, authenticated=True) if o["oid"] in hub.lfs else
                   dict(o, actions={"upload": {"href": f"{hub.url}/lfs-upload/{o['oid']}"},
                                    "verify": {"href": f"{hub.url}/lfs-verify"}})
                   for o in json.loads(body)["objects"]]
        return self._send(200, {"transfer": "basic", "objects": objects})

    def _lfs_upload(self, oid, body):
        if hashlib.sha256(body).hexdigest() != oid:
            return self._send(400, {"error": "sha256 mismatch"})
        self.server.lfs[oid] = body
        return self._send(200)

    def _lfs_verify(self, body):
        return self._send(200 if json.loads(body)["oid"] in self.server.lfs else 404, {})

    def _resolve(self, repo_id, revision, path, body=b""):
        if (found := self._repo_at(repo_id, revision)) is None:
            return None
        files = self.server.repos[repo_id]["commits"][found[1]]["files"]
        if path not in files:
            return self._missing("EntryNotFound")
        data = files[path]
        headers = {"ETag": f'"{hashlib.sha256(data).hexdigest()}"', "X-Repo-Commit": found[1],
                   "Accept-Ranges": "bytes"}
        if self.command == "HEAD":
            return self._send(200, body=data, headers=headers)
        return self._download(path, data, headers)

    def _download(self, path, data, headers):
        """GET of a file: Range requests get 206; ``faults`` and ``slow`` apply; logged in ``downloads``."""
        hub, ranged = self.server, self.headers.get("Range")
        record = {"path": path, "range": ranged, "status": 200, "sent": 0, "start": time.monotonic()}
        hub.downloads.append(record)
        fault = hub.next_fault(path)
        if fault and fault[0] == "status":
            record.update(status=fault[1], end=time.monotonic())
            return self._send(fault[1], {"error": "loopback Hub fault"})
        start = int(re.fullmatch(r"bytes=(\d+)-\d*", ranged)[1]) if ranged else 0
        if ranged:
            record["status"] = 206
            headers = dict(headers, **{"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        self.send_response(record["status"])
        for key, value in dict(headers, **{"Content-Length": str(len(data) - start)}).items():
            self.send_header(key, value)
        self.end_headers()
        end = start + fault[1] if fault and fault[0] == "cut" else len(data)
        record["sent"] = self._write_slowly(data[start:end], hub.slow.get(path, 0))
        record["end"] = time.monotonic()
        if end < len(data):
            self.close_connection = True  # the client sees the body end early

    def _write_slowly(self, data, pause):
        pieces = 8 if pause else 1
        step = max(1, -(-len(data) // pieces))
        for i in range(0, len(data), step):
            self.wfile.write(data[i:i + step])
            self.wfile.flush()
            if pause and i + step < len(data):
                time.sleep(pause)
        return len(data)


_REPO = r"([\w.-]+/[\w.-]+)"
_ROUTES = (
    (r"/api/repos/create", ("POST",), _Handler._create_repo),
    (r"/api/validate-yaml", ("POST",), _Handler._validate_yaml),
    (rf"/api/models/{_REPO}", ("GET",), _Handler._model_info),
    (rf"/api/models/{_REPO}/revision/([^/]+)", ("GET",), _Handler._model_info),
    (rf"/api/models/{_REPO}/tree/([^/]+)", ("GET",), _Handler._tree),
    (rf"/api/models/{_REPO}/preupload/([^/]+)", ("POST",), _Handler._preupload),
    (rf"/api/models/{_REPO}/commit/([^/]+)", ("POST",), _Handler._commit),
    (rf"/{_REPO}\.git/info/lfs/objects/batch", ("POST",), _Handler._lfs_batch),
    (r"/lfs-upload/([0-9a-f]{64})", ("PUT",), _Handler._lfs_upload),
    (r"/lfs-verify", ("POST",), _Handler._lfs_verify),
    (rf"/{_REPO}/resolve/([^/]+)/(.+)", ("HEAD", "GET"), _Handler._resolve),
)


def serve(hub, watchdog_s=120):
    """Start ``hub`` in a daemon thread; returns ``stop()``. A watchdog stops it after
    ``watchdog_s`` so a hung test cannot keep it alive."""
    thread = threading.Thread(target=hub.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    watchdog = threading.Timer(watchdog_s, hub.shutdown)
    watchdog.daemon = True
    watchdog.start()

    def stop():
        watchdog.cancel()
        hub.shutdown()
        hub.server_close()
        thread.join(5)

    return stop


def pull_in_child(name, barrier, results):
    """Target of a spawned process: import aezoo (slow) first, wait for the sibling
    process, then pull at the same moment; puts ``("ok", folder)`` or ``("error", text)``."""
    from aezoo.presets import hub

    barrier.wait(timeout=120)
    try:
        results.put(("ok", str(hub.pull(name))))
    except BaseException as error:  # noqa: BLE001 - reported to the parent test
        results.put(("error", f"{type(error).__name__}: {error}"))
