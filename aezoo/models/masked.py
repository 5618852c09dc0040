"""``masked-ae``: the masked autoencoder (He, Chen, Xie, Li, Dollar & Girshick, 2021).

An image is cut into ``patch_size`` patches; a random ``mask_ratio`` of them (75%) is
hidden; a ViT encoder reads only the visible patches; a light decoder gets the encoded
tokens back in place, a learned mask token in every hidden place, and predicts every
patch's pixels; the loss is the mean squared error over the *hidden* patches only.

Two paths share the same layers:

- the training graph (``fit``, ``evaluate``, ``predict``) masks a fresh random subset
  every call, so its loss is the masked-patch loss as trained;
- ``encoder`` reads the whole image (no masking) and returns its token grid
  ``(n, patches, embed_dim)``; ``decoder`` maps such a grid back to an image.

``encode(x)`` gives the features of the whole image: the mean of the encoder's tokens,
``(n, embed_dim)`` (what a linear probe reads); ``encode(x, tokens=True)`` the grid,
which ``decode`` takes. ``reconstruct(x)`` decodes the unmasked encoding;
``reconstruct(x, mask_ratio=0.75, seed=0)`` shows MAE's own task: it hides patches
(seeded) and returns the prediction with the hidden mask.
"""

import weakref

import numpy as np
import keras
from keras import ops

from aezoo.models import inference
from aezoo.models.base import Autoencoder, check_input_shape, interpolate_codes
from aezoo.models.patches import (MaskedPatchLoss, Patchify, RandomMasking, RestoreTokens, SinCosPosition,
                                  Unpatchify, apply_block, gather_visible, keep_count, transformer_block)
from aezoo.models.registry import register_architecture

_CHAINS = weakref.WeakKeyDictionary()


