"""Checkpoints of the custom (multi-worker) loop and the per-epoch log that survives restarts.

A checkpoint is a *set* of files committed in one atomic step, so a kill at any moment
leaves the previous complete checkpoint or the new one, never weights of one epoch with
the optimizer state or epoch number of another::

    checkpoint_dir/
        state.json              the pointer: {"epoch", "set", "files": {name: {"sha256", "size"}}}
        ckpt-000004-k2j3h1/     the set it names: checkpoint.weights.h5, optimizer.npz
        epochs.csv              one row per finished epoch (``_EpochLog``)

``save_checkpoint`` writes a new set into a fresh ``ckpt-<epoch>-*`` folder, flushes it
to disk, and only then replaces state.json (``aezoo.io.atomic_write_text``: temp file,
fsync, ``os.replace``) to name it: that rename is the commit. Sets no state.json names
(an interrupted save, or the one just superseded) are deleted by the next save or
resume. ``restore_checkpoint`` reads only the named set and checks each file's size and
sha256 against state.json before loading anything.
"""

import contextlib
import csv
import json
import os
import shutil
import tempfile
import warnings

import numpy as np

from aezoo.io import atomic_write_text, current_umask, file_digest, fsync_folder

STATE_FILE = "state.json"
WEIGHTS_FILE = "checkpoint.weights.h5"
OPTIMIZER_FILE = "optimizer.npz"
SET_PREFIX = "ckpt-"
FORMAT = "aezoo-checkpoint"
FORMAT_VERSION = 2  # 1: the files beside state.json, each renamed on its own (read, never written)


class CheckpointError(ValueError):
    """state.json, or a file of the checkpoint set it names, is unreadable or damaged."""


# ------------------------------------------------------------ checkpoints
LOCK_FILE = "lock"


