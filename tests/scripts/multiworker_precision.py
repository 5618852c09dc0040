"""One worker of a two-process run (TF_CONFIG set by the test): mixed float16 and an
uneven last batch under MultiWorkerMirroredStrategy, against one device.

17 examples in global batches of 16 (seeded shuffle, the same batches in both runs): the
second batch's one example leaves a replica empty. Two SGD steps; the chief then trains the same model from the same
weights on one device (``fit``) and prints both weight changes as one JSON line.
"""

import json
import sys

import keras
import numpy as np

import aezoo
from aezoo.training import train

CONFIG = {"input_shape": (8, 8, 1), "latent_dim": 4, "hidden_units": (16,)}
x = np.random.default_rng(0).uniform(size=(17, 8, 8, 1)).astype("float32")
initial = []


def build():
    model = aezoo.build("dense-ae", **CONFIG)
    if not initial:  # the first build's weights (the same on every worker: seeded) are the start
        initial.extend(model.get_weights())
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    return model


def run(strategy):
    # numpy, not tf.data: no TensorFlow op may run before the strategy is created
    result = train(build, x, epochs=1, batch_size=16, strategy=strategy, mixed_precision=True, verbose=0)
    change = [w - w0 for w, w0 in zip(result.model.get_weights(), initial)]
    return result, change


result, change = run("multiworker")
report = {"strategy": result.strategy, "replicas": result.replicas, "chief": result.is_chief,
          "loss": result.history["loss"], "optimizer": type(result.model.optimizer).__name__}
if result.is_chief:
    _, reference = run("one")
    report["scale"] = max(float(np.max(np.abs(c))) for c in reference)
    report["max_diff"] = max(float(np.max(np.abs(a - b))) for a, b in zip(change, reference))
    report["finite"] = all(bool(np.all(np.isfinite(c))) for c in change)
print(json.dumps(report))
sys.stdout.flush()
