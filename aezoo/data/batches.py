"""Numpy batches for ``model.fit`` on any Keras backend (no TensorFlow needed).

``ArrayBatches`` is a ``keras.utils.PyDataset`` over an array: reshuffled every epoch
and, for Bernoulli models, freshly binarised every epoch (dynamic binarisation), both
seeded, so a JAX or PyTorch run sees the same protocol as the ``tf.data`` pipeline of
``pipelines.dataset``. ``drop_remainder`` keeps every batch full, which data-parallel
training over several devices needs (each device gets an equal shard).
"""

import numpy as np
import keras

from aezoo.data.pipelines import _normalise_array


class ArrayBatches(keras.utils.PyDataset):
    """Float32 batches of ``x`` in [0, 1] (``real=True``: any real values); the model's target is its input."""

    def __init__(self, x, batch_size=128, shuffle=True, seed=0, binarize=False, drop_remainder=False,
                 labels=None, num_classes=None, real=False, shift=0, flip=False):
        super().__init__()
        self.shift, self.flip = int(shift), bool(flip)
        self.labels = None
        if labels is not None:  # a conditional model's second input
            from aezoo.data.pipelines import one_hot

            if len(labels) != len(x):
                raise ValueError(f"got {len(labels)} labels for {len(x)} examples")
            self.labels = one_hot(labels, num_classes or int(np.max(labels)) + 1)
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.x, self.scale = _normalise_array(x, real)
        if drop_remainder and len(self.x) < batch_size:
            raise ValueError(f"{len(self.x)} examples cannot fill one batch of {batch_size} (drop_remainder=True)")
        self.batch_size, self.shuffle, self.binarize = int(batch_size), shuffle, binarize
        self.drop_remainder = drop_remainder
        self.seed, self.epoch = seed, 0
        self._order = self._epoch_order()

    def __len__(self):
        n = len(self.x) / self.batch_size
        return int(np.floor(n) if self.drop_remainder else np.ceil(n))

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        batch = self.x[np.sort(rows)].astype("float32")  # sorted rows: faster gathers, same set
        if self.scale is not None:
            batch /= self.scale
        if self.shift:
            from aezoo.data.arrays import random_shift

            batch = random_shift(batch, self.shift, np.random.default_rng((self.seed, self.epoch, index, 1)))
        if self.flip:
            mirrored = np.random.default_rng((self.seed, self.epoch, index, 2)).random(len(batch)) < 0.5
            batch[mirrored] = batch[mirrored][:, :, ::-1]
        if self.binarize:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            batch = (rng.random(batch.shape, dtype="float32") < batch).astype("float32")
        if self.labels is not None:
            return ((batch, self.labels[np.sort(rows)]),)
        return batch

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._epoch_order()

    def _epoch_order(self):
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng((self.seed, self.epoch)).permutation(len(self.x))


def batches(x, batch_size=128, shuffle=True, seed=0, binarize=False, drop_remainder=False, labels=None,
            num_classes=None, real=False, shift=0, flip=False):
    """``ArrayBatches`` over an array of examples (uint8 0-255 or float in [0, 1]; ``real=True``:
    real-valued series of any range, as they are); with ``labels``, batches are
    ``((x, one_hot),)`` for a conditional model; ``shift``: move each image up to that many
    pixels per axis, ``flip``: mirror half of them left to right (augmentation, fresh every
    batch and epoch)."""
    return ArrayBatches(x, batch_size, shuffle, seed, binarize, drop_remainder, labels, num_classes, real, shift,
                        flip)
