"""Safe writes (issue 11.6): a SIGKILL at any moment of a preset save or of a checkpoint
leaves the old state or the new one, complete and loadable, never a mix or a gap.

A fork server (``scripts/crash_writer.py``) imports Keras once and forks one writer per
trial. Each writer finds the folder holding state ``i - 1`` (the old state: the last
trial's) and writes states i, i + 1, ... (two alternating sets of weights and optimizer
values) until it is SIGKILLed: by the test after a random delay spanning a few writes,
or by itself just before a randomly chosen file system change (a rename, unlink, mkdir
or open for writing: kill points a timer rarely hits, such as between two renames).
The folder must then hold the last state the writer finished or the one under way,
whole: its checksums verify, it loads, and its weights, optimizer values and epoch all
belong to that one state.
"""

import importlib.util
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
import pytest

if not hasattr(os, "fork"):
    pytest.skip("the crash tests fork writer processes (POSIX only)", allow_module_level=True)
keras = pytest.importorskip("keras")

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "crash_writer.py")
TRIALS = 20  # of each kind: timed kills, and kills at a file system change
_spec = importlib.util.spec_from_file_location("crash_writer", SCRIPT)
crash_writer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(crash_writer)


class ForkServer:
    def __init__(self):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": keras.backend.backend()}
        env.pop("TF_CONFIG", None)
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([sys.executable, SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, bufsize=1, env=env)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.until("ready", timeout=180)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def until(self, prefix, timeout=60):
        """Lines read up to and including the first one starting with ``prefix``."""
        got, deadline = [], time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = None
            if line is None or line.startswith(("failed", "unknown")):
                pytest.fail(f"crash_writer: no {prefix!r} line (got {got + [line]}):\n{self.stderr_tail()}")
            got.append(line)
            if line.startswith(prefix):
                return got

    def stderr_tail(self):
        self.stderr.seek(0)
        return self.stderr.read()[-4000:]

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        finally:
            self.proc.kill()
            self.stderr.close()

    def killed_writer(self, kind, folder, first, delay=None, kill_at=None):
        """Start a writer of states ``first``, ``first + 1``, ... and SIGKILL it after
        ``delay`` seconds, or let it kill itself at its ``kill_at``-th file system change;
        returns the last state it finished writing (``first - 1``: none)."""
        self.send(f"run {kind} {folder} {first}" + ("" if kill_at is None else f" {kill_at}"))
        pid = int(self.until("start")[-1].split()[1])
        if kill_at is None:
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)  # our writer: forked by our server, not yet reaped
        self.send(f"wait {pid}")
        lines = self.until("exit")
        assert lines[-1].split()[2] == str(int(signal.SIGKILL)), f"writer ended on its own:\n{self.stderr_tail()}"
        return max([int(line.split()[1]) for line in lines if line.startswith("done")], default=first - 1)

    def trials(self, kind, folder, seed):
        """Write states 0 to 5 in ``folder`` (timing them, counting their file system
        changes); return ``(delay, None)`` for TRIALS timed kills, the delays spread over
        three writes' time, then ``(None, n)`` for TRIALS kills at a change n within the
        first two writes."""
        self.send(f"measure {kind} {folder}")
        _, seconds, _, changes = self.until("seconds")[-1].split()
        rng = np.random.default_rng(seed)
        delays = rng.uniform(0.0, 3.0 * float(seconds), size=TRIALS)
        kill_at = rng.integers(1, int(2 * float(changes)) + 1, size=TRIALS)
        return [(float(d), None) for d in delays] + [(None, int(n)) for n in kill_at]


@pytest.fixture(scope="module")
def server():
    server = ForkServer()
    yield server
    server.close()


def _assert_state(model, i, optimizer=False):
    weights, values = crash_writer.state_values(model, i)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want, err_msg=f"weights are not those of state {i}")
    if optimizer:
        for variable, want in zip(model.optimizer.variables, values):
            np.testing.assert_array_equal(np.asarray(variable), want, err_msg=f"optimizer is not that of state {i}")


def test_sigkill_during_preset_save_leaves_the_old_or_the_new_preset(server, tmp_path):
    from aezoo import presets

    folder = tmp_path / "crash-test"
    outcomes, found = [], 5
    for delay, kill_at in server.trials("preset", folder, seed=116):
        first = found + 1
        last = server.killed_writer("preset", folder, first, delay, kill_at)
        model = presets.load(folder, compile=False)  # verifies every file's sha256 first
        found = model.preset_metadata["write"]
        assert found in (last, last + 1), f"preset holds write {found}, the writer had finished {last}"
        _assert_state(model, found)
        outcomes.append(found - first)
    assert min(outcomes) == -1 and max(outcomes) >= 0, f"kills missed the old or the new state: {outcomes}"


