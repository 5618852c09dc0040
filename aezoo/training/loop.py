"""``train``: one call that trains under every tf.distribute strategy a user grows into.

The training layer is the only one that knows about ``tf.distribute``. One device and
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

import os
import time

from aezoo.training.checkpoints import _EpochLog, restore_checkpoint, save_checkpoint
from aezoo.training.strategies import TrainResult, as_dataset, is_chief, make_distributed_step, resolve_strategy


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
