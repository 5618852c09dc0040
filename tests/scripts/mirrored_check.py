"""Run in a fresh process: two logical CPUs, then compare 1 vs 2 replicas on one batch."""

import json
import sys

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

import aezoo  # noqa: E402
from aezoo.training import make_distributed_step, train  # noqa: E402

name = sys.argv[1]
config = json.loads(sys.argv[2])
x = np.random.default_rng(0).uniform(size=(16, *config["input_shape"])).astype("float32")
if name.endswith("vae"):
    x = (x > 0.5).astype("float32")
    # each replica draws its own z noise; take z = mean so the reduction is compared exactly
    aezoo.models.layers.Sampling.call = lambda self, inputs, training=None: inputs[0]


def results(strategy):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = aezoo.build(name, **config)
    batch = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(x).batch(16))
    loss, grads = make_distributed_step(strategy, model, apply=False)(next(iter(batch)))
    return float(loss), [np.asarray(g) for g in grads], strategy.num_replicas_in_sync


one = results(tf.distribute.OneDeviceStrategy("/cpu:0"))
two = results(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
grad_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(one[1], two[1]))
grad_scale = max(float(np.max(np.abs(a))) for a in one[1])

# and fit() itself under MirroredStrategy on the two devices
result = train(lambda: aezoo.build(name, **config), x, epochs=1, batch_size=8, strategy="mirrored", verbose=0)
print(json.dumps({"loss_one": one[0], "loss_two": two[0], "replicas": [one[2], two[2]],
                  "grad_max_diff": grad_diff, "grad_scale": grad_scale,
                  "fit_replicas": result.replicas, "fit_loss": result.history["loss"][-1]}))
