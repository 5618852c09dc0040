"""Training under every tf.distribute strategy a user grows into.

This is the only module that knows about ``tf.distribute``. One device and
``MirroredStrategy`` train with Keras's own ``model.fit`` (callbacks, progress bars,
``BackupAndRestore``). ``MultiWorkerMirroredStrategy`` cannot use ``fit`` in Keras 3
(keras-team/keras#20585, "Attempt to convert a value (PerReplica...)"), so it runs a
``tf.function`` step under the strategy that calls the model's own ``compute_loss``.

Loss reduction: every aezoo loss is a per-example value averaged over the local batch;
under a strategy Keras multiplies it by 1/replicas, so with equal local batches
(``drop_remainder=True``) the summed gradient is that of the *global*-batch mean:
sum over local examples / global batch size. ``test_training.py`` checks that two
replicas give the loss and gradients of one.
"""

import csv
import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

STRATEGIES = ("auto", "one", "mirrored", "multiworker")


@dataclass
class TrainResult:
    """What ``train`` returns: the model, per-epoch history and how it ran."""

    model: object
    history: dict = field(default_factory=dict)
    strategy: str = "one"
    replicas: int = 1
    epochs_run: int = 0
    seconds: float = 0.0
    is_chief: bool = True


# ------------------------------------------------------------------ strategy
def cluster_spec_from_env():
    """The cluster named by ``TF_CONFIG``, or None when it names no multi-task cluster."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON: {err}") from None
    cluster = config.get("cluster", {})
    tasks = sum(len(v) for v in cluster.values())
    return config if tasks > 1 else None


def is_chief():
    """True on the worker that writes checkpoints and weights (chief, or worker 0)."""
    config = cluster_spec_from_env()
    if config is None:
        return True
    task = config.get("task", {})
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0


def resolve_strategy(strategy="auto"):
    """Returns ``(tf.distribute.Strategy, kind)`` for a strategy name.

    ``auto``: MultiWorkerMirroredStrategy when ``TF_CONFIG`` names a cluster,
    MirroredStrategy when more than one GPU is visible, else the default (one device).
    """
    import tensorflow as tf

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if strategy == "auto":
        if cluster_spec_from_env() is not None:
            strategy = "multiworker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            strategy = "mirrored"
        else:
            strategy = "one"
    if strategy == "multiworker":
        if cluster_spec_from_env() is None:
            raise ValueError(
                "strategy='multiworker' needs TF_CONFIG naming a cluster of 2+ tasks, e.g. "
                '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'
            )
        return tf.distribute.MultiWorkerMirroredStrategy(), strategy
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy(), strategy
    return tf.distribute.get_strategy(), strategy


# ------------------------------------------------------------------- data
def as_dataset(data, global_batch_size, seed=0, shuffle=True, drop_remainder=False):
    """numpy array -> batched tf.data; a tf.data.Dataset is passed through unchanged."""
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        return data
    x = np.asarray(data)
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(min(len(x), 10_000), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(global_batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


# ------------------------------------------------------------ the custom step
def make_distributed_step(strategy, model, apply=True):
    """A ``tf.function`` running one step on every replica; returns (loss, grads).

    ``loss`` is the global-batch mean (the sum over replicas of the scaled local
    losses); ``grads`` are the all-reduced gradients as the optimizer applies them.
    With ``apply=False`` nothing is updated (used to compare strategies).
    """
    import tensorflow as tf

    def replica_step(x):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=None, y_pred=y_pred, training=True)
        variables = model.trainable_variables
        grads = tape.gradient(loss, variables)
        if apply:
            # the Keras optimizer all-reduces (sums) the gradients across replicas itself
            model.optimizer.apply_gradients(zip(grads, variables))
            return loss, []
        return loss, tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)

    @tf.function
    def step(batch):
        loss, grads = strategy.run(replica_step, args=(batch,))
        loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
        grads = [strategy.experimental_local_results(g)[0] for g in grads]
        return loss, grads

    return step


# ------------------------------------------------------------ checkpoints
def _atomic_json(path, payload):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(payload, f)
    os.replace(tmp, path)


def save_checkpoint(model, checkpoint_dir, epoch):
    """Weights, optimizer state and epoch, each written to a temp file then renamed."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    weights = os.path.join(checkpoint_dir, "checkpoint.weights.h5")
    tmp = os.path.join(checkpoint_dir, f"tmp-{os.getpid()}.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, weights)
    opt_path = os.path.join(checkpoint_dir, "optimizer.npz")
    tmp_opt = os.path.join(checkpoint_dir, f"tmp-{os.getpid()}-optimizer.npz")
    with open(tmp_opt, "wb") as f:
        np.savez(f, *[np.asarray(v) for v in model.optimizer.variables])
    os.replace(tmp_opt, opt_path)
    _atomic_json(os.path.join(checkpoint_dir, "state.json"), {"epoch": epoch})


def restore_checkpoint(model, checkpoint_dir):
    """Loads the last checkpoint if there is one; returns the number of epochs done."""
    state = os.path.join(checkpoint_dir or "", "state.json")
    if not checkpoint_dir or not os.path.exists(state):
        return 0
    with open(state) as f:
        epoch = int(json.load(f)["epoch"])
    model.load_weights(os.path.join(checkpoint_dir, "checkpoint.weights.h5"))
    model.optimizer.build(model.trainable_variables)
    with np.load(os.path.join(checkpoint_dir, "optimizer.npz")) as saved:
        values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    for variable, value in zip(model.optimizer.variables, values):
        variable.assign(value)
    return epoch


def logged_seconds(checkpoint_dir):
    """Wall seconds of every epoch logged in ``checkpoint_dir/epochs.csv``, across restarts."""
    path = os.path.join(checkpoint_dir or "", "epochs.csv")
    if not checkpoint_dir or not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return sum(float(r.get("seconds") or 0.0) for r in rows)


class _EpochLog:
    """Appends one CSV row per finished epoch (survives restarts: rows are never rewritten)."""

    def __init__(self, path):
        self.path = path

    def write(self, epoch, logs):
        if not self.path:
            return
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        new = not os.path.exists(self.path)
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["epoch", *sorted(logs)])
            writer.writerow([epoch, *[f"{logs[k]:.6g}" for k in sorted(logs)]])


