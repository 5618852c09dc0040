"""The one API every aezoo autoencoder shares.

Each architecture is a *functional* ``keras.Model`` subclass (keras-hub's pattern):
its ``__init__`` builds ``encoder`` and ``decoder`` functional sub-models, wires
``inputs -> outputs`` and calls ``super().__init__(inputs=..., outputs=...)``; its
``get_config`` returns exactly the constructor arguments. This base class adds the
user-facing methods (``encode``, ``decode``, ``reconstruct``, ``interpolate``), input
checks with clear errors, default compilation, and ``fit(x)`` with the input as target.
"""

import weakref

import numpy as np
import keras

from aezoo.models import inference
from aezoo.models.losses import ReconstructionLoss

# encoder -> decoder chains built on first use, kept outside the model so they never
# become tracked sub-layers (the saved weights' layout stays the model's own)
_RECONSTRUCTORS = weakref.WeakKeyDictionary()


class Autoencoder(keras.Model):
    """Base class: a functional model whose output is the reconstruction of its input.

    Subclasses set ``self.encoder``, ``self.decoder``, ``self.latent_dim`` and
    ``self.data_shape`` and store every constructor argument as an attribute named
    in ``config_keys``.
    """

    #: names of constructor arguments returned by get_config (set by subclasses)
    config_keys = ()
    #: default reconstruction loss for compile() (a ReconstructionLoss kind)
    default_loss = "mse"
    #: True when the model only accepts data in [0, 1] (Bernoulli likelihoods)
    requires_unit_range = False
    #: what ``encode`` returns: "vector" (n, latent_dim), "grid" (VQ code grids), "tokens",
    #: or "spatial" (latent-diffusion latents (n, H/f, W/f, C) for any H, W): figures and
    #: tools ask this declaration instead of counting dimensions
    latent_kind = "vector"
    #: True for learned codecs: an entropy model prices the code (``bits_per_pixel``), so
    #: evaluation reports a rate and skips the PCA baseline (a code size is no rate)
    is_codec = False

    def __init__(self, *args, reconstruction_loss=None, **kwargs):
        """``reconstruction_loss`` overrides ``default_loss`` ("mse" or "bce"); it is part of
        the config so a loaded preset fine-tunes with the loss it was trained with."""
        super().__init__(*args, **kwargs)
        if reconstruction_loss is not None:
            if not self.default_loss:
                raise ValueError(f"{self.name}: reconstruction_loss applies to deterministic autoencoders; "
                                 "a VAE's likelihood is set by its 'likelihood' argument")
            if reconstruction_loss not in ("mse", "bce"):
                raise ValueError(f"{self.name}: reconstruction_loss must be 'mse' or 'bce', "
                                 f"got {reconstruction_loss!r}")
        self.reconstruction_loss = reconstruction_loss

    # ------------------------------------------------------------------ presets
    @classmethod
    def from_preset(cls, preset, **kwargs):
        """Load a pretrained preset as this class, in keras-hub's manner.

        ``aezoo.ConvVAE.from_preset("conv-vae-faces")`` is ``aezoo.load("conv-vae-faces")``
        plus a check that the preset is a ``cls``; ``preset`` is a name, ``hf://`` handle
        or folder, and ``kwargs`` go to ``aezoo.load`` (``compile``, ``revision``, ...).
        """
        from aezoo.presets import load  # presets build on models; imported at call time

        model = load(preset, **kwargs)
        if not isinstance(model, cls):
            raise ValueError(f"preset {preset!r} is a {type(model).__name__}, not a {cls.__name__}: use "
                             f"aezoo.{type(model).__name__}.from_preset({preset!r}) or aezoo.load({preset!r})")
        return model

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for key in self.config_keys:
            # keras.Model.input_shape includes the batch axis; ours is data_shape
            value = getattr(self, "data_shape" if key == "input_shape" else key)
            config[key] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("input_shape", "hidden_units", "filters"):
            if isinstance(config.get(key), list):
                config[key] = tuple(config[key])
        return cls(**config)

    # ----------------------------------------------------------------- compile
    def compile(self, optimizer="adam", loss="auto", **kwargs):
        """Compile with sensible defaults: Adam(1e-3) and the family's reconstruction loss.

        ``loss="auto"`` picks the architecture's own loss; VAEs carry their whole
        objective (likelihood + KL) in the graph, so they need none.
        """
        if optimizer == "adam":
            optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        if loss == "auto":
            kind = getattr(self, "reconstruction_loss", None) or self.default_loss
            loss = ReconstructionLoss(kind) if kind else None
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def get_compile_config(self):
        return super().get_compile_config()

    def compile_from_config(self, config):
        """Restore the compiled state saved in a ``.keras`` file (optimizer, loss)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    # ------------------------------------------------- target defaults to input
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Reconstruction target is the (clean) input unless a target is given."""
        if y is None:
            y = x
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if y is None:
            y = x
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def fit(self, x=None, y=None, *args, **kwargs):
        """``fit(x)`` trains the model to reconstruct ``x``; arrays are checked first."""
        self._check_data(x, "x")
        if y is not None:
            self._check_data(y, "y")
        if not self.compiled:
            self.compile()
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check_data(x, "x")
        if not self.compiled:
            self.compile()
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_data(x, "x")
        return super().predict(x, *args, **kwargs)

    # ------------------------------------------------------------ input checks
    def _check_data(self, x, what):
        """Clear errors for wrong shape, dtype, NaN, range or an empty batch, before Keras sees it."""
        if x is None or not isinstance(x, (np.ndarray, list)):
            return  # tf.data, generators, tensors: Keras validates structure itself
        x = np.asarray(x)
        self._check_array(x, what, self.data_shape)

    def _check_array(self, x, what, expected_shape, data=True):
        expected = "(batch, " + ", ".join("any" if d is None else str(d) for d in expected_shape) + ")"
        if x.dtype.kind not in "f":
            if not data:  # latent codes: any real numbers, no images
                raise ValueError(f"{self.name}: {what} must be a float array of shape {expected} "
                                 f"(latent codes), got dtype {x.dtype}")
            hint = ""
            if x.dtype.kind in "ui":
                hint = " (images as uint8? divide by 255.0)"
            elif x.dtype.kind in "US":
                hint = (" (a folder of images? use aezoo.uses.latent.extract_features(model, folder) "
                        "or `aezoo encode PRESET FOLDER`)")
            raise ValueError(
                f"{self.name}: {what} must be a float array of shape {expected} with values in "
                f"[0, 1], got dtype {x.dtype}{hint}"
            )
        if x.ndim != len(expected_shape) + 1 or not shape_matches(x.shape[1:], expected_shape):
            raise ValueError(
                f"{self.name}: {what} must have shape {expected}, got {tuple(x.shape)}"
                + (" (a single example? add a batch axis: x[None])" if tuple(x.shape) == tuple(expected_shape) else "")
            )
        if x.shape[0] == 0:
            raise ValueError(f"{self.name}: {what} is an empty batch, shape {tuple(x.shape)}: "
                             "pass at least one example")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{self.name}: {what} contains NaN or infinite values")
        if data and self.requires_unit_range and x.size and (x.min() < 0 or x.max() > 1):
            raise ValueError(
                f"{self.name}: {what} must lie in [0, 1] for a Bernoulli likelihood, "
                f"got range [{x.min():.3g}, {x.max():.3g}]"
            )

    def _as_batch(self, x, what="x", expected_shape=None):
        expected_shape = tuple(self.data_shape if expected_shape is None else expected_shape)
        x = np.asarray(x)
        if x.dtype.kind == "f":
            x = x.astype("float32", copy=False)
        if x.ndim == len(expected_shape) and shape_matches(x.shape, expected_shape):
            x = x[None]
        self._check_array(x, what, expected_shape, data=what != "z")
        return x

    # ------------------------------------------------------------- public API
    def encode(self, x, batch_size=None):
        """Latent codes of ``x`` (numpy, shape ``(batch, latent_dim)``)."""
        x = self._as_batch(x)
        return self._code(inference.run(self.encoder, x, batch_size))

    def decode(self, z, batch_size=None):
        """Data-space outputs for latent codes ``z`` (numpy)."""
        z = self._as_batch(z, "z", (self.latent_dim,))
        return self._to_data_space(inference.run(self.decoder, z, batch_size))

    def reconstruct(self, x, batch_size=None):
        """Encode then decode ``x`` (the code's mean for VAEs): the model's reconstruction (numpy)."""
        x = self._as_batch(x)
        chain = _RECONSTRUCTORS.get(self)
        if chain is None:
            inputs = keras.Input(self.data_shape)
            chain = _RECONSTRUCTORS[self] = keras.Model(inputs, self.decoder(self._code(self.encoder(inputs))))
        return self._to_data_space(inference.run(chain, x, batch_size))

    def code_shape(self, data_shape):
        """The shape of one example's code for an input of ``data_shape`` (a vector here;
        grids for VQ-VAEs and the latent-diffusion family)."""
        return (self.latent_dim,)

    def _code(self, encoder_outputs):
        """The deterministic code among the encoder's outputs (VAEs: the mean)."""
        return encoder_outputs

    def interpolate(self, x_a, x_b, steps=8, method="linear"):
        """Decode ``steps`` codes on the path between the codes of ``x_a`` and ``x_b``.

        ``x_a``/``x_b`` are single examples or equal-size batches; the result has shape
        ``(steps, *input_shape)`` or ``(batch, steps, *input_shape)``. ``method`` is
        ``"linear"`` or ``"slerp"`` (spherical, suited to Gaussian latents).
        """
        single = np.asarray(x_a).ndim == len(self.data_shape)
        z_a, z_b = self.encode(x_a), self.encode(x_b)
        if z_a.shape != z_b.shape:
            raise ValueError(f"x_a and x_b must have the same shape, got codes {z_a.shape} and {z_b.shape}")
        n, code_shape = len(z_a), z_a.shape[1:]  # a vector, or a grid for spatial latents
        path = interpolate_codes(z_a.reshape(n, -1), z_b.reshape(n, -1), steps, method)  # (batch, steps, size)
        out = self.decode(path.reshape(-1, *code_shape))
        out = out.reshape(n, steps, *out.shape[1:])
        return out[0] if single else out

    def _to_data_space(self, decoded):
        return decoded


