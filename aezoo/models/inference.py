"""Fast inference: one compiled function per sub-model, reused by every call.

``model.predict`` builds a data adapter, pads batches and (on TensorFlow) traces a new
``tf.function`` for each model it sees, which costs ~40 ms per call on small inputs and
warns about retracing after a few loaded presets. ``encode``/``decode``/``reconstruct``
call this instead: a function compiled once per sub-model and backend (``tf.function``
with a batch-polymorphic signature, ``jax.jit`` over ``stateless_call`` so it always
sees the current weights, plain eager calls under ``torch.no_grad``), applied to the
whole input when it fits in one batch and to fixed-size chunks otherwise.
"""

import weakref

import numpy as np
import keras

_COMPILED = weakref.WeakKeyDictionary()


def run(model, x, batch_size=256):
    """Outputs of ``model(x, training=False)`` as numpy (a list for multi-output models)."""
    fn = _COMPILED.get(model)
    if fn is None:
        fn = _COMPILED[model] = _compile(model)
    if len(x) <= batch_size:
        return _to_numpy(fn(x))
    chunks = [_to_numpy(fn(x[start:start + batch_size])) for start in range(0, len(x), batch_size)]
    if isinstance(chunks[0], list):
        return [np.concatenate(parts) for parts in zip(*chunks)]
    return np.concatenate(chunks)


def _to_numpy(out):
    if isinstance(out, (list, tuple)):
        return [keras.ops.convert_to_numpy(o) for o in out]
    return keras.ops.convert_to_numpy(out)


def _compile(model):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _compile_tensorflow(model)
    if backend == "jax":
        return _compile_jax(model)
    if backend == "torch":
        return _compile_torch(model)
    return lambda x: model(x, training=False)


def _compile_tensorflow(model):
    import tensorflow as tf

    shape = (None,) + tuple(model.inputs[0].shape[1:])
    call = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec(shape, "float32")],
                       reduce_retracing=True)
    return lambda x: call(tf.convert_to_tensor(x, "float32"))


def _compile_jax(model):
    import jax

    @jax.jit
    def call(trainable, non_trainable, x):
        return model.stateless_call(trainable, non_trainable, x, training=False)[0]

    def run_with_current_weights(x):
        return call([v.value for v in model.trainable_variables],
                    [v.value for v in model.non_trainable_variables], x)

    return run_with_current_weights


def _compile_torch(model):
    import torch

    def call(x):
        with torch.no_grad():
            return model(keras.ops.convert_to_tensor(x), training=False)

    return call
