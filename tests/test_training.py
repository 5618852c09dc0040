"""Training under tf.distribute: same numbers on 1 or 2 replicas, multi-worker, resume after SIGKILL."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("tensorflow")
import keras  # noqa: E402

if keras.backend.backend() != "tensorflow":
    pytest.skip("tf.distribute training needs the TensorFlow backend", allow_module_level=True)

SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
ENV.pop("TF_CONFIG", None)


def _run(args, env=ENV, timeout=300):
    proc = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name, config", [
    ("dense-vae", {"input_shape": [8, 8, 1], "latent_dim": 2, "hidden_units": [16], "seed": 0}),
    ("contractive-ae", {"input_shape": [8, 8, 1], "latent_dim": 6}),
    ("sparse-ae", {"input_shape": [8, 8, 1], "latent_dim": 8, "hidden_units": [16]}),
])
def test_two_replicas_give_the_loss_and_gradients_of_one(name, config):
    r = _run([os.path.join(SCRIPTS, "mirrored_check.py"), name, json.dumps(config)])
    assert r["replicas"] == [1, 2] and r["fit_replicas"] == 2
    assert abs(r["loss_one"] - r["loss_two"]) <= 1e-5 * abs(r["loss_one"]), r
    assert r["grad_max_diff"] <= 1e-5 * max(r["grad_scale"], 1e-3), r
    assert np.isfinite(r["fit_loss"])


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.multiworker
def test_multiworker_two_processes_end_with_identical_weights(tmp_path):
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        env = {**ENV, "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen(
            [sys.executable, os.path.join(SCRIPTS, "multiworker_worker.py"), str(tmp_path / f"w{index}.npz"),
             str(tmp_path / "ckpt")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=300)
        finally:
            proc.kill()
        assert proc.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert [o["strategy"] for o in outputs] == ["multiworker"] * 2
    assert [o["replicas"] for o in outputs] == [2, 2]
    assert [o["chief"] for o in outputs] == [True, False]
    assert all(np.all(np.isfinite(o["loss"])) and len(o["loss"]) == 2 for o in outputs)
    w0, w1 = np.load(tmp_path / "w0.npz"), np.load(tmp_path / "w1.npz")
    for key in w0.files:
        np.testing.assert_array_equal(w0[key], w1[key])
    # only the chief's checkpoint is the checkpoint
    with open(tmp_path / "ckpt" / "state.json") as f:
        assert json.load(f)["epoch"] == 2


def test_resume_after_sigkill_finishes_the_same_epochs(tmp_path):
    checkpoint_dir, epochs = str(tmp_path / "run"), 6
    log = os.path.join(checkpoint_dir, "epochs.csv")
    proc = subprocess.Popen([sys.executable, os.path.join(SCRIPTS, "resumable_run.py"), checkpoint_dir, str(epochs)],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline:
        if os.path.exists(log) and sum(1 for _ in open(log)) >= 3:  # header + 2 epochs
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = sum(1 for _ in open(log)) - 1
    assert 2 <= done_before < epochs
    second = _run([os.path.join(SCRIPTS, "resumable_run.py"), checkpoint_dir, str(epochs)])
    assert second["epochs_run"] == epochs - done_before
    with open(log) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(epochs))


def test_auto_strategy_reads_tf_config(monkeypatch):
    from aezoo import training

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert training.resolve_strategy("auto")[1] == "one"
    assert training.is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}))
    assert training.cluster_spec_from_env() is not None and not training.is_chief()
    with pytest.raises(ValueError, match="strategy must be one of"):
        training.resolve_strategy("tpu")
