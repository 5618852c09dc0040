"""One worker of a two-process MultiWorkerMirroredStrategy run (TF_CONFIG set by the test).

argv: weights output (.npz), checkpoint folder, and optionally a folder for TensorBoard:
then the run also passes validation data, a callback that records its hooks,
jit_compile=True and (when the tensorboard package is installed) that folder, which the
multi-worker loop must honour like ``fit``.
"""

import importlib.util
import json
import sys

import keras
import numpy as np

import aezoo
from aezoo.training import train

out, checkpoint_dir = sys.argv[1], sys.argv[2]
tensorboard_dir = sys.argv[3] if len(sys.argv) > 3 else None


class Recorder(keras.callbacks.Callback):
    """Remembers which hooks ran, with the log keys they were given."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(["train_begin"])

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(["epoch_begin", epoch])

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            self.events.append(["batch_end", batch, sorted(logs or {})])

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(["epoch_end", epoch, sorted(logs or {})])

    def on_train_end(self, logs=None):
        self.events.append(["train_end", sorted(logs or {})])


x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
recorder = Recorder()
has_tensorboard = importlib.util.find_spec("tensorboard") is not None  # not a dependency of aezoo
extras = {"validation_data": x[:20], "callbacks": [recorder], "jit_compile": True,
          "tensorboard_dir": tensorboard_dir if has_tensorboard else None} if tensorboard_dir else {}
result = train(
    lambda: aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), seed=0),
    x, epochs=2, batch_size=16, strategy="auto", checkpoint_dir=checkpoint_dir, verbose=1, **extras,
)
np.savez(out, *[np.asarray(w) for w in result.model.weights])
print(json.dumps({"strategy": result.strategy, "replicas": result.replicas, "loss": result.history["loss"],
                  "chief": result.is_chief, "history": result.history, "events": recorder.events,
                  "tensorboard": has_tensorboard}))
