"""Run in a fresh process: mixed float16 on two logical CPUs against one device.

One SGD step on one batch of 16: the weight change of ``train`` (fit) on one device is
the reference; ``train`` under MirroredStrategy and the custom step
(``make_distributed_step``, the multi-worker step) on one and on two replicas must
match it. Then a batch whose second half overflows float16 under the loss scale must be
skipped (weights unchanged, scale halved) on two replicas as on one. Prints one JSON line.
"""

import json

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

import aezoo  # noqa: E402
from aezoo.training import make_distributed_step, resolve_strategy, train  # noqa: E402

CONFIG = {"input_shape": (8, 8, 1), "latent_dim": 4, "hidden_units": (16,)}
x = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
keras.utils.set_random_seed(0)
initial = aezoo.build("dense-ae", **CONFIG).get_weights()


def build():
    model = aezoo.build("dense-ae", **CONFIG)
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    return model


def changes(model):
    return [w - w0 for w, w0 in zip(model.get_weights(), initial)]


def fit_change(strategy):
    result = train(build, x, epochs=1, batch_size=16, strategy=strategy, mixed_precision=True, verbose=0)
    return changes(result.model), type(result.model.optimizer).__name__, result.replicas


def step_model(strategy, data):
    with strategy.scope():
        model = build()
        model.optimizer.build(model.trainable_variables)
    dist = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(data).batch(16))
    make_distributed_step(strategy, model, element_spec=dist.element_spec)(next(iter(dist)))
    return model


def max_diff(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a, b))


# train(mixed_precision=True) restores the caller's policy when it returns; the custom steps
# below are built under the policy it trains with
keras.mixed_precision.set_global_policy("mixed_float16")
reference, optimizer, _ = fit_change("one")
mirrored = resolve_strategy("mirrored")[0]  # the one train(strategy="mirrored") uses
fit_two, _, fit_replicas = fit_change("mirrored")
one_device = tf.distribute.OneDeviceStrategy("/cpu:0")
step_one = changes(step_model(one_device, x))
step_two = changes(step_model(mirrored, x))

overflowing = x.copy()
overflowing[8:] = 1e4  # the second replica's half: float16 gradients overflow at scale 2**15
skipped = {}
for label, strategy in (("one", one_device), ("two", mirrored)):
    model = step_model(strategy, overflowing)
    skipped[label] = {"max_change": max(float(np.max(np.abs(c))) for c in changes(model)),
                      "finite": all(bool(np.all(np.isfinite(w))) for w in model.get_weights()),
                      "scale": float(np.asarray(model.optimizer.dynamic_scale.value))}

print(json.dumps({
    "policy": keras.mixed_precision.global_policy().name, "optimizer": optimizer, "fit_replicas": fit_replicas,
    "replicas": mirrored.num_replicas_in_sync, "scale": max(float(np.max(np.abs(c))) for c in reference),
    "fit_two_diff": max_diff(reference, fit_two), "step_one_diff": max_diff(reference, step_one),
    "step_two_diff": max_diff(reference, step_two), "overflow": skipped,
}))