def shape_matches(shape, expected):
    """True when ``shape`` equals ``expected``, where a ``None`` in ``expected`` matches any size
    (fully convolutional models take any height and width)."""
    shape, expected = tuple(shape), tuple(expected)
    return len(shape) == len(expected) and all(e is None or int(s) == int(e) for s, e in zip(shape, expected))


def interpolate_codes(z_a, z_b, steps, method="linear"):
    """Codes along the line (or great circle, ``"slerp"``) from z_a to z_b, endpoints included."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    if method not in ("linear", "slerp"):
        raise ValueError(f"method must be 'linear' or 'slerp', got {method!r}")
    t = np.linspace(0.0, 1.0, steps, dtype="float32")[None, :, None]
    a, b = z_a[:, None, :], z_b[:, None, :]
    if method == "linear":
        return (1 - t) * a + t * b
    na = np.linalg.norm(z_a, axis=-1, keepdims=True)
    nb = np.linalg.norm(z_b, axis=-1, keepdims=True)
    cos = np.sum(z_a * z_b, axis=-1, keepdims=True) / np.maximum(na * nb, 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))[:, None, :]
    so = np.sin(omega)
    linear = (1 - t) * a + t * b
    with np.errstate(invalid="ignore", divide="ignore"):
        slerp = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / so
    return np.where(so > 1e-6, slerp, linear).astype("float32")


def check_latent_size(name, input_shape, latent_dim, regularised):
    """Refuse an unregularised overcomplete code: it can learn the identity map."""
    input_size = int(np.prod(input_shape))
    if latent_dim <= 0:
        raise ValueError(f"{name}: latent_dim must be a positive integer, got {latent_dim}")
    if latent_dim >= input_size and not regularised:
        raise ValueError(
            f"{name}: latent_dim={latent_dim} >= input size {input_size} makes an overcomplete "
            "autoencoder, which without a regulariser can learn the identity map and nothing "
            "useful. Use 'sparse-ae', 'denoising-ae' or 'contractive-ae' for overcomplete codes, "
            f"or a latent_dim below {input_size}."
        )


def check_input_shape(name, input_shape, min_rank=1):
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: input_shape must be a tuple of positive ints, got {input_shape!r}") from None
    if len(shape) < min_rank or any(d <= 0 for d in shape):
        expected = "(height, width, channels)" if min_rank == 3 else f"a tuple of {min_rank}+ positive ints"
        raise ValueError(f"{name}: input_shape must be {expected}, without the batch axis; got {input_shape!r}")
    return shape
