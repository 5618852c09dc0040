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


MODELS = {
    "dense-vae": {"input_shape": [8, 8, 1], "latent_dim": 2, "hidden_units": [16], "seed": 0},
    "contractive-ae": {"input_shape": [8, 8, 1], "latent_dim": 6},
    "sparse-ae": {"input_shape": [8, 8, 1], "latent_dim": 8, "hidden_units": [16]},
}
_MIRRORED_RUNS = {}


def _mirrored(name):
    """mirrored_check.py's report for one model, run once per session (a process with two
    logical CPUs). contractive-ae runs with Keras's private loss scaling hidden: it has no
    add_loss terms, so only the contractive penalty could need it."""
    if name not in _MIRRORED_RUNS:
        extra = ["hide-private"] if name == "contractive-ae" else []
        try:
            _MIRRORED_RUNS[name] = _run([os.path.join(SCRIPTS, "mirrored_check.py"), name, json.dumps(MODELS[name]),
                                         *extra])
        except AssertionError as e:  # a failed run fails every test that reads it, without rerunning
            _MIRRORED_RUNS[name] = e
    if isinstance(_MIRRORED_RUNS[name], AssertionError):
        raise _MIRRORED_RUNS[name]
    return _MIRRORED_RUNS[name]


def _same(a, b, rel):
    return abs(a - b) <= rel * abs(a)


@pytest.mark.parametrize("name", list(MODELS))
def test_two_replicas_give_the_loss_and_gradients_of_one(name):
    r = _mirrored(name)
    assert r["replicas"] == [1, 2] and r["fit_replicas"] == 2
    assert _same(r["loss_one"], r["loss_two"], 1e-5), r
    assert r["grad_max_diff"] <= 1e-5 * max(r["grad_scale"], 1e-3), r
    assert np.isfinite(r["fit_loss"])


@pytest.mark.parametrize("name", list(MODELS))
def test_uneven_batches_on_two_replicas_match_one_device(name):
    """3 examples split 2/1 and 1 example split 1/0 (an empty replica): the custom step's
    loss and gradients are one device's on the same examples, XLA-compiled too; fit under
    Mirrored on 17 examples in batches of 8 is finite and moves the weights as one device
    does on the 16 it uses."""
    r = _mirrored(name)
    assert [(u["n"], u["jit_compile"]) for u in r["uneven"]] == [(3, False), (1, False), (3, True)]
    for u in r["uneven"]:
        assert np.isfinite(u["loss_two"]) and _same(u["loss_one"], u["loss_two"], 1e-5), u
        assert u["grad_max_diff"] <= 1e-5 * max(u["grad_scale"], 1e-3), u
    assert np.isfinite(r["fit_loss"]), r
    assert r["fit_delta_diff"] <= 1e-5 * r["fit_delta_scale"] + 1e-7, r


def test_contractive_penalty_needs_no_private_keras_api():
    """Without Keras's private ``_aggregate_additional_loss`` the penalty must still be
    scaled per replica (it used to fall back silently to counting it once per replica)."""
    r = _mirrored("contractive-ae")
    assert r["private_hidden"]
    assert _same(r["loss_one"], r["loss_two"], 1e-5), r
    assert r["grad_max_diff"] <= 1e-5 * max(r["grad_scale"], 1e-3), r


def test_contractive_penalty_is_scaled_with_public_api(monkeypatch):
    import aezoo

    def private(*_):
        raise AssertionError("the contractive penalty called Keras's private _aggregate_additional_loss")

    monkeypatch.setattr(keras.Model, "_aggregate_additional_loss", private, raising=False)
    model = aezoo.build("contractive-ae", input_shape=(4,), latent_dim=3)
    x = np.random.default_rng(0).uniform(size=(5, 4)).astype("float32")
    loss = float(model.compute_loss(x=x, y_pred=model(x), training=True))
    recon = float(np.mean((np.asarray(model(x)) - x) ** 2))
    penalty = model.contractive_weight * float(np.mean(np.asarray(model.jacobian_penalty(x))))
    assert abs(loss - (recon + penalty)) <= 1e-5 * loss


def test_mixed_precision_two_replicas_match_one_device():
    """One SGD step in mixed float16: fit under Mirrored and the custom (multi-worker) step
    on one and two replicas change the weights as fit on one device does; a float16
    overflow on one replica skips the step everywhere instead of applying inf."""
    r = _run([os.path.join(SCRIPTS, "mixed_precision_check.py")])
    assert r["policy"] == "mixed_float16" and r["optimizer"] == "LossScaleOptimizer", r
    assert r["replicas"] == 2 and r["fit_replicas"] == 2, r
    for key in ("fit_two_diff", "step_one_diff", "step_two_diff"):
        assert r[key] <= 1e-2 * r["scale"], (key, r)
    for label in ("one", "two"):
        assert r["overflow"][label] == {"max_change": 0.0, "finite": True, "scale": 2.0 ** 14}, r


