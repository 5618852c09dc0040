"""``vq-vae``: the vector-quantised autoencoder (van den Oord, Vinyals & Kavukcuoglu, 2017).

A convolutional encoder maps an image to a grid of ``latent_dim``-dimensional vectors
z_e; each vector is replaced by its nearest row of a codebook of ``num_embeddings``
embeddings, and the decoder sees only those codebook rows, z_q. The image is thus
described by an integer grid of code indices (``encode(x, indices=True)``).

Training objective (``fit(x)``): the reconstruction loss of ``compile()`` (per-pixel MSE
by default) plus, added by the quantiser layer (``model.losses``),

    ||sg[z_e] - z_q||^2  +  commitment_cost * ||z_e - sg[z_q]||^2

(means over every latent element; sg = stop-gradient). The first term moves the codes
towards the encoder outputs, the second keeps the encoder near its codes. Nearest-code
lookup has no gradient, so the decoder's gradient is copied straight through to the
encoder (sg[z_q] + z_e - sg[z_e]: forward value exactly z_q, gradient identity to z_e).

EMA updates and dead-code restarts: ``aezoo.models.quantizer``.

Codebook use is reported: ``fit``/``evaluate`` log ``codebook_usage`` (fraction of the
codes used by a batch) and ``perplexity`` (exp of the entropy of a batch's code
histogram: ``num_embeddings`` for uniform use, 1 when one code takes everything), each
averaged over the batches; batch values are capped by the vectors in a batch.
``codebook_stats(x)`` gives both over a whole data set.

Codes are a grid, ``(n, *latent_shape)`` with ``latent_shape = (H', W', latent_dim)``,
not the ``(n, latent_dim)`` vectors of the other families: flatten them
(``z.reshape(len(z), -1)``) for tools that expect one vector per example.

No prior over the code grid is trained here, so the model has no ``sample`` method;
sampling needs an autoregressive prior over the indices (e.g. a PixelCNN, as in the
paper and keras.io's example), which is future work.
"""

import weakref

import numpy as np
import keras
from keras import ops

from aezoo.models import inference
from aezoo.models.base import Autoencoder, check_input_shape, interpolate_codes
from aezoo.models.blocks import check_conv_shape, residual_block
from aezoo.models.quantizer import VectorQuantizer, codebook_usage_and_perplexity, nearest_code  # noqa: F401
from aezoo.models.registry import register_architecture

# helper graphs (x -> [z_q, indices], x -> reconstruction), built on first use and kept
# outside the model so they never become tracked sub-layers
_CHAINS = weakref.WeakKeyDictionary()

