"""tf.distribute strategies: which one, the distributed dataset, the custom step
(``MultiWorkerMirroredStrategy`` cannot use ``fit`` in Keras 3, keras-team/keras#20585).

Loss reduction. Keras's ``compute_loss`` returns each replica's local-batch mean times
1/replicas, which sums to the global-batch mean only when every replica holds equally
many examples (an empty replica's mean is even NaN). Two answers, one per path:

* the custom step (``make_distributed_step``) reweights each replica's loss by
  replicas * local examples / global examples, so it is exact for any split, empty
  replicas included;
* ``model.fit`` (one device, Mirrored) cannot be reweighted from outside, so under
  several replicas ``as_dataset`` and ``even_batches`` give it batches that hold a
  multiple of the replica count.
"""

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
        return _mirrored_strategy(), "mirrored"
    return tf.distribute.get_strategy(), strategy


_MIRRORED = []


def _mirrored_strategy():
    """The process's one ``MirroredStrategy``, created on first use.

    A second instance numbers its collective ops from the same keys as the first, and
    TensorFlow then aborts its all-reduces as a "shape mismatch" with the first's (a
    second ``train(strategy="mirrored")`` of another model crashed).
    """
    import tensorflow as tf

    if not _MIRRORED:
        _MIRRORED.append(tf.distribute.MirroredStrategy())
    return _MIRRORED[0]


# ------------------------------------------------------------------- data
def as_dataset(data, global_batch_size, seed=0, shuffle=True, drop_remainder=False, replicas=1):
    """numpy array -> batched tf.data; a tf.data.Dataset is passed through (``even_batches``).

    ``replicas`` > 1 is for ``model.fit`` under several replicas: every batch then holds a
    multiple of ``replicas`` examples (see the module docstring). The shuffled examples
    are cut so the last batch is a multiple (at most ``replicas - 1`` left out, other
    ones each epoch), and batches of a ``global_batch_size`` that is not a multiple are
    trimmed to one.
    """
    import keras
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        return even_batches(data, replicas)
    if isinstance(data, keras.utils.PyDataset):  # numpy batches (aezoo.data.batches): fit reads them as they are
        if replicas > 1:
            raise ValueError("under several replicas pass an array or a tf.data.Dataset (its batches are split "
                             "evenly); a PyDataset's batches are not")
        return data
    x = np.asarray(data)
    if replicas > 1 and global_batch_size < replicas:
        raise ValueError(f"batch_size {global_batch_size} is smaller than the {replicas} replicas: "
                         "each needs at least one example")
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(min(len(x), 10_000), seed=seed, reshuffle_each_iteration=True)
    if replicas > 1:
        ds = ds.take(len(x) - len(x) % global_batch_size % replicas)
    ds = ds.batch(global_batch_size, drop_remainder=drop_remainder)
    if replicas > 1 and global_batch_size % replicas:
        ds = ds.map(_trimmer(ds, replicas))
    return ds.prefetch(tf.data.AUTOTUNE)


def even_batches(dataset, replicas):
    """A ``tf.data`` dataset whose batches hold a multiple of ``replicas`` examples.

    Unchanged when its static batch size already is one (``drop_remainder=True``);
    otherwise each batch is trimmed (at most ``replicas - 1`` examples left out) and
    batches left empty are dropped, which makes the cardinality unknown to Keras.
    """
    import tensorflow as tf

    batch_size = tf.nest.flatten(dataset.element_spec)[0].shape[0] if replicas > 1 else None
    if replicas <= 1 or (batch_size is not None and batch_size % replicas == 0):
        return dataset
    return dataset.map(_trimmer(dataset, replicas)).filter(_nonempty)


def _size(batch):
    import tensorflow as tf

    return tf.shape(tf.nest.flatten(batch)[0])[0]


def _trimmer(dataset, replicas):
    """A ``Dataset.map`` function keeping the first examples of a batch, a multiple of ``replicas``."""
    import tensorflow as tf

    unpacked = isinstance(dataset.element_spec, tuple)  # tf.data passes tuples as separate arguments

    @tf.autograph.experimental.do_not_convert
    def trim(*batch):
        keep = _size(batch) - _size(batch) % replicas
        batch = tf.nest.map_structure(lambda t: t[:keep], batch)
        return batch if unpacked else batch[0]

    return trim


def _nonempty(*batch):
    return _size(batch) > 0


