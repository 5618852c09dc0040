"""``train``: one call that trains under every tf.distribute strategy a user grows into.

On JAX and PyTorch it hands over to ``portable.train_portable`` (``model.fit`` on numpy
batches, ``keras.distribution.DataParallel`` over local devices). On TensorFlow, the
training layer is the only one that knows about ``tf.distribute``. One device and
``MirroredStrategy`` train with Keras's own ``model.fit`` (callbacks, progress bars;
``portable.fit_with_checkpoints`` adds atomic per-epoch checkpoints).
``MultiWorkerMirroredStrategy`` cannot use ``fit`` in Keras 3 (keras-team/keras#20585, "Attempt to convert a value (PerReplica...)"), so it runs a
``tf.function`` step under the strategy that calls the model's own ``compute_loss``.

Loss reduction: every aezoo loss is a per-example value averaged over the local batch,
and Keras multiplies it by 1/replicas, which is the global-batch mean only for equal local
batches. The custom step reweights each replica by its share of the examples, so any split
is exact (empty replicas too); under ``fit`` with several replicas every batch is trimmed to
a multiple of the replica count (``strategies.as_dataset``). ``test_training.py`` checks
that two replicas give the loss and gradients of one, uneven batches included.

The custom loop supports what ``fit`` gives the other paths: ``validation_data``
(``val_loss`` in the history), ``callbacks`` (train, epoch and batch hooks with logs;
``model.stop_training`` ends it), ``tensorboard_dir`` (written by the chief) and
``jit_compile`` (each replica's forward and backward pass under XLA).
"""

import os
import time
import warnings

from aezoo.training.checkpoints import (_EpochLog, check_finite, checkpoint_lock, restore_checkpoint,
                                        save_checkpoint)
from aezoo.training.portable import fit_with_checkpoints, train_portable
from aezoo.training.strategies import (TrainResult, as_dataset, is_chief, make_distributed_eval,
                                       make_distributed_step, resolve_strategy)


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
        data: a numpy array of inputs, a ``tf.data.Dataset`` of global batches (TensorFlow)
            or a ``keras.utils.PyDataset`` such as ``aezoo.data.batches`` (any backend).
        epochs: total epochs; with ``checkpoint_dir`` a restarted run continues from
            its last finished epoch and stops at the same total.
        batch_size: the *global* batch size (split across replicas). Under ``fit`` with
            several replicas (Mirrored) every batch holds a multiple of the replica count:
            up to ``replicas - 1`` examples of a numpy array's last (shuffled) batch, of
            the validation set's last batch and of an uneven ``tf.data`` batch are left out.
        strategy: ``"auto"``, ``"one"``, ``"mirrored"`` or ``"multiworker"`` (TensorFlow);
            ``"auto"``, ``"one"`` or ``"data-parallel"`` (JAX).
        checkpoint_dir: where a checkpoint is written at the end of every epoch
            (on the chief only) and an ``epochs.csv`` log is appended.
        mixed_precision, jit_compile: GPU speed options (float16 compute, XLA), on every path.
        validation_data, callbacks, tensorboard_dir: as ``fit``'s, on every path (the
            multi-worker loop reports ``val_loss`` and runs the callbacks' hooks itself).
    """
    # one training per checkpoint folder (a second is refused; other workers write beside it)
    with checkpoint_lock(checkpoint_dir if is_chief() else None):
        return _train(build_model, data, epochs=epochs, batch_size=batch_size, strategy=strategy,
                      validation_data=validation_data, checkpoint_dir=checkpoint_dir, seed=seed,
                      steps_per_epoch=steps_per_epoch, verbose=verbose, tensorboard_dir=tensorboard_dir,
                      mixed_precision=mixed_precision, jit_compile=jit_compile, callbacks=callbacks)


def _train(build_model, data, *, epochs, batch_size, strategy, validation_data, checkpoint_dir, seed,
           steps_per_epoch, verbose, tensorboard_dir, mixed_precision, jit_compile, callbacks):
    import keras

    if keras.backend.backend() != "tensorflow":  # JAX / PyTorch: model.fit on numpy batches
        return train_portable(build_model, data, epochs=epochs, batch_size=batch_size, strategy=strategy,
                              validation_data=validation_data, checkpoint_dir=checkpoint_dir, seed=seed,
                              steps_per_epoch=steps_per_epoch, verbose=verbose, mixed_precision=mixed_precision,
                              jit_compile=jit_compile, callbacks=callbacks, tensorboard_dir=tensorboard_dir)
    if tensorboard_dir:
        _require_tensorboard()
    keras.utils.set_random_seed(seed)
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    tf_strategy, kind = resolve_strategy(strategy)
    multiworker = kind == "multiworker"
    # fit needs equal local batches for a global-mean loss; the custom step does not
    replicas = 1 if multiworker else tf_strategy.num_replicas_in_sync
    if batch_size % replicas and not hasattr(data, "element_spec"):
        warnings.warn(f"batch_size {batch_size} is not a multiple of the {replicas} replicas: each batch is trimmed "
                      f"to {batch_size - batch_size % replicas} examples so the replicas hold equal shares",
                      stacklevel=2)
    dataset = as_dataset(data, batch_size, seed=seed, replicas=replicas)
    if validation_data is not None:
        validation_data = as_dataset(validation_data, batch_size, shuffle=False, replicas=replicas)

    with tf_strategy.scope():
        model = build_model()
        if jit_compile:
            model.jit_compile = True

    start = time.time()
    chief = is_chief()
    log = _EpochLog(os.path.join(checkpoint_dir, "epochs.csv") if checkpoint_dir and chief else None)
    if multiworker:
        history, epochs_run = _custom_loop(
            tf_strategy, model, dataset, epochs=epochs, validation_data=validation_data, checkpoint_dir=checkpoint_dir,
            chief=chief, steps_per_epoch=steps_per_epoch, verbose=verbose, log=log, callbacks=list(callbacks),
            tensorboard_dir=tensorboard_dir, jit_compile=jit_compile,
        )
    else:
        with tf_strategy.scope():  # restoring the optimizer's state builds its variables
            history, epochs_run = fit_with_checkpoints(
                model, dataset, epochs, validation_data, checkpoint_dir, steps_per_epoch, verbose,
                tensorboard_dir, list(callbacks), log,
            )
    return TrainResult(model, history, kind, tf_strategy.num_replicas_in_sync, epochs_run, time.time() - start, chief)


def _require_tensorboard():
    """Fail before training, not at the first summary after an epoch of work."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise ValueError("tensorboard_dir writes TensorBoard summaries, which needs the tensorboard package: "
                         "pip install tensorboard")


