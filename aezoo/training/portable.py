"""Training on any Keras backend: ``model.fit`` with checkpoints, and the JAX/PyTorch path.

``fit_with_checkpoints`` is the one ``fit`` call every single-process run goes through
(TensorFlow's one-device and Mirrored strategies too): an atomic checkpoint per epoch
resumes weights, optimizer and epoch after a kill, and ``epochs.csv`` logs each
finished epoch with its wall time. ``train_portable`` is ``train`` without TensorFlow: numpy batches
(``aezoo.data.batches``) and, on JAX with several local devices,
``keras.distribution.DataParallel`` (each device gets an equal shard of every batch).
"""

import contextlib
import os
import time

import numpy as np

PORTABLE_STRATEGIES = ("auto", "one", "data-parallel")


def fit_with_checkpoints(model, data, epochs, validation_data, checkpoint_dir, steps_per_epoch, verbose,
                         tensorboard_dir, callbacks, log):
    """``model.fit`` that resumes after a kill; returns (history, epochs run in this call).

    With ``checkpoint_dir``, the last complete checkpoint (weights, optimizer state,
    epoch; ``checkpoints.save_checkpoint`` commits each set atomically) is restored
    first and ``fit`` starts at its epoch; every finished epoch is checkpointed and
    logged. Keras's ``BackupAndRestore`` is not used: it rewrites its weights file in
    place, so a kill during the save leaves a torn file that cannot resume.
    """
    import keras

    from aezoo.training.checkpoints import check_finite, restore_checkpoint, save_checkpoint

    # a diverged epoch stops the run before anything commits it (the last finite checkpoint stays)
    callbacks, initial_epoch = [keras.callbacks.TerminateOnNaN(), *callbacks], 0
    if checkpoint_dir:
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        initial_epoch = restore_checkpoint(model, checkpoint_dir)
    started = {}

    def end_of_epoch(epoch, logs):
        check_finite(model, epoch, logs, checkpoint_dir)
        if checkpoint_dir:
            save_checkpoint(model, checkpoint_dir, epoch + 1)
            log.write(epoch, {**logs, "seconds": time.time() - started["t"]})

    callbacks.append(keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: started.__setitem__("t", time.time()), on_epoch_end=end_of_epoch))
    if tensorboard_dir:
        callbacks.append(keras.callbacks.TensorBoard(tensorboard_dir))
    if initial_epoch >= epochs:
        return {}, 0
    hist = model.fit(data, epochs=epochs, initial_epoch=initial_epoch, validation_data=validation_data,
                     steps_per_epoch=steps_per_epoch, shuffle=False,  # the pipeline shuffles, with its seed
                     callbacks=callbacks, verbose=verbose)
    return hist.history, len(hist.epoch)


def local_devices():
    """The accelerators Keras's distribution API sees (CPU cores count as one device)."""
    import keras

    try:
        return keras.distribution.list_devices()
    except (NotImplementedError, RuntimeError, ValueError):  # backends without the distribution API
        return []


def resolve_portable_strategy(strategy, backend):
    """``(keras.distribution.Distribution or None, kind)`` for a strategy name off TensorFlow."""
    import keras

    if strategy in ("mirrored", "multiworker"):
        raise ValueError(f"strategy={strategy!r} is a tf.distribute strategy and needs KERAS_BACKEND=tensorflow; "
                         f"on {backend} use 'auto' or 'data-parallel' (keras.distribution.DataParallel)")
    if strategy not in PORTABLE_STRATEGIES:
        raise ValueError(f"strategy must be one of {PORTABLE_STRATEGIES} on the {backend} backend, got {strategy!r}")
    devices = local_devices() if backend == "jax" else []
    if strategy == "data-parallel" and backend != "jax":
        raise ValueError(f"strategy='data-parallel' uses keras.distribution, which Keras supports on JAX; "
                         f"on {backend} use 'one'")
    if strategy == "data-parallel" or (strategy == "auto" and len(devices) > 1):
        return keras.distribution.DataParallel(devices=devices), "data-parallel"
    return None, "one"


def as_batches(data, batch_size, seed, drop_remainder, shuffle=True):
    """Arrays -> shuffled numpy batches; a ``PyDataset`` (e.g. ``aezoo.data.batches``) passes through."""
    import keras

    if isinstance(data, keras.utils.PyDataset):
        return data
    if type(data).__module__.startswith("tensorflow"):
        raise ValueError("a tf.data.Dataset needs KERAS_BACKEND=tensorflow; pass a numpy array or "
                         "aezoo.data.batches(x) on other backends")
    from aezoo.data.batches import batches

    return batches(np.asarray(data), batch_size=batch_size, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder)


def train_portable(build_model, data, *, epochs, batch_size=128, strategy="auto", validation_data=None,
                   checkpoint_dir=None, seed=0, steps_per_epoch=None, verbose=1, mixed_precision=False,
                   jit_compile=False, callbacks=(), tensorboard_dir=None):
    """``aezoo.training.train`` on JAX or PyTorch (same arguments, same ``TrainResult``)."""
    import keras

    from aezoo.training.checkpoints import _EpochLog
    from aezoo.training.strategies import TrainResult

    backend = keras.backend.backend()
    if tensorboard_dir:
        raise ValueError("tensorboard_dir writes TensorFlow summaries and needs KERAS_BACKEND=tensorflow")
    keras.utils.set_random_seed(seed)
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16" if backend != "jax" else "mixed_bfloat16")
    distribution, kind = resolve_portable_strategy(strategy, backend)
    replicas = len(distribution.device_mesh.devices.flatten()) if distribution else 1
    if batch_size % replicas:
        raise ValueError(f"batch_size {batch_size} must be divisible by the {replicas} devices of data-parallel")
    data = as_batches(data, batch_size, seed, drop_remainder=replicas > 1)
    if validation_data is not None:
        validation_data = as_batches(validation_data, batch_size, seed, drop_remainder=replicas > 1, shuffle=False)

    start = time.time()
    log = _EpochLog(os.path.join(checkpoint_dir, "epochs.csv") if checkpoint_dir else None)
    scope = distribution.scope() if distribution else contextlib.nullcontext()
    with scope:
        model = build_model()
        if jit_compile:
            model.jit_compile = True
        history, epochs_run = fit_with_checkpoints(model, data, epochs, validation_data, checkpoint_dir,
                                                   steps_per_epoch, verbose, None, callbacks, log)
    return TrainResult(model, history, kind, replicas, epochs_run, time.time() - start, True)