@contextlib.contextmanager
def checkpoint_lock(checkpoint_dir):
    """Hold ``checkpoint_dir`` for one training at a time.

    Two runs saving into one folder delete each other's sets; the second is refused in one
    line naming the holder's pid. The lock is an ``flock`` on ``<dir>/lock``, which the
    kernel releases when its process dies, so a killed run's folder is taken over at once.
    No-op without ``checkpoint_dir`` (or where ``fcntl`` does not exist).
    """
    if not checkpoint_dir:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    os.makedirs(checkpoint_dir, exist_ok=True)
    fd = os.open(os.path.join(checkpoint_dir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise CheckpointError(f"{checkpoint_dir} is in use by another training (pid {holder}): two runs saving into "
                              "one checkpoint folder delete each other's sets; wait for it, or pass another "
                              "--checkpoint-dir") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


class NonFiniteLossError(RuntimeError):
    """Training diverged: an epoch ended with a NaN or infinite loss or weights."""


def check_finite(model, epoch, logs, checkpoint_dir=None):
    """Stop a run whose epoch ended non-finite, before it is committed as a checkpoint.

    Called at the end of every epoch: the last finite checkpoint stays the one a resume
    restores (committing the bad epoch would delete it). Raises NonFiniteLossError.
    """
    bad = [k for k, v in (logs or {}).items() if isinstance(v, (int, float, np.floating)) and not np.isfinite(v)]
    if not bad and all(np.isfinite(np.asarray(w)).all() for w in model.trainable_weights):
        return
    what = f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not finite" if bad else "weights are not finite"
    kept = ""
    if checkpoint_dir:
        state = _read_state(checkpoint_dir)
        kept = (f"; the last finite checkpoint (epoch {state['epoch']}) is kept in {checkpoint_dir}"
                if state else "; no checkpoint was written")
    raise NonFiniteLossError(f"training stopped after epoch {epoch + 1}: its {what}{kept}. "
                             "Lower the learning rate, or check the data for NaN, inf or values out of range")


def save_checkpoint(model, checkpoint_dir, epoch):
    """Weights, optimizer state and epoch, written as one set and committed atomically.

    The set goes into a new ``ckpt-<epoch>-*`` folder inside ``checkpoint_dir``; once
    it is on disk, state.json is atomically replaced to name it, and older sets are
    deleted. Until that replace, state.json still names the previous complete set.
    """
    os.makedirs(checkpoint_dir, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=f"{SET_PREFIX}{int(epoch):06d}-", dir=checkpoint_dir)
    name = os.path.basename(folder)
    try:
        model.save_weights(os.path.join(folder, WEIGHTS_FILE))
        with open(os.path.join(folder, OPTIMIZER_FILE), "wb") as f:
            np.savez(f, *[np.asarray(v) for v in model.optimizer.variables])
        files = {n: file_digest(os.path.join(folder, n)) for n in (WEIGHTS_FILE, OPTIMIZER_FILE)}
        os.chmod(folder, 0o777 & ~current_umask())  # mkdtemp makes it 0700
        fsync_folder(folder)  # the set's bytes, then its entries ...
        fsync_folder(checkpoint_dir, files=False)  # ... and its own name, before state.json names it
        state = {"format": FORMAT, "format_version": FORMAT_VERSION, "epoch": int(epoch), "set": name,
                 "files": files}
        atomic_write_text(os.path.join(checkpoint_dir, STATE_FILE), json.dumps(state, indent=1))  # the commit
    except BaseException:
        if _named_set(checkpoint_dir) != name:  # an interrupt may land just after the commit
            shutil.rmtree(folder, ignore_errors=True)
        raise
    _remove_leftovers(checkpoint_dir, keep=name)


def restore_checkpoint(model, checkpoint_dir):
    """Loads the last checkpoint if there is one; returns the number of epochs done.

    Reads only the set state.json names, after checking its files' sizes and sha256;
    sets an interrupted save left behind are deleted. Raises ``CheckpointError`` when
    the named set is damaged (then delete ``checkpoint_dir`` to start over).
    """
    if not checkpoint_dir:
        return 0
    state = _read_state(checkpoint_dir)
    if state is None:
        if os.path.isdir(checkpoint_dir):
            _remove_leftovers(checkpoint_dir, keep=None)
        return 0
    if "set" in state:  # format 2
        folder = os.path.join(checkpoint_dir, state["set"])
        _remove_leftovers(checkpoint_dir, keep=state["set"])
    else:  # format 1: the files beside state.json, unchecked
        folder = checkpoint_dir
        _remove_leftovers(checkpoint_dir, keep=None, legacy_files=False)
    _check_files(checkpoint_dir, folder, state.get("files") or {})
    model.load_weights(os.path.join(folder, WEIGHTS_FILE))
    model.optimizer.build(model.trainable_variables)
    with np.load(os.path.join(folder, OPTIMIZER_FILE)) as saved:
        values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    for variable, value in zip(model.optimizer.variables, values):
        variable.assign(value)
    return int(state["epoch"])


def load_checkpoint_weights(model, checkpoint_dir):
    """Load only the weights of the last checkpoint into ``model``; returns its epoch.

    For looking at a run while it trains (``recipes/experiments/checkpoint_nll.py``):
    nothing in ``checkpoint_dir`` is changed, and the weights file is copied and its
    sha256 checked before loading, so a set the running training replaces meanwhile
    gives a clear error (try again) rather than weights of two epochs.
    """
    state = _read_state(checkpoint_dir)
    if state is None:
        raise CheckpointError(f"no checkpoint in {checkpoint_dir} (no {STATE_FILE}): has an epoch finished yet?")
    folder = os.path.join(checkpoint_dir, state["set"]) if "set" in state else checkpoint_dir
    want = (state.get("files") or {}).get(WEIGHTS_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, WEIGHTS_FILE)
        try:
            shutil.copyfile(os.path.join(folder, WEIGHTS_FILE), copy)
        except FileNotFoundError:
            raise CheckpointError(f"the checkpoint set in {folder} is gone: the training has probably just "
                                  "saved a newer one; try again") from None
        if want is not None and not _matches(file_digest(copy), want):
            raise CheckpointError(f"{WEIGHTS_FILE} in {folder} does not match {STATE_FILE}: it is being "
                                  "replaced or is damaged; try again")
        with warnings.catch_warnings():  # the file also holds the optimizer's slots, which are not wanted here
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(copy)
    return int(state["epoch"])


def _read_state(checkpoint_dir):
    path = os.path.join(checkpoint_dir, STATE_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise CheckpointError(f"checkpoint {path} is unreadable ({e}); delete {checkpoint_dir} to start over") from None
    if not isinstance(state, dict) or not isinstance(state.get("epoch"), int):
        raise CheckpointError(f"checkpoint {path} has no epoch; delete {checkpoint_dir} to start over")
    name = state.get("set")
    if name is not None and (not isinstance(name, str) or not name.startswith(SET_PREFIX) or os.sep in name
                             or "/" in name or name in (".", "..")):
        raise CheckpointError(f"checkpoint {path} names an invalid set {name!r}; delete {checkpoint_dir} to start over")
    return state


def _named_set(checkpoint_dir):
    try:
        return _read_state(checkpoint_dir).get("set")
    except (AttributeError, CheckpointError):
        return None


def _matches(digest, want):
    """Whether a file's ``file_digest`` is the one state.json recorded for it."""
    return digest == {"sha256": want.get("sha256"), "size": want.get("size")}


def _check_files(checkpoint_dir, folder, files):
    problems = []
    for name in (WEIGHTS_FILE, OPTIMIZER_FILE):
        path, want = os.path.join(folder, name), files.get(name)
        if not os.path.isfile(path):
            problems.append(f"{name}: missing")
        elif want is not None:
            got = file_digest(path)
            if not _matches(got, want):
                problems.append(f"{name}: expected {want.get('size')} bytes with sha256 {want.get('sha256')}, "
                                f"got {got['size']} bytes with sha256 {got['sha256']}")
    if problems:
        raise CheckpointError(f"checkpoint in {folder} is damaged, nothing was restored: {'; '.join(problems)}. "
                              f"Delete {checkpoint_dir} to start over.")


def _remove_leftovers(checkpoint_dir, keep, legacy_files=True):
    """Delete what no state.json names: other ``ckpt-*`` sets, temp files of an interrupted
    save, and (``legacy_files``) the format-1 files a newer set has superseded."""
    for entry in os.scandir(checkpoint_dir):
        name = entry.name
        if entry.is_dir(follow_symlinks=False):
            if name.startswith(SET_PREFIX) and name != keep:
                shutil.rmtree(entry.path, ignore_errors=True)
        elif (name.startswith((f".{STATE_FILE}.tmp-", f"{STATE_FILE}.tmp-"))  # atomic_write_text's, format 1's
              or (name.startswith("tmp-") and name.endswith((".weights.h5", "-optimizer.npz")))  # format 1's
              or (legacy_files and name in (WEIGHTS_FILE, OPTIMIZER_FILE))):
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass


def _logged_epochs(checkpoint_dir):
    """The rows of ``checkpoint_dir/epochs.csv`` (one per finished epoch), or None without one."""
    path = os.path.join(checkpoint_dir or "", "epochs.csv")
    if not checkpoint_dir or not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def logged_seconds(checkpoint_dir):
    """Wall seconds of every epoch logged in ``checkpoint_dir/epochs.csv``, across restarts."""
    rows = _logged_epochs(checkpoint_dir)
    return None if rows is None else sum(float(r.get("seconds") or 0.0) for r in rows)


def logged_final_loss(checkpoint_dir):
    """The training loss of the last epoch logged, so a run resumed after its last epoch
    (which trains nothing, only evaluates) still reports where training ended."""
    rows = _logged_epochs(checkpoint_dir)
    return float(rows[-1]["loss"]) if rows and rows[-1].get("loss") else None


class _EpochLog:
    """Appends one CSV row per finished epoch (survives restarts: rows are never rewritten)."""

    def __init__(self, path):
        self.path = path

    def write(self, epoch, logs):
        if not self.path:
            return
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        new = not os.path.exists(self.path) or _drop_torn_tail(self.path) == 0
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["epoch", *sorted(logs)])
            writer.writerow([epoch, *[f"{logs[k]:.6g}" for k in sorted(logs)]])


def _drop_torn_tail(path):
    """Cut a last line a kill left half-written (no newline), so the next row starts on a
    line of its own; returns the file's size afterwards."""
    with open(path, "rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)
            return data.rfind(b"\n") + 1
        return len(data)
