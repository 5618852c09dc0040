"""``train``: one call that trains under every tf.distribute strategy a user grows into.

On JAX and PyTorch it hands over to ``portable.train_portable`` (``model.fit`` on numpy
batches, ``keras.distribution.DataParallel`` over local devices). On TensorFlow, the
training layer is the only one that knows about ``tf.distribute``. One device and
``MirroredStrategy`` train with Keras's own ``model.fit`` (callbacks, progress bars;
``portable.fit_with_checkpoints`` adds atomic per-epoch checkpoints).
``MultiWorkerMirroredStrategy`` cannot use ``fit`` in Keras 3 (keras-team/keras#20585, "Attempt to convert a value (PerReplica...)"), so it runs a
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
from aezoo.training.portable import fit_with_checkpoints, train_portable
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
        data: a numpy array of inputs, a ``tf.data.Dataset`` of global batches (TensorFlow)
            or a ``keras.utils.PyDataset`` such as ``aezoo.data.batches`` (any backend).
        epochs: total epochs; with ``checkpoint_dir`` a restarted run continues from
            its last finished epoch and stops at the same total.
        batch_size: the *global* batch size (split across replicas).
        strategy: ``"auto"``, ``"one"``, ``"mirrored"`` or ``"multiworker"`` (TensorFlow);
            ``"auto"``, ``"one"`` or ``"data-parallel"`` (JAX).
        checkpoint_dir: where a checkpoint is written at the end of every epoch
            (on the chief only) and an ``epochs.csv`` log is appended.
        mixed_precision, jit_compile: GPU speed options (float16 compute, XLA).
    """
    import keras

    if keras.backend.backend() != "tensorflow":  # JAX / PyTorch: model.fit on numpy batches
        return train_portable(build_model, data, epochs=epochs, batch_size=batch_size, strategy=strategy,
                              validation_data=validation_data, checkpoint_dir=checkpoint_dir, seed=seed,
                              steps_per_epoch=steps_per_epoch, verbose=verbose, mixed_precision=mixed_precision,
                              jit_compile=jit_compile, callbacks=callbacks, tensorboard_dir=tensorboard_dir)
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
        with tf_strategy.scope():  # restoring the optimizer's state builds its variables
            history, epochs_run = fit_with_checkpoints(
                model, dataset, epochs, validation_data, checkpoint_dir, steps_per_epoch, verbose,
                tensorboard_dir, list(callbacks), log,
            )
    return TrainResult(model, history, kind, tf_strategy.num_replicas_in_sync, epochs_run, time.time() - start, chief)


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
