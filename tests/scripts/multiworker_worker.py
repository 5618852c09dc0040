"""One worker of a two-process MultiWorkerMirroredStrategy run (TF_CONFIG set by the test)."""

import json
import sys

import numpy as np

import aezoo
from aezoo.training import train

out, checkpoint_dir = sys.argv[1], sys.argv[2]
x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
result = train(
    lambda: aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), seed=0),
    x, epochs=2, batch_size=16, strategy="auto", checkpoint_dir=checkpoint_dir, verbose=1,
)
np.savez(out, *[np.asarray(w) for w in result.model.weights])
print(json.dumps({"strategy": result.strategy, "replicas": result.replicas, "loss": result.history["loss"],
                  "chief": result.is_chief}))
