"""A small training run that checkpoints every epoch (killed and restarted by the test)."""

import json
import sys
import time

import keras
import numpy as np

import aezoo
from aezoo.training import train

checkpoint_dir, epochs = sys.argv[1], int(sys.argv[2])
x = np.random.default_rng(0).uniform(size=(256, 8, 8, 1)).astype("float32")
slow = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: time.sleep(0.5))
result = train(lambda: aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,)),
               x, epochs=epochs, batch_size=32, strategy="one", checkpoint_dir=checkpoint_dir, verbose=0,
               callbacks=[slow])
print(json.dumps({"epochs_run": result.epochs_run}))
