"""Run in a fresh process: two logical CPUs, then compare 1 vs 2 replicas.

argv: architecture, its config as JSON, and optionally "hide-private" (run as if Keras
had no private ``_aggregate_additional_loss``, for a model without ``add_loss`` terms).
Prints one JSON line: the custom step on one batch, on uneven batches (3 and 1 examples:
split 2/1 and 1/0; 3 again with the two replicas' step XLA-compiled), and ``train``
(fit) under MirroredStrategy on 17 examples in batches of 8 against one device on the
16 examples two replicas use.
"""

import json
import sys

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

import aezoo  # noqa: E402
from aezoo.training import make_distributed_step, resolve_strategy, train  # noqa: E402

name = sys.argv[1]
config = json.loads(sys.argv[2])
hide_private = sys.argv[3:] == ["hide-private"]
if hide_private:
    for cls in keras.Model.__mro__:
        if "_aggregate_additional_loss" in vars(cls):
            delattr(cls, "_aggregate_additional_loss")
x = np.random.default_rng(0).uniform(size=(17, *config["input_shape"])).astype("float32")
if name.endswith("vae"):
    x = (x > 0.5).astype("float32")
    # each replica draws its own z noise; take z = mean so the reduction is compared exactly
    aezoo.models.layers.Sampling.call = lambda self, inputs, training=None: inputs[0]

one_device = tf.distribute.OneDeviceStrategy("/cpu:0")
two_devices = resolve_strategy("mirrored")[0]  # train() reuses this one (one Mirrored per process)


def step_results(strategy, n, jit_compile=False):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = aezoo.build(name, **config)
    data = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(x[:n]).batch(16))
    step = make_distributed_step(strategy, model, apply=False, jit_compile=jit_compile, element_spec=data.element_spec)
    loss, grads = step(next(iter(data)))
    return float(loss), [np.asarray(g) for g in grads]


def compare(n, jit_compile=False):
    """One device (plain) against two replicas (XLA-compiled when ``jit_compile``)."""
    one, two = step_results(one_device, n), step_results(two_devices, n, jit_compile)
    return {"n": n, "jit_compile": jit_compile, "loss_one": one[0], "loss_two": two[0],
            "grad_max_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(one[1], two[1])),
            "grad_scale": max(float(np.max(np.abs(a))) for a in one[1])}


keras.utils.set_random_seed(0)
initial = aezoo.build(name, **config).get_weights()


def build():
    model = aezoo.build(name, **config)
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    return model


def fit_delta(strategy, examples):
    data = tf.data.Dataset.from_tensor_slices(x[:examples]).batch(8)  # unshuffled: the same batches
    result = train(build, data, epochs=1, batch_size=8, strategy=strategy, verbose=0)
    delta = [w - w0 for w, w0 in zip(result.model.get_weights(), initial)]
    return result, delta


even = compare(16)
uneven = [compare(3), compare(1), compare(3, jit_compile=True)]
fit_two, delta_two = fit_delta("mirrored", 17)
_, delta_one = fit_delta("one", 16)
print(json.dumps({"loss_one": even["loss_one"], "loss_two": even["loss_two"],
                  "replicas": [1, two_devices.num_replicas_in_sync],
                  "grad_max_diff": even["grad_max_diff"], "grad_scale": even["grad_scale"], "uneven": uneven,
                  "fit_replicas": fit_two.replicas, "fit_loss": fit_two.history["loss"][-1],
                  "fit_delta_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(delta_one, delta_two)),
                  "fit_delta_scale": max(float(np.max(np.abs(a))) for a in delta_one),
                  "private_hidden": hide_private}))
