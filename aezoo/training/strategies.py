"""tf.distribute strategies: which one, the distributed dataset, the custom step
(``MultiWorkerMirroredStrategy`` cannot use ``fit`` in Keras 3, keras-team/keras#20585)."""

import json
import os
from dataclasses import dataclass, field

import numpy as np

STRATEGIES = ("auto", "one", "mirrored", "multiworker", "data-parallel")


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
    if strategy in ("mirrored", "data-parallel"):  # data-parallel over local devices = Mirrored on TF
        return tf.distribute.MirroredStrategy(), "mirrored"
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