# ------------------------------------------------------------ the custom loop
def _custom_loop(strategy, model, dataset, *, epochs, validation_data, checkpoint_dir, chief, steps_per_epoch,
                 verbose, log, callbacks, tensorboard_dir, jit_compile):
    """The multi-worker loop; returns (history, epochs run). Every worker runs it in lockstep."""
    dist = _distribute(strategy, dataset)
    val = _distribute(strategy, validation_data) if validation_data is not None else None
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
        done = restore_checkpoint(model, checkpoint_dir)
    step = make_distributed_step(strategy, model, jit_compile=jit_compile, element_spec=dist.element_spec)
    evaluate = make_distributed_eval(strategy, model, val.element_spec) if val is not None else None
    # TensorBoard on the chief only: two workers writing one folder would interleave events
    hooks = _callback_list(model, callbacks, tensorboard_dir if chief else None, epochs, steps_per_epoch)
    history, logs, epochs_run = {}, {}, 0
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(done, epochs):
        t0 = time.time()
        hooks.on_epoch_begin(epoch)
        logs = {"loss": _train_epoch(step, dist, steps_per_epoch, hooks)}
        if evaluate is not None:
            logs["val_loss"] = _validation_loss(evaluate, val)
        hooks.on_epoch_end(epoch, dict(logs))
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        epochs_run += 1
        _end_of_epoch(model, epoch, epochs, logs, time.time() - t0, checkpoint_dir, chief, verbose, log)
        if model.stop_training:
            break
    hooks.on_train_end(dict(logs))
    return history, epochs_run


def _distribute(strategy, dataset):
    """The dataset split across workers by batch slices (each global batch shared by all)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def _callback_list(model, callbacks, tensorboard_dir, epochs, steps_per_epoch):
    """The user's callbacks (and TensorBoard) behind Keras's ``CallbackList``, as ``fit`` runs them."""
    import keras

    callbacks = list(callbacks)
    if tensorboard_dir:
        # write_graph needs fit's train_function, which the custom loop does not have
        callbacks.append(keras.callbacks.TensorBoard(tensorboard_dir, write_graph=False))
    return keras.callbacks.CallbackList(callbacks, model=model, epochs=epochs, steps=steps_per_epoch, verbose=0)


def _train_epoch(step, dist, steps_per_epoch, hooks):
    """One pass over the distributed dataset; returns the mean of the steps' global-batch losses."""
    total, count = 0.0, 0
    for i, batch in enumerate(dist):
        if steps_per_epoch and i >= steps_per_epoch:
            break
        hooks.on_train_batch_begin(i)
        loss = float(step(batch)[0])
        hooks.on_train_batch_end(i, {"loss": loss})
        total, count = total + loss, count + 1
    return total / max(count, 1)


def _validation_loss(evaluate, val):
    """Mean loss over every validation example (batches weighted by their example counts)."""
    total, count = 0.0, 0.0
    for batch in val:
        loss, n = evaluate(batch)
        total, count = total + float(loss) * float(n), count + float(n)
    return total / max(count, 1.0)


def _end_of_epoch(model, epoch, epochs, logs, seconds, checkpoint_dir, chief, verbose, log):
    """Report the epoch and checkpoint it (a non-finite epoch stops the run uncommitted)."""
    check_finite(model, epoch, logs, checkpoint_dir if chief else None)
    if verbose and chief:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items())
        print(f"epoch {epoch + 1}/{epochs}: {shown} ({seconds:.1f}s)", flush=True)
    if checkpoint_dir:
        # every worker saves (variables are mirrored, saving is local); only the chief's
        # copy is the checkpoint, the others write to a scratch folder beside it
        target = checkpoint_dir if chief else os.path.join(checkpoint_dir, f"worker-scratch-{os.getpid()}")
        save_checkpoint(model, target, epoch + 1)
        log.write(epoch, {**logs, "seconds": seconds})