# ------------------------------------------------------------------ train
def train(
    build_model,
    data,
    *,
    epochs,
    batch_size=128,
    strategy="auto",
    validation_data=None,
    checkpoint_dir=None,
    seed=0,
    steps_per_epoch=None,
    verbose=1,
    tensorboard_dir=None,
    mixed_precision=False,
    jit_compile=False,
    callbacks=(),
):
    """Train a model from ``build_model()`` on ``data`` and return a ``TrainResult``.

    Args:
        build_model: a zero-argument callable returning a compiled aezoo model; it is
            called inside the strategy scope, as tf.distribute requires.
        data: a numpy array of inputs, or a ``tf.data.Dataset`` of global batches.
        epochs: total epochs; with ``checkpoint_dir`` a restarted run continues from
            its last finished epoch and stops at the same total.
        batch_size: the *global* batch size (split across replicas).
        strategy: ``"auto"``, ``"one"``, ``"mirrored"`` or ``"multiworker"``.
        checkpoint_dir: where a checkpoint is written at the end of every epoch
            (on the chief only) and an ``epochs.csv`` log is appended.
        mixed_precision, jit_compile: GPU speed options (float16 compute, XLA).
    """
    import keras

    keras.utils.set_random_seed(seed)
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    tf_strategy, kind = resolve_strategy(strategy)
    multiworker = kind == "multiworker"
    dataset = as_dataset(data, batch_size, seed=seed, drop_remainder=multiworker)
    if validation_data is not None:
        validation_data = as_dataset(validation_data, batch_size, shuffle=False)

    with tf_strategy.scope():
        model = build_model()
        if jit_compile:
            model.jit_compile = True

    start = time.time()
    chief = is_chief()
    log = _EpochLog(os.path.join(checkpoint_dir, "epochs.csv") if checkpoint_dir and chief else None)
    if multiworker:
        history, epochs_run = _custom_loop(
            tf_strategy, model, dataset, epochs, checkpoint_dir, chief, steps_per_epoch, verbose, log
        )
    else:
        history, epochs_run = _fit(
            model, dataset, epochs, validation_data, checkpoint_dir, steps_per_epoch, verbose,
            tensorboard_dir, list(callbacks), log,
        )
    return TrainResult(model, history, kind, tf_strategy.num_replicas_in_sync, epochs_run, time.time() - start, chief)


def _fit(model, dataset, epochs, validation_data, checkpoint_dir, steps_per_epoch, verbose,
         tensorboard_dir, callbacks, log):
    import keras

    if checkpoint_dir:
        # BackupAndRestore resumes weights, optimizer and epoch after a crash or kill
        callbacks.append(keras.callbacks.BackupAndRestore(os.path.join(checkpoint_dir, "backup"), delete_checkpoint=False))
        started = {}
        callbacks.append(keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: started.__setitem__("t", time.time()),
            on_epoch_end=lambda epoch, logs: log.write(epoch, {**logs, "seconds": time.time() - started["t"]})))
    if tensorboard_dir:
        callbacks.append(keras.callbacks.TensorBoard(tensorboard_dir))
    hist = model.fit(dataset, epochs=epochs, validation_data=validation_data, steps_per_epoch=steps_per_epoch,
                     shuffle=False,  # the tf.data pipeline shuffles, with its seed
                     callbacks=callbacks, verbose=verbose)
    return hist.history, len(hist.epoch)


def _custom_loop(strategy, model, dataset, epochs, checkpoint_dir, chief, steps_per_epoch, verbose, log):
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dist = strategy.experimental_distribute_dataset(dataset.with_options(options))
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
        done = restore_checkpoint(model, checkpoint_dir)
    step = make_distributed_step(strategy, model)
    history = {"loss": []}
    for epoch in range(done, epochs):
        total, count, t0 = 0.0, 0, time.time()
        for i, batch in enumerate(dist):
            if steps_per_epoch and i >= steps_per_epoch:
                break
            loss, _ = step(batch)
            total, count = total + float(loss), count + 1
        mean = total / max(count, 1)
        history["loss"].append(mean)
        if verbose and chief:
            print(f"epoch {epoch + 1}/{epochs}: loss {mean:.4f} ({count} steps, {time.time() - t0:.1f}s)", flush=True)
        if checkpoint_dir:
            # every worker saves (variables are mirrored, saving is local); only the chief's
            # copy is the checkpoint, the others write to a scratch folder beside it
            target = checkpoint_dir if chief else os.path.join(checkpoint_dir, f"worker-scratch-{os.getpid()}")
            save_checkpoint(model, target, epoch + 1)
            log.write(epoch, {"loss": mean, "seconds": time.time() - t0})
    return history, epochs - done