def test_sigkill_during_checkpoint_leaves_the_old_or_the_new_set(server, tmp_path):
    from aezoo.training.checkpoints import SET_PREFIX, STATE_FILE, restore_checkpoint

    folder = tmp_path / "ckpt"
    model = crash_writer.build_model()
    outcomes, epoch = [], 5
    for delay, kill_at in server.trials("checkpoint", folder, seed=611):
        first = epoch + 1
        last = server.killed_writer("checkpoint", folder, first, delay, kill_at)
        model.set_weights([np.zeros_like(w) for w in model.get_weights()])
        for variable in model.optimizer.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
        epoch = restore_checkpoint(model, str(folder))  # the resume path
        assert epoch in (last, last + 1), f"checkpoint is of epoch {epoch}, the writer had finished {last}"
        _assert_state(model, epoch, optimizer=True)
        with open(folder / STATE_FILE) as f:
            named = json.load(f)["set"]
        left = sorted(p.name for p in folder.iterdir())
        assert left == [named, STATE_FILE] and named.startswith(SET_PREFIX), f"resume left {left}"
        outcomes.append(epoch - first)
    assert min(outcomes) == -1 and max(outcomes) >= 0, f"kills missed the old or the new state: {outcomes}"


# ---------------------------------------------------------------- the same, without kills
def test_damaged_checkpoint_set_is_refused_naming_the_file(tmp_path):
    from aezoo.training.checkpoints import CheckpointError, restore_checkpoint, save_checkpoint

    model = crash_writer.build_model()
    save_checkpoint(model, str(tmp_path), 3)
    (weights,) = tmp_path.glob("ckpt-*/checkpoint.weights.h5")
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="checkpoint.weights.h5: expected"):
        restore_checkpoint(model, str(tmp_path))


def test_checkpoint_weights_are_read_without_touching_the_run(tmp_path):
    """load_checkpoint_weights (for looking at a running training) loads the named set's
    weights, changes nothing in the folder, and refuses a set that does not match state.json."""
    import aezoo
    from aezoo.training.checkpoints import CheckpointError, load_checkpoint_weights, save_checkpoint

    with pytest.raises(CheckpointError, match="no checkpoint in"):
        load_checkpoint_weights(crash_writer.build_model(), str(tmp_path))
    model = crash_writer.build_model()
    weights, _ = crash_writer.state_values(model, 2)
    model.set_weights(weights)
    save_checkpoint(model, str(tmp_path), 4)
    before = sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    fresh = crash_writer.build_model()
    assert load_checkpoint_weights(fresh, str(tmp_path)) == 4
    _assert_state(fresh, 2)
    assert sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before
    unbuilt = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,))  # no optimizer slots
    with warnings.catch_warnings():  # as checkpoint_nll.py loads: the set's optimizer slots are skipped quietly
        warnings.simplefilter("error")
        assert load_checkpoint_weights(unbuilt, str(tmp_path)) == 4
    (stored,) = tmp_path.glob("ckpt-*/checkpoint.weights.h5")
    stored.write_bytes(stored.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="does not match state.json"):
        load_checkpoint_weights(fresh, str(tmp_path))


def test_checkpoint_of_the_previous_format_still_resumes(tmp_path):
    from aezoo.training.checkpoints import restore_checkpoint, save_checkpoint

    model = crash_writer.build_model()
    weights, values = crash_writer.state_values(model, 1)
    model.set_weights(weights)
    for variable, value in zip(model.optimizer.variables, values):
        variable.assign(value)
    model.save_weights(tmp_path / "checkpoint.weights.h5")  # format 1: files beside state.json
    np.savez(tmp_path / "optimizer.npz", *values)
    (tmp_path / "state.json").write_text(json.dumps({"epoch": 5}))
    model.set_weights([np.zeros_like(w) for w in weights])
    assert restore_checkpoint(model, str(tmp_path)) == 5
    _assert_state(model, 1, optimizer=True)
    save_checkpoint(model, str(tmp_path), 6)  # a new set supersedes the old files
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("ckpt-")) == ["state.json"]
    assert restore_checkpoint(model, str(tmp_path)) == 6


def test_epoch_log_drops_a_row_a_kill_cut_short(tmp_path):
    from aezoo.training.checkpoints import _EpochLog, logged_final_loss, logged_seconds

    log = _EpochLog(str(tmp_path / "epochs.csv"))
    log.write(0, {"loss": 1.0, "seconds": 2.0})
    with open(tmp_path / "epochs.csv", "a") as f:
        f.write("1,0.5")  # a kill mid-append
    log.write(1, {"loss": 0.5, "seconds": 3.0})
    assert (tmp_path / "epochs.csv").read_text().splitlines() == ["epoch,loss,seconds", "0,1,2", "1,0.5,3"]
    assert logged_seconds(str(tmp_path)) == 5.0 and logged_final_loss(str(tmp_path)) == 0.5
    assert logged_final_loss(str(tmp_path / "none")) is None