def test_as_dataset_gives_fit_batches_a_multiple_of_the_replicas():
    import tensorflow as tf

    from aezoo.training import as_dataset

    def sizes(ds):
        return [int(b.shape[0]) for b in ds]

    x = np.zeros((17, 3), "float32")
    assert sizes(as_dataset(x, 8, replicas=1)) == [8, 8, 1]
    assert sizes(as_dataset(x, 8, replicas=2)) == [8, 8]
    assert sizes(as_dataset(x, 5, replicas=2, shuffle=False)) == [4, 4, 4, 2]
    assert sizes(as_dataset(tf.data.Dataset.from_tensor_slices(x).batch(7), 7, replicas=2)) == [6, 6, 2]
    batched = tf.data.Dataset.from_tensor_slices(x).batch(8, drop_remainder=True)
    assert as_dataset(batched, 8, replicas=2) is batched
    with pytest.raises(ValueError, match="smaller than the 4 replicas"):
        as_dataset(x, 2, replicas=4)


def test_tensorboard_dir_without_tensorboard_fails_before_training(tmp_path):
    import importlib.util

    from aezoo.training import train

    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("tensorboard is installed")
    built = []
    with pytest.raises(ValueError, match="pip install tensorboard"):
        train(lambda: built.append(1), np.zeros((4, 2), "float32"), epochs=1, tensorboard_dir=str(tmp_path / "tb"))
    assert not built


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _workers(script, args, env=None):
    """Run ``script`` as the two workers of a local cluster; returns their JSON reports.
    ``args(index)`` and ``env(index)`` give each worker's arguments and extra environment."""
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(
            [sys.executable, os.path.join(SCRIPTS, script), *args(index)],
            env={**ENV, "TF_CONFIG": tf_config, **(env(index) if env else {})},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=300)
        finally:
            proc.kill()
        assert proc.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs


@pytest.fixture(scope="module")
def multiworker_run(tmp_path_factory):
    """Two workers training conv-vae for 2 epochs with checkpoints, validation data, a
    recording callback, TensorBoard and jit_compile (XLA dumps its modules per worker)."""
    tmp = tmp_path_factory.mktemp("multiworker")
    outputs = _workers(
        "multiworker_worker.py",
        lambda i: [str(tmp / f"w{i}.npz"), str(tmp / "ckpt"), str(tmp / "tb")],
        lambda i: {"XLA_FLAGS": f"--xla_dump_to={tmp / f'xla{i}'}"},
    )
    return tmp, outputs


@pytest.mark.multiworker
def test_multiworker_two_processes_end_with_identical_weights(multiworker_run):
    tmp_path, outputs = multiworker_run
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


@pytest.mark.multiworker
def test_multiworker_loop_honours_validation_callbacks_tensorboard_and_jit(multiworker_run):
    tmp_path, outputs = multiworker_run
    for o in outputs:
        assert sorted(o["history"]) == ["loss", "val_loss"], o
        assert len(o["history"]["val_loss"]) == 2 and np.all(np.isfinite(o["history"]["val_loss"])), o
        assert o["events"] == [
            ["train_begin"],
            ["epoch_begin", 0], ["batch_end", 0, ["loss"]], ["epoch_end", 0, ["loss", "val_loss"]],
            ["epoch_begin", 1], ["batch_end", 0, ["loss"]], ["epoch_end", 1, ["loss", "val_loss"]],
            ["train_end", ["loss", "val_loss"]],
        ], o
    with open(tmp_path / "ckpt" / "epochs.csv") as f:
        assert "val_loss" in next(csv.reader(f))
    if outputs[0]["tensorboard"]:  # the package is optional; without it, see test_tensorboard_...
        for split in ("train", "validation"):  # TensorBoard's folders, written by the chief
            assert any(n.startswith("events.out") for n in os.listdir(tmp_path / "tb" / split)), split
    for index in range(2):  # jit_compile: each worker compiled its step with XLA
        assert (tmp_path / f"xla{index}").is_dir() and os.listdir(tmp_path / f"xla{index}"), index


@pytest.mark.multiworker
def test_multiworker_mixed_precision_and_uneven_batch_match_one_device(tmp_path):
    """Two workers, mixed float16, 17 examples in batches of 16 (the last batch leaves a
    replica empty): two SGD steps change the weights as fit on one device does."""
    outputs = _workers("multiworker_precision.py", lambda i: [])
    assert [o["strategy"] for o in outputs] == ["multiworker"] * 2 and [o["replicas"] for o in outputs] == [2, 2]
    assert all(o["optimizer"] == "LossScaleOptimizer" and np.all(np.isfinite(o["loss"])) for o in outputs), outputs
    chief = outputs[0]
    assert chief["chief"] and chief["finite"], chief
    assert chief["max_diff"] <= 1e-2 * chief["scale"], chief


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


def test_mirrored_strategy_is_created_once_per_process():
    """A second MirroredStrategy reuses the first one's collective keys and TensorFlow aborts
    its all-reduces ("Shape mismatch in the collective instance 100"): train(strategy="mirrored")
    twice with different models crashed. mirrored_check.py trains after using the strategy."""
    from aezoo import training

    assert training.resolve_strategy("mirrored")[0] is training.resolve_strategy("mirrored")[0]


def test_train_accepts_numpy_batches_on_every_backend():
    """aezoo.data.batches (the JAX/PyTorch pipeline) also trains on TensorFlow's path."""
    import aezoo
    from aezoo import data
    from aezoo.training import train

    x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    result = train(lambda: aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,)),
                   data.batches(x, 16, seed=0), epochs=2, strategy="one", verbose=0)
    assert result.epochs_run == 2 and np.isfinite(result.history["loss"][-1])