@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("vq-vae")
class VQVAE(Autoencoder):
    """A convolutional autoencoder with a discrete, vector-quantised latent grid.

    The encoder halves height and width at each of ``filters``' stages and projects to
    ``latent_dim`` channels: a ``(H / 2**s, W / 2**s, latent_dim)`` grid (``latent_shape``),
    each vector snapped to one of ``num_embeddings`` codes. ``encode(x)`` returns that
    quantised grid, ``encode(x, indices=True)`` the int32 index grid ``(n, H', W')``;
    ``decode`` takes either. There is no ``sample``: no prior over codes is trained
    (module docstring).

    Args:
        input_shape: ``(height, width, channels)``, height and width divisible by
            ``2**len(filters)``.
        latent_dim: D, the size of each code vector.
        num_embeddings: K, the codebook size.
        filters: channels of each stride-2 stage (the decoder mirrors them).
        residual_blocks: residual blocks after each encoder stage and before each
            decoder stage (0: plain stride-2 stacks).
        activation: activation of the hidden layers.
        output_activation: ``"sigmoid"`` for images in [0, 1].
        commitment_cost: beta, the commitment loss weight (0.25 in the paper).
        ema: update the codebook by moving averages (decay ``ema_decay``) instead of
            the codebook loss.
        ema_decay: decay of the moving averages.
        restart_after: re-initialise a code unused for this many training steps from a
            random encoder output of the current batch (0: never).
        seed: seed of the codebook initialisation and of the restart draws.
        reconstruction_loss: ``"bce"`` (default) or ``"mse"``; ``compile()`` uses it. With a
            sigmoid output, MSE drove every output to 0 within 30 steps on MNIST (mostly
            black images; measured, Adam at 1e-3 and 3e-4) and never recovered: the
            sigmoid saturates and its gradient vanishes. Cross-entropy does not; with
            ``"mse"`` use ``output_activation="linear"`` (keras.io's choice).

    Example:
        >>> vq = aezoo.build("vq-vae", input_shape=(28, 28, 1), latent_dim=16, num_embeddings=256,
        ...                  filters=(32, 64), ema=True)
        >>> vq.fit(x_train, epochs=10)            # logs loss, codebook_usage, perplexity
        >>> grid = vq.encode(x_test[:8], indices=True)   # (8, 7, 7) int32
        >>> x_hat = vq.decode(grid)
    """

    default_loss = "bce"  # see reconstruction_loss in the class docstring
    latent_kind = "grid"  # a (H', W', latent_dim) grid of codebook vectors
    config_keys = ("input_shape", "latent_dim", "num_embeddings", "filters", "residual_blocks", "activation",
                   "output_activation", "commitment_cost", "ema", "ema_decay", "restart_after", "seed",
                   "reconstruction_loss")

    def __init__(self, input_shape, latent_dim=16, num_embeddings=256, filters=(32, 64), residual_blocks=0,
                 activation="relu", output_activation="sigmoid", commitment_cost=0.25, ema=False, ema_decay=0.99,
                 restart_after=100, seed=None, **kwargs):
        name = kwargs.pop("name", "vq_vae")
        arch = self.architecture
        input_shape = check_input_shape(arch, input_shape, min_rank=3)
        filters = tuple(int(f) for f in filters)
        if not filters:
            raise ValueError(f"{arch}: filters needs at least one stride-2 stage, got {filters}")
        check_conv_shape(arch, input_shape, filters)
        for what, value, low in (("latent_dim", latent_dim, 1), ("num_embeddings", num_embeddings, 2),
                                 ("restart_after", restart_after, 0), ("residual_blocks", residual_blocks, 0)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"{arch}: {what} must be an integer >= {low}, got {value!r}")
        if commitment_cost < 0:
            raise ValueError(f"{arch}: commitment_cost must be >= 0, got {commitment_cost}")
        if not 0.0 < ema_decay < 1.0:
            raise ValueError(f"{arch}: ema_decay must lie in (0, 1), got {ema_decay}")
        factor = 2 ** len(filters)
        grid = (input_shape[0] // factor, input_shape[1] // factor)

        # === Layers ===
        x_in = keras.Input(input_shape, name="x")
        h = x_in
        for i, f in enumerate(filters):
            h = keras.layers.Conv2D(f, 3, strides=2, padding="same", activation=activation, name=f"encoder_conv_{i}")(h)
            for j in range(residual_blocks):
                h = residual_block(h, activation, name=f"encoder_res_{i}_{j}")
        z_e = keras.layers.Conv2D(latent_dim, 1, name="encoder_pre_quantization")(h)
        encoder = keras.Model(x_in, z_e, name="encoder")

        z_in = keras.Input((*grid, latent_dim), name="z")
        h = keras.layers.Conv2D(filters[-1], 3, padding="same", activation=activation,
                                name="decoder_post_quantization")(z_in)
        for i, f in enumerate(reversed(filters)):
            for j in range(residual_blocks):
                h = residual_block(h, activation, name=f"decoder_res_{i}_{j}")
            h = keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=activation,
                                             name=f"decoder_deconv_{i}")(h)
        out = keras.layers.Conv2D(input_shape[-1], 3, padding="same", activation=output_activation,
                                  name="decoder_output")(h)
        decoder = keras.Model(z_in, out, name="decoder")
        quantizer = VectorQuantizer(num_embeddings, latent_dim, commitment_cost, ema, ema_decay, restart_after,
                                    seed, name="vector_quantizer")

        # === Functional model ===
        inputs = keras.Input(input_shape, name="inputs")
        outputs = decoder(quantizer(encoder(inputs))[0])
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder, self.quantizer = encoder, decoder, quantizer
        self.data_shape, self.latent_dim, self.num_embeddings = input_shape, int(latent_dim), int(num_embeddings)
        self.latent_shape = (*grid, int(latent_dim))
        self.filters, self.residual_blocks = filters, int(residual_blocks)
        self.activation, self.output_activation = activation, output_activation
        self.commitment_cost, self.ema, self.ema_decay = float(commitment_cost), bool(ema), float(ema_decay)
        self.restart_after, self.seed = int(restart_after), seed
        self.usage_tracker = keras.metrics.Mean(name="codebook_usage")
        self.perplexity_tracker = keras.metrics.Mean(name="perplexity")

    # ------------------------------------------------------------ metrics
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The reconstruction loss plus the quantiser's losses; also logs the batch's code use.

        The histogram is read from the quantiser's state, written by the forward pass of
        this very batch (every trainer maps the updated state here, JAX's included).
        """
        loss = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        usage, perplexity = codebook_usage_and_perplexity(self.quantizer.last_counts)
        self.usage_tracker.update_state(usage)
        self.perplexity_tracker.update_state(perplexity)
        return loss

    @property
    def codebook(self):
        """The codes in use, ``(num_embeddings, latent_dim)`` numpy."""
        return ops.convert_to_numpy(self.quantizer.embeddings)

    def codebook_stats(self, x, batch_size=256):
        """Code use over all of ``x``: ``{"usage", "perplexity", "counts"}``.

        ``usage`` is the fraction of the codes that at least one latent vector of ``x``
        is assigned to, ``perplexity`` exp(entropy) of the code histogram ``counts``.
        """
        indices = self.encode(x, indices=True, batch_size=batch_size)
        counts = np.bincount(indices.ravel(), minlength=self.num_embeddings).astype("float32")
        usage, perplexity = codebook_usage_and_perplexity(counts)
        return {"usage": float(ops.convert_to_numpy(usage)), "perplexity": float(ops.convert_to_numpy(perplexity)),
                "counts": counts.astype("int64")}

    # --------------------------------------------------------------- API
    def _chains(self):
        chains = _CHAINS.get(self)
        if chains is None:
            inputs = keras.Input(self.data_shape)
            quantised, indices = self.quantizer(self.encoder(inputs))
            chains = _CHAINS[self] = {
                "encode": keras.Model(inputs, [quantised, indices]),
                "reconstruct": keras.Model(inputs, self.decoder(quantised)),
            }
        return chains

    def encode(self, x, indices=False, batch_size=256):
        """Quantised latents ``(n, *latent_shape)`` float32, or with ``indices=True`` the
        code index grid ``(n, H', W')`` int32 (numpy)."""
        quantised, codes = inference.run(self._chains()["encode"], self._as_batch(x), batch_size)
        return codes.astype("int32", copy=False) if indices else quantised

    def code_shape(self, data_shape):
        return tuple(self.latent_shape)

    def decode(self, z, batch_size=256):
        """Images for a grid of latents ``(n, *latent_shape)`` (float) or of code indices
        ``(n, H', W')`` (integers in ``[0, num_embeddings)``); a single grid may drop the
        batch axis. Float latents are decoded as given (not snapped to codes)."""
        z = np.asarray(z)
        grid = tuple(self.latent_shape[:2])
        if z.dtype.kind in "iu":
            if z.shape == grid:
                z = z[None]
            if z.ndim != 3 or tuple(z.shape[1:]) != grid:
                raise ValueError(f"{self.name}: code indices must have shape (batch, {grid[0]}, {grid[1]}), "
                                 f"got {z.shape}")
            if z.size == 0:
                raise ValueError(f"{self.name}: z is an empty batch, shape {z.shape}: pass at least one grid")
            if z.min() < 0 or z.max() >= self.num_embeddings:
                raise ValueError(f"{self.name}: code indices must lie in [0, {self.num_embeddings}), "
                                 f"got range [{z.min()}, {z.max()}]")
            z = self.codebook[z]
        z = self._as_batch(z, "z", self.latent_shape)
        return inference.run(self.decoder, z, batch_size)

    def reconstruct(self, x, batch_size=256):
        """Encode, quantise and decode ``x`` (numpy)."""
        return inference.run(self._chains()["reconstruct"], self._as_batch(x), batch_size)

    def interpolate(self, x_a, x_b, steps=8, method="linear"):
        """Decode ``steps`` latent grids on the path between the quantised grids of ``x_a``
        and ``x_b`` (the grids in between are decoded as given, not snapped to codes)."""
        single = np.asarray(x_a).shape == tuple(self.data_shape)
        z_a, z_b = self.encode(x_a), self.encode(x_b)
        if z_a.shape != z_b.shape:
            raise ValueError(f"x_a and x_b must have the same batch size, got {z_a.shape[0]} and {z_b.shape[0]}")
        n = len(z_a)
        path = interpolate_codes(z_a.reshape(n, -1), z_b.reshape(n, -1), steps, method)
        out = self.decode(path.reshape((-1, *self.latent_shape))).reshape(path.shape[:2] + tuple(self.data_shape))
        return out[0] if single else out