def check_patches(name, input_shape, patch_size, embed_dim, num_heads, decoder_dim, decoder_heads, mask_ratio):
    h, w, _ = input_shape
    if patch_size <= 0 or h % patch_size or w % patch_size:
        sizes = [p for p in range(1, min(h, w) + 1) if h % p == 0 and w % p == 0]
        raise ValueError(f"{name}: patch_size {patch_size} does not tile a {h}x{w} image; sizes that do: {sizes}")
    for what, dim, heads in (("embed_dim", embed_dim, num_heads), ("decoder_dim", decoder_dim, decoder_heads)):
        if dim % heads or dim % 4:
            raise ValueError(f"{name}: {what}={dim} must divide by its heads ({heads}) and by 4 (2-D positions)")
    if not 0.0 < mask_ratio < 1.0:
        raise ValueError(f"{name}: mask_ratio must lie in (0, 1): the loss is taken on hidden patches only; "
                         f"got {mask_ratio}")


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("masked-ae")
class MaskedAutoencoder(Autoencoder):
    """Masked autoencoder with a ViT encoder and a light transformer decoder (module docstring).

    Args:
        input_shape: ``(height, width, channels)``, both divisible by ``patch_size``.
        patch_size: side of the square patches (4 on 28x28: 49 patches).
        mask_ratio: fraction of patches hidden in training (0.75 in the paper).
        embed_dim, depth, num_heads: the encoder's width, blocks and attention heads;
            ``latent_dim`` is ``embed_dim`` (the pooled feature).
        decoder_dim, decoder_depth, decoder_heads: the decoder's.
        mlp_ratio: hidden width of each block's MLP, as a multiple of its width.
        output_activation: ``"sigmoid"`` for images in [0, 1].
        seed: seed of the masking draws.

    Example:
        >>> mae = aezoo.build("masked-ae", input_shape=(28, 28, 1), patch_size=4)
        >>> mae.fit(x_train, epochs=50)           # loss: MSE on the hidden patches
        >>> features = mae.encode(x)              # (n, 128) for a linear probe
        >>> filled, hidden = mae.reconstruct(x, mask_ratio=0.75, seed=0)
    """

    config_keys = ("input_shape", "patch_size", "mask_ratio", "embed_dim", "depth", "num_heads", "decoder_dim",
                   "decoder_depth", "decoder_heads", "mlp_ratio", "output_activation", "seed")
    default_loss = None  # the masked-patch loss is in the graph

    def __init__(self, input_shape, patch_size=4, mask_ratio=0.75, embed_dim=128, depth=4, num_heads=4,
                 decoder_dim=64, decoder_depth=2, decoder_heads=4, mlp_ratio=2.0, output_activation="sigmoid",
                 seed=None, **kwargs):
        name = kwargs.pop("name", "masked_ae")
        arch = self.architecture
        input_shape = check_input_shape(arch, input_shape, min_rank=3)
        check_patches(arch, input_shape, patch_size, embed_dim, num_heads, decoder_dim, decoder_heads, mask_ratio)
        h, w, c = input_shape
        grid_h, grid_w = h // patch_size, w // patch_size
        patches, patch_dim = grid_h * grid_w, patch_size * patch_size * c

        # === Layers (shared by the masked training graph and the unmasked encoder) ===
        patchify = Patchify(patch_size, name="patchify")
        embed = keras.layers.Dense(embed_dim, name="patch_embed")
        position = SinCosPosition(grid_h, grid_w, name="position")
        blocks = [transformer_block(embed_dim, num_heads, mlp_ratio, f"encoder_block_{i}") for i in range(depth)]
        encoder_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="encoder_norm")
        decoder_embed = keras.layers.Dense(decoder_dim, name="decoder_embed")
        decoder_position = SinCosPosition(grid_h, grid_w, name="decoder_position")
        decoder_blocks = [transformer_block(decoder_dim, decoder_heads, mlp_ratio, f"decoder_block_{i}")
                          for i in range(decoder_depth)]
        decoder_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="decoder_norm")
        predict = keras.layers.Dense(patch_dim, activation=output_activation, name="decoder_predict")
        unpatchify = Unpatchify(patch_size, input_shape, name="unpatchify")

        def encode_tokens(tokens):
            for block in blocks:
                tokens = apply_block(block, tokens)
            return encoder_norm(tokens)

        def decode_tokens(tokens):
            for block in decoder_blocks:
                tokens = apply_block(block, tokens)
            return predict(decoder_norm(tokens))

        # encoder: the whole image -> its token grid; decoder: a token grid -> the image
        x_in = keras.Input(input_shape, name="x")
        encoder = keras.Model(x_in, encode_tokens(position(embed(patchify(x_in)))), name="encoder")
        t_in = keras.Input((patches, embed_dim), name="tokens")
        decoder = keras.Model(t_in, unpatchify(decode_tokens(decoder_position(decoder_embed(t_in)))), name="decoder")

        # === Functional model: the masked training graph ===
        inputs = keras.Input(input_shape, name="inputs")
        target = patchify(inputs)
        visible, ids_restore, mask = RandomMasking(patches, mask_ratio, seed, name="random_masking")(
            position(embed(target)))
        restored = RestoreTokens(patches, name="restore_tokens")(decoder_embed(encode_tokens(visible)), ids_restore)
        prediction = decode_tokens(decoder_position(restored))
        outputs = unpatchify(MaskedPatchLoss(name="masked_patch_loss")(target, prediction, mask))
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        self.data_shape, self.latent_dim = input_shape, int(embed_dim)
        self.patch_size, self.mask_ratio, self.embed_dim = int(patch_size), float(mask_ratio), int(embed_dim)
        self.depth, self.num_heads, self.decoder_dim = int(depth), int(num_heads), int(decoder_dim)
        self.decoder_depth, self.decoder_heads, self.mlp_ratio = int(decoder_depth), int(decoder_heads), float(mlp_ratio)
        self.output_activation, self.seed = output_activation, seed
        self.num_patches, self.token_shape = patches, (patches, int(embed_dim))

    # ------------------------------------------------------------- public API
    def encode(self, x, tokens=False, batch_size=None):
        """Features of the whole image: mean token ``(n, embed_dim)``; ``tokens=True``: the grid."""
        grid = inference.run(self.encoder, self._as_batch(x), batch_size)
        return grid if tokens else grid.mean(axis=1)

    def decode(self, tokens, batch_size=None):
        """Images from token grids ``(n, patches, embed_dim)`` (``encode(x, tokens=True)``)."""
        tokens = np.asarray(tokens)
        if tokens.ndim == 2 and tokens.shape[-1] == self.embed_dim:
            raise ValueError(f"{self.name}: decode takes token grids (n, {self.num_patches}, {self.embed_dim}) "
                             "from encode(x, tokens=True), not the pooled features of encode(x)")
        return inference.run(self.decoder, self._as_batch(tokens, "z", self.token_shape), batch_size)

    def reconstruct(self, x, batch_size=None, mask_ratio=None, seed=0):
        """The image decoded from its unmasked encoding; with ``mask_ratio`` MAE's own task:
        ``(prediction, hidden)`` where ``hidden`` ``(n, H, W)`` is 1 on patches the encoder
        did not see (drawn with ``seed``)."""
        x = self._as_batch(x)
        if mask_ratio is None:
            chain = _CHAINS.get(self)
            if chain is None:
                inputs = keras.Input(self.data_shape)
                chain = _CHAINS[self] = keras.Model(inputs, self.decoder(self.encoder(inputs)))
            return inference.run(chain, x, batch_size)
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f"{self.name}: mask_ratio must lie in (0, 1), the fraction of patches hidden; "
                             f"got {mask_ratio}")
        keep = keep_count(self.num_patches, mask_ratio)
        order = np.argsort(np.random.default_rng(seed).random((len(x), self.num_patches)), axis=1)
        step = batch_size or 256  # eager layer calls: chunks bound the memory of a large array
        parts = [self._fill_in(x[i:i + step], order[i:i + step], keep) for i in range(0, len(x), step)]
        prediction, mask = (np.concatenate(p) for p in zip(*parts))
        hidden = np.repeat(np.repeat(mask.reshape(len(x), self.data_shape[0] // self.patch_size, -1),
                                     self.patch_size, 1), self.patch_size, 2)
        return prediction, hidden

    def _fill_in(self, x, order, keep):
        """Prediction and patch mask for one chunk, keeping the patches ``order[:, :keep]``."""
        layer = self.get_layer
        tokens = layer("position")(layer("patch_embed")(layer("patchify")(ops.convert_to_tensor(x))))
        visible, ids_restore, mask = gather_visible(tokens, order, keep)
        h = self._blocks("encoder", self.depth, visible)
        restored = layer("restore_tokens")(layer("decoder_embed")(layer("encoder_norm")(h)), ids_restore)
        h = self._blocks("decoder", self.decoder_depth, layer("decoder_position")(restored))
        prediction = layer("unpatchify")(layer("decoder_predict")(layer("decoder_norm")(h)))
        return ops.convert_to_numpy(prediction), ops.convert_to_numpy(mask)

    def _blocks(self, prefix, depth, h):
        """The transformer blocks ``{prefix}_block_i``, called eagerly (the masked path of ``reconstruct``)."""
        for i in range(depth):
            name = f"{prefix}_block_{i}"
            block = {part: self._find(f"{name}_{part}") for part in ("norm1", "attention", "norm2", "mlp1", "mlp2")}
            h = apply_block(block, h)
        return h

    def _find(self, name):
        for model in (self, self.encoder, self.decoder):
            try:
                return model.get_layer(name)
            except ValueError:
                continue
        raise ValueError(f"{self.name}: no layer {name!r}")

    def interpolate(self, x_a, x_b, steps=8, method="linear"):
        """Decode the token grids on the path between those of ``x_a`` and ``x_b``."""
        single = np.asarray(x_a).shape == tuple(self.data_shape)
        t_a, t_b = self.encode(x_a, tokens=True), self.encode(x_b, tokens=True)
        flat = interpolate_codes(t_a.reshape(len(t_a), -1), t_b.reshape(len(t_b), -1), steps, method)
        out = self.decode(flat.reshape(-1, *self.token_shape)).reshape(flat.shape[:2] + tuple(self.data_shape))
        return out[0] if single else out