# ------------------------------------------------------------ the custom step
def make_distributed_step(strategy, model, apply=True, jit_compile=False, element_spec=None):
    """A ``tf.function`` running one step on every replica; returns (loss, grads).

    ``loss`` is the global-batch mean for any split of the batch (see ``_replica_share``);
    ``grads`` are its all-reduced gradients. With a ``LossScaleOptimizer`` (mixed
    precision) the loss is scaled before the gradients, as Keras's own train step does,
    because the optimizer unscales them. ``jit_compile`` compiles each replica's forward
    and backward pass with XLA. With ``apply=False`` nothing is updated (used to compare
    strategies). Pass the distributed dataset's ``element_spec`` (see ``_traced``).
    """
    import keras
    import tensorflow as tf

    loss_and_grads = _loss_and_grads_fn(model, scale=apply, jit_compile=jit_compile)
    loss_scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)

    def replica_step(x):
        weight, present, _ = _replica_share(x)
        loss, grads = loss_and_grads(x, weight, present)
        # an empty replica contributes nothing (its forward pass may hold NaN)
        grads = [None if g is None else tf.where(present, g, tf.zeros_like(g)) for g in grads]
        if apply:
            if loss_scaled:
                grads = _agree_on_overflow(grads)
            # the Keras optimizer all-reduces (sums) the gradients across replicas itself
            model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss, []
        return loss, tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)

    def step(batch):
        loss, grads = strategy.run(replica_step, args=(batch,))
        loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
        grads = [strategy.experimental_local_results(g)[0] for g in grads]
        return loss, grads

    return _traced(step, element_spec)


def make_distributed_eval(strategy, model, element_spec=None):
    """A ``tf.function`` returning (global-batch mean loss in inference mode, global example count)."""
    import tensorflow as tf

    def replica_eval(x):
        weight, present, total = _replica_share(x)
        return _weighted_loss(model, x, weight, present, training=False), total

    def evaluate(batch):
        loss, total = strategy.run(replica_eval, args=(batch,))
        loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
        return loss, strategy.experimental_local_results(total)[0]

    return _traced(evaluate, element_spec)


def _traced(fn, element_spec):
    """``fn`` as a ``tf.function``, traced for ``element_spec`` when given.

    The distributed dataset's spec has an unknown batch size, so one trace serves every
    batch. Traced for a batch's own shapes instead, a replica left empty by an uneven
    batch gets a static size of 0, for which Keras's losses return an empty vector
    instead of a scalar and ``compute_loss`` cannot add them up.
    """
    import tensorflow as tf

    if element_spec is None:
        return tf.function(fn, reduce_retracing=True)
    return tf.function(fn, input_signature=[element_spec])


def _replica_share(x):
    """(weight, present, total) for this replica's batch ``x``.

    Keras's ``compute_loss`` is this replica's local mean times 1/replicas; times
    ``weight`` = replicas * local / total it becomes local sum / global count, and the
    replicas' sum is the global-batch mean however the batch was split.
    """
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    local = tf.cast(tf.shape(tf.nest.flatten(x)[0])[0], tf.float32)
    total = context.all_reduce(tf.distribute.ReduceOp.SUM, local)
    weight = context.num_replicas_in_sync * local / tf.maximum(total, 1.0)
    return weight, local > 0, total


def _weighted_loss(model, x, weight, present, training):
    """This replica's share of the global-batch mean loss (0 on an empty replica, not NaN)."""
    import tensorflow as tf

    y_pred = model(x, training=training)
    loss = tf.cast(model.compute_loss(x=x, y=None, y_pred=y_pred, training=training), tf.float32)
    return tf.where(present, loss * weight, tf.zeros_like(loss))


def _loss_and_grads_fn(model, scale, jit_compile):
    """Forward and backward pass of one replica, XLA-compiled when ``jit_compile``."""
    import tensorflow as tf

    def loss_and_grads(x, weight, present):
        with tf.GradientTape() as tape:
            loss = _weighted_loss(model, x, weight, present, training=True)
            scaled = model.optimizer.scale_loss(loss) if scale else loss
        return loss, tape.gradient(scaled, model.trainable_variables)

    return tf.function(loss_and_grads, jit_compile=True) if jit_compile else loss_and_grads


def _agree_on_overflow(grads):
    """Non-finite gradients on every replica when any replica has them.

    ``LossScaleOptimizer`` decides to skip a step from the gradients of the first
    replica of each worker only: an overflow elsewhere would be applied as inf, or
    workers would disagree on the step and hang in their all-reduces.
    """
    import tensorflow as tf

    bad = tf.add_n([tf.reduce_sum(tf.cast(~tf.math.is_finite(g), tf.float32)) for g in grads if g is not None])
    bad = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, bad)
    return [None if g is None else tf.where(bad > 0, tf.fill(tf.shape(g), tf.constant(np.nan, g.dtype)), g)
            for g in grads]
