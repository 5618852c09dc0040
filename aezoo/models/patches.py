"""Layers of the masked autoencoder (``masked-ae``), with ``keras.ops`` only.

Images become sequences of flattened patches (``Patchify``/``Unpatchify``), patch tokens
get fixed 2-D sine-cosine positions (``SinCosPosition``), ``RandomMasking`` keeps a
random ``1 - mask_ratio`` of them per image, ``RestoreTokens`` puts a learned mask token
back in every hidden place, and ``MaskedPatchLoss`` adds the reconstruction loss over
the hidden patches only (He et al. 2021). ``transformer_block`` is one pre-norm ViT block.
"""

import numpy as np
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="aezoo")
class Patchify(keras.layers.Layer):
    """``(n, H, W, C)`` -> ``(n, (H/p)(W/p), p*p*C)``, patches in row-major order."""

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = int(patch_size)

    def call(self, x):
        p = self.patch_size
        _, h, w, c = x.shape
        x = ops.reshape(x, (-1, h // p, p, w // p, p, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, (h // p) * (w // p), p * p * c))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        p = self.patch_size
        return (n, (h // p) * (w // p), p * p * c)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size}


@keras.saving.register_keras_serializable(package="aezoo")
class Unpatchify(keras.layers.Layer):
    """The inverse of ``Patchify`` for an image of ``image_shape``."""

    def __init__(self, patch_size, image_shape, **kwargs):
        super().__init__(**kwargs)
        self.patch_size, self.image_shape = int(patch_size), tuple(int(d) for d in image_shape)

    def call(self, patches):
        p, (h, w, c) = self.patch_size, self.image_shape
        x = ops.reshape(patches, (-1, h // p, w // p, p, p, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, h, w, c))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "image_shape": list(self.image_shape)}


def sincos_table(grid_h, grid_w, dim):
    """MAE's fixed 2-D position table ``(grid_h * grid_w, dim)``: half the channels encode
    the row, half the column, each as sines and cosines of geometric frequencies."""
    if dim % 4:
        raise ValueError(f"position embedding width must divide by 4, got {dim}")

    def one_axis(positions, width):
        omega = 1.0 / 10000 ** (np.arange(width // 2, dtype=np.float64) / (width / 2.0))
        angles = positions[:, None] * omega[None]
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    rows, cols = np.meshgrid(np.arange(grid_h, dtype=np.float64), np.arange(grid_w, dtype=np.float64), indexing="ij")
    table = np.concatenate([one_axis(rows.ravel(), dim // 2), one_axis(cols.ravel(), dim // 2)], axis=1)
    return table.astype("float32")


@keras.saving.register_keras_serializable(package="aezoo")
class SinCosPosition(keras.layers.Layer):
    """Adds the fixed ``sincos_table`` to ``(n, grid_h * grid_w, dim)`` tokens (no weights)."""

    def __init__(self, grid_h, grid_w, **kwargs):
        super().__init__(**kwargs)
        self.grid_h, self.grid_w = int(grid_h), int(grid_w)

    def build(self, input_shape):
        self._table = sincos_table(self.grid_h, self.grid_w, int(input_shape[-1]))

    def call(self, tokens):
        return tokens + ops.cast(ops.convert_to_tensor(self._table)[None], tokens.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "grid_h": self.grid_h, "grid_w": self.grid_w}


def keep_count(num_patches, mask_ratio):
    """Visible patches per image: at least one, at most all."""
    return int(min(num_patches, max(1, round(num_patches * (1.0 - mask_ratio)))))


@keras.saving.register_keras_serializable(package="aezoo")
class RandomMasking(keras.layers.Layer):
    """Keeps a random ``keep_count`` of each image's tokens (a fresh draw every call).

    Returns ``(visible (n, k, D), ids_restore (n, P) int32, mask (n, P))``: ``mask`` is 1
    on hidden patches; ``ids_restore`` undoes the shuffle that put the kept tokens first.
    Masks in training and in ``evaluate`` alike, so a validation loss is the training one.
    """

    def __init__(self, num_patches, mask_ratio=0.75, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_patches, self.mask_ratio, self.seed = int(num_patches), float(mask_ratio), seed
        self.keep = keep_count(self.num_patches, self.mask_ratio)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, tokens):
        noise = keras.random.uniform((ops.shape(tokens)[0], self.num_patches), seed=self.seed_generator)
        return gather_visible(tokens, ops.argsort(noise, axis=1), self.keep)

    def compute_output_shape(self, input_shape):
        n, p, d = input_shape
        return (n, self.keep, d), (n, p), (n, p)

    def get_config(self):
        return {**super().get_config(), "num_patches": self.num_patches, "mask_ratio": self.mask_ratio,
                "seed": self.seed}


def gather_visible(tokens, ids_shuffle, keep):
    """The first ``keep`` tokens of each row's shuffle, the restoring order and the 0/1 mask."""
    ids_shuffle = ops.cast(ids_shuffle, "int32")
    ids_restore = ops.cast(ops.argsort(ids_shuffle, axis=1), "int32")
    visible = ops.take_along_axis(tokens, ops.expand_dims(ids_shuffle[:, :keep], -1), axis=1)
    mask = ops.cast(ops.greater_equal(ids_restore, keep), tokens.dtype)
    return visible, ids_restore, mask


@keras.saving.register_keras_serializable(package="aezoo")
class RestoreTokens(keras.layers.Layer):
    """Visible tokens ``(n, k, D)`` + ``ids_restore`` -> ``(n, P, D)`` in image order, a
    learned mask token in every hidden place."""

    def __init__(self, num_patches, **kwargs):
        super().__init__(**kwargs)
        self.num_patches = int(num_patches)

    def build(self, visible_shape, ids_restore_shape=None):
        dim = int(visible_shape[-1])
        self.mask_token = self.add_weight(shape=(1, 1, dim), initializer=keras.initializers.RandomNormal(stddev=0.02),
                                          name="mask_token")

    def call(self, visible, ids_restore):
        n, k = ops.shape(visible)[0], ops.shape(visible)[1]
        fill = ops.broadcast_to(ops.cast(self.mask_token, visible.dtype),
                                (n, self.num_patches - k, ops.shape(visible)[2]))
        ordered = ops.concatenate([visible, fill], axis=1)
        return ops.take_along_axis(ordered, ops.expand_dims(ops.cast(ids_restore, "int32"), -1), axis=1)

    def compute_output_shape(self, visible_shape, ids_restore_shape=None):
        return (visible_shape[0], self.num_patches, visible_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_patches": self.num_patches}


def masked_patch_loss(target, prediction, mask):
    """Per-example mean squared error over the hidden patches only (``mask`` 1 = hidden)."""
    per_patch = ops.mean(ops.square(ops.cast(target, prediction.dtype) - prediction), axis=-1)  # (n, P)
    return ops.sum(per_patch * mask, axis=-1) / ops.maximum(ops.sum(mask, axis=-1), 1.0)


@keras.saving.register_keras_serializable(package="aezoo")
class MaskedPatchLoss(keras.layers.Layer):
    """Adds ``masked_patch_loss`` (batch mean) and passes the prediction through."""

    def call(self, target, prediction, mask):
        self.add_loss(ops.mean(masked_patch_loss(target, prediction, mask)))
        return prediction

    def compute_output_shape(self, target_shape, prediction_shape=None, mask_shape=None):
        return prediction_shape


def transformer_block(dim, heads, mlp_ratio, name):
    """One pre-norm ViT block as a list of layers for ``apply_block`` (so the same layers
    serve the masked training graph and the unmasked encoder)."""
    return {"norm1": keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1"),
            "attention": keras.layers.MultiHeadAttention(heads, dim // heads, name=f"{name}_attention"),
            "norm2": keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2"),
            "mlp1": keras.layers.Dense(int(dim * mlp_ratio), activation="gelu", name=f"{name}_mlp1"),
            "mlp2": keras.layers.Dense(dim, name=f"{name}_mlp2")}


def apply_block(block, h):
    a = block["norm1"](h)
    h = h + block["attention"](a, a)
    return h + block["mlp2"](block["mlp1"](block["norm2"](h)))
