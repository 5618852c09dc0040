"""Sequence autoencoders: ``lstm-ae`` (recurrent, sequence to sequence) and ``conv1d-ae``.

Both take ``(timesteps, channels)`` examples of any real values, in their own units.
With ``standardize=True`` (the default) the model holds per-channel mean and standard
deviation of its training data (``aezoo.models.scaling``): the encoder standardises its
input, the decoder writes raw values back, the loss is taken in standardised units (so
every channel counts alike), and a preset is used on raw series. ``fit`` fits the
statistics on its first array when they are not set; ``adapt_scaling(x)`` sets them
explicitly (needed before ``fit`` on a ``tf.data.Dataset``).

Padding (``lstm-ae`` with ``masking=True``): a step is padding when *every* channel
equals ``mask_value`` (0.0 by default), the rule of ``keras.layers.Masking``;
``aezoo.data.series.pad_sequences`` pads at the end with 0.0. Padded steps are skipped
by the encoder (its code is that of the real steps alone), left out of the loss (the
per-example loss is the mean over real steps only), and set to ``mask_value`` in
``predict``/``reconstruct`` outputs, so a plain squared error against the input is zero
there. If real data can have a step of all zeros, pad with another value
(``pad_sequences(..., value=-99.0)``) and pass it as ``mask_value``.
"""

import warnings

import numpy as np
import keras
from keras import ops

from aezoo.models.base import Autoencoder, check_latent_size
from aezoo.models.registry import register_architecture
from aezoo.models.scaling import Standardize, fit_scaling
from aezoo.models.sequence_layers import (RNN_CELLS, DecoderSteps, FeedbackCell,  # noqa: F401  (public here too)
                                          MaskedReconstructionLoss, RestorePadding)


def real_steps(x, mask_value=0.0):
    """``(n, T)`` boolean (numpy): True on real steps, False where every channel equals ``mask_value``."""
    return np.any(np.asarray(x) != mask_value, axis=-1)


def check_sequence_shape(name, input_shape):
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        shape = None
    if shape is None or len(shape) != 2 or any(d <= 0 for d in shape):
        hint = " (a univariate series of T steps is (T, 1))" if shape is not None and len(shape) == 1 else ""
        raise ValueError(f"{name}: input_shape must be (timesteps, channels), without the batch axis; "
                         f"got {input_shape!r}{hint}")
    return shape


def check_conv1d_steps(name, steps, filters):
    """Each stride-2 stage halves the steps, so they must divide by 2**len(filters)."""
    if not filters:
        raise ValueError(f"{name}: filters needs at least one stride-2 stage, got {tuple(filters)}")
    factor = 2 ** len(filters)
    if steps % factor:
        lower, upper = (steps // factor) * factor, (steps // factor + 1) * factor
        near = f"{lower} or {upper}" if lower else f"{upper}"
        raise ValueError(f"{name}: timesteps {steps} is not divisible by 2**{len(filters)}={factor} "
                         f"({len(filters)} stride-2 stages); cut windows or pad series to {near} steps, "
                         "or use fewer filters stages")



class SequenceAutoencoder(Autoencoder):
    """What the sequence families share: checks of ``(timesteps, channels)`` inputs, the
    stored scaling, and errors measured over real steps in standardised units."""

    requires_unit_range = False
    masking, mask_value, standardize = False, 0.0, False

    # ------------------------------------------------------------- scaling
    @staticmethod
    def _scaling_layers(channels):
        """The encoder's ``Standardize`` and the decoder's inverse (identity until fitted)."""
        return (Standardize(channels, name="encoder_standardize"),
                Standardize(channels, invert=True, name="decoder_unstandardize"))

    @property
    def _scalers(self):
        return self.encoder.get_layer("encoder_standardize"), self.decoder.get_layer("decoder_unstandardize")

    @property
    def scaling(self):
        """``{"mean": [...], "std": [...], "count": n}`` per channel, or None (no scaling)."""
        if not self.standardize:
            return None
        layer = self._scalers[0]
        return {"mean": ops.convert_to_numpy(layer.mean).tolist(), "std": ops.convert_to_numpy(layer.std).tolist(),
                "count": int(ops.convert_to_numpy(layer.count))}

    def adapt_scaling(self, x):
        """Fit the per-channel mean and std on ``x`` (raw training series; padded steps left out)."""
        if not self.standardize:
            raise ValueError(f"{self.name} was built with standardize=False: it has no scaling to fit")
        x = self._as_batch(x)
        mask = real_steps(x, self.mask_value) if self.masking else None
        mean, std, count = fit_scaling(x, mask)
        for layer in self._scalers:
            layer.set_statistics(mean, std, count)
        return self

    def fit(self, x=None, y=None, *args, **kwargs):
        """As ``Autoencoder.fit``; an unscaled model first fits its scaling on ``x``."""
        if self.standardize and not self._scalers[0].fitted:
            if isinstance(x, (np.ndarray, list)):
                self.adapt_scaling(np.asarray(x))
            else:
                warnings.warn(f"{self.name}: standardize=True but the scaling was never fitted; call "
                              "model.adapt_scaling(x_train) before fit() on a dataset, or the model trains "
                              "on unscaled values", stacklevel=2)
        return super().fit(x, y, *args, **kwargs)

    def _standardized(self, t, real):
        layer = self._scalers[0]
        scaled = (t - ops.cast(layer.mean, t.dtype)) / ops.cast(layer.std, t.dtype)
        return scaled if real is None else ops.where(real, scaled, ops.full_like(scaled, self.mask_value))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The loss in standardised units (padded steps kept at ``mask_value``)."""
        if y is None:
            y = x
        if self.standardize and y is not None and y_pred is not None:
            y = ops.cast(y, y_pred.dtype)
            real = ops.any(ops.not_equal(y, self.mask_value), axis=-1, keepdims=True) if self.masking else None
            y, y_pred = self._standardized(y, real), self._standardized(y_pred, real)
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)

    # --------------------------------------------------------------- errors
    def step_errors(self, x, batch_size=None):
        """``(n, T)`` squared reconstruction error per step, mean over channels, in
        standardised units; 0 on padded steps."""
        x = self._as_batch(x)
        errors = np.square(self.reconstruct(x, batch_size) - x)
        if self.standardize:
            errors = errors / np.square(np.asarray(self.scaling["std"], "float32"))
        errors = errors.mean(axis=-1)
        return np.where(real_steps(x, self.mask_value), errors, 0.0) if self.masking else errors

    def reconstruction_error(self, x, batch_size=None):
        """``(n,)`` mean squared error per example over its real steps, in standardised
        units: ``aezoo.uses.latent.anomaly_score`` of a sequence model."""
        x = self._as_batch(x)
        errors = self.step_errors(x, batch_size)
        steps = real_steps(x, self.mask_value).sum(axis=1) if self.masking else np.full(len(x), x.shape[1])
        return errors.sum(axis=1) / np.maximum(steps, 1)

    def _check_array(self, x, what, expected_shape, data=True):
        if data:  # sequence-specific wording before the base checks (which assume images)
            steps, channels = self.data_shape
            expected = f"(batch, {steps}, {channels})"
            if x.dtype.kind != "f":
                cast = " (cast with x.astype('float32'))" if x.dtype.kind in "uib" else ""
                raise ValueError(f"{self.name}: {what} must be a float array of shape {expected} (series of any "
                                 f"real values, scaled as for training), got dtype {x.dtype}{cast}")
            if x.ndim == 2 and channels == 1 and x.shape[1] == steps:
                raise ValueError(f"{self.name}: {what} must have shape {expected}, got {tuple(x.shape)} "
                                 "(univariate series? add a channel axis: x[..., None])")
            if x.ndim == 3 and x.shape[2] == channels and x.shape[1] != steps:
                raise ValueError(f"{self.name}: {what} has {x.shape[1]} steps, the model takes {steps}: cut "
                                 f"windows of {steps} steps (aezoo.data.series.windows) or pad/crop to {steps}")
        super()._check_array(x, what, expected_shape, data)


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("lstm-ae")
class LSTMAutoencoder(SequenceAutoencoder):
    """Sequence-to-sequence recurrent autoencoder (Srivastava et al., 2015; Chollet's Keras blog).

    The encoder RNN reads the series and its last state is projected to a code of
    ``latent_dim``; the code is repeated at every step (``RepeatVector``) and a decoder RNN
    with a per-step Dense (``TimeDistributed``) writes the series back.

    Args:
        input_shape: ``(timesteps, channels)``.
        latent_dim: size of the code.
        units: sizes of the stacked encoder RNN layers; the decoder mirrors them.
        cell: ``"lstm"`` or ``"gru"``.
        masking: skip padded steps in the encoder, the loss and the outputs (padding:
            module docstring).
        mask_value: the value every channel of a padded step holds.
        teacher_forcing: in training the decoder also gets the previous *true* step
            (zeros before the first); in inference (``predict``, ``evaluate``, ``decode``,
            ``reconstruct``) it runs free, fed its own previous output. Faster to learn
            step-to-step dynamics, but the decoder may lean on the true step instead of
            the code: compare ``evaluate`` losses (free running) before choosing it.
            Uses a custom cell (no cuDNN kernel).
        standardize: hold per-channel scaling of the training data in the model, so it
            takes and returns raw values (module docstring).
        output_activation: ``"linear"`` for real-valued series.
        reconstruction_loss: ``"mse"`` (default) or ``"bce"``; ``compile()`` uses it,
            over the real steps only when ``masking``.

    Example:
        >>> model = aezoo.build("lstm-ae", input_shape=(140, 1), latent_dim=16, units=(64,))
        >>> model.fit(x_train, epochs=20)             # x_train: (n, 140, 1), standardised
        >>> errors = ((model.reconstruct(x) - x) ** 2).mean(axis=(1, 2))
    """

    config_keys = ("input_shape", "latent_dim", "units", "cell", "masking", "mask_value", "teacher_forcing",
                   "standardize", "output_activation", "reconstruction_loss")

    def __init__(self, input_shape, latent_dim=16, units=(64,), cell="lstm", masking=False, mask_value=0.0,
                 teacher_forcing=False, standardize=True, output_activation="linear", **kwargs):
        name = kwargs.pop("name", "lstm_ae")
        arch = self.architecture
        input_shape = check_sequence_shape(arch, input_shape)
        units = tuple(int(u) for u in units)
        if not units or any(u <= 0 for u in units):
            raise ValueError(f"{arch}: units needs at least one positive layer size, got {units}")
        if cell not in RNN_CELLS:
            raise ValueError(f"{arch}: cell must be 'lstm' or 'gru', got {cell!r}")
        check_latent_size(arch, input_shape, latent_dim, regularised=False)
        steps, channels = input_shape
        rnn_layer = RNN_CELLS[cell][0]

        scale, unscale = self._scaling_layers(channels) if standardize else (None, None)

        # === Layers ===
        x_in = keras.Input(input_shape, name="x")
        h = keras.layers.Masking(mask_value, name="encoder_masking")(x_in) if masking else x_in
        h = scale(h) if standardize else h
        for i, u in enumerate(units):
            h = rnn_layer(u, return_sequences=i < len(units) - 1, name=f"encoder_{cell}_{i}")(h)
        code = keras.layers.Dense(latent_dim, name="encoder_code")(h)
        encoder = keras.Model(x_in, code, name="encoder")

        z_in = keras.Input((latent_dim,), name="z")
        if teacher_forcing:
            steps_layer = DecoderSteps(steps, channels, name="decoder_steps")
            feedback = keras.layers.RNN(FeedbackCell(units[::-1], cell, channels, output_activation,
                                                     name="decoder_cell"),
                                        return_sequences=True, name=f"decoder_{cell}")
            out = feedback(steps_layer(z_in))
            decoder = keras.Model(z_in, unscale(out) if standardize else out, name="decoder")
        else:
            h = keras.layers.RepeatVector(steps, name="decoder_repeat")(z_in)
            for i, u in enumerate(units[::-1]):
                h = rnn_layer(u, return_sequences=True, name=f"decoder_{cell}_{i}")(h)
            out = keras.layers.TimeDistributed(keras.layers.Dense(channels, activation=output_activation),
                                               name="decoder_output")(h)
            decoder = keras.Model(z_in, unscale(out) if standardize else out, name="decoder")

        # === Functional model ===
        inputs = keras.Input(input_shape, name="inputs")
        code = encoder(inputs)
        if teacher_forcing:  # the same decoder layers, also fed the true series (used in training only)
            outputs = feedback(steps_layer(code, scale(inputs) if standardize else inputs))
            outputs = unscale(outputs) if standardize else outputs
        else:
            outputs = decoder(code)
        if masking:
            outputs = RestorePadding(mask_value, name="restore_padding")(outputs, inputs)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        self.data_shape, self.latent_dim, self.units, self.cell = input_shape, int(latent_dim), units, cell
        self.masking, self.mask_value = bool(masking), float(mask_value)
        self.teacher_forcing, self.output_activation = bool(teacher_forcing), output_activation
        self.standardize = bool(standardize)

    def compile(self, optimizer="adam", loss="auto", **kwargs):
        """As ``Autoencoder.compile``; with ``masking`` the default loss skips padded steps."""
        if isinstance(loss, str) and loss == "auto" and self.masking:
            loss = MaskedReconstructionLoss(self.reconstruction_loss or self.default_loss, self.mask_value)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def reconstruct(self, x, batch_size=None):
        """Encode then decode ``x``; with ``masking``, padded steps of ``x`` stay ``mask_value``."""
        out = super().reconstruct(x, batch_size)
        if self.masking:
            out = np.where(real_steps(self._as_batch(x), self.mask_value)[..., None], out,
                           np.float32(self.mask_value))
        return out


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("conv1d-ae")
class Conv1DAutoencoder(SequenceAutoencoder):
    """1-D convolutional autoencoder over fixed windows (keras.io, "Timeseries anomaly
    detection using an Autoencoder"), with a dense code between encoder and decoder.

    Stride-2 ``Conv1D`` stages halve the steps, a Dense layer makes the code of
    ``latent_dim``, and stride-2 ``Conv1DTranspose`` stages write the window back. The
    timesteps must divide by ``2**len(filters)``; other sizes get an error naming the
    nearest ones that work.

    Args:
        input_shape: ``(timesteps, channels)``.
        latent_dim: size of the code.
        filters: channels of each stride-2 stage (the decoder mirrors them).
        kernel_size: width of every convolution (7 in keras.io's example).
        dropout: dropout rate after each stage but the last, in encoder and decoder
            (keras.io uses 0.2).
        activation: activation of the hidden layers.
        standardize: hold per-channel scaling of the training data in the model, so it
            takes and returns raw values (module docstring).
        output_activation: ``"linear"`` for real-valued series.
        reconstruction_loss: ``"mse"`` (default) or ``"bce"``; ``compile()`` uses it.

    Example:
        >>> model = aezoo.build("conv1d-ae", input_shape=(288, 1), latent_dim=16, filters=(32, 16))
        >>> model.fit(windows_train, epochs=50)
    """

    config_keys = ("input_shape", "latent_dim", "filters", "kernel_size", "dropout", "activation",
                   "standardize", "output_activation", "reconstruction_loss")

    def __init__(self, input_shape, latent_dim=16, filters=(32, 16), kernel_size=7, dropout=0.0, activation="relu",
                 standardize=True, output_activation="linear", **kwargs):
        name = kwargs.pop("name", "conv1d_ae")
        arch = self.architecture
        input_shape = check_sequence_shape(arch, input_shape)
        filters = tuple(int(f) for f in filters)
        check_conv1d_steps(arch, input_shape[0], filters)
        check_latent_size(arch, input_shape, latent_dim, regularised=False)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{arch}: dropout must lie in [0, 1), got {dropout}")
        steps, channels = input_shape
        last = len(filters) - 1
        scale, unscale = self._scaling_layers(channels) if standardize else (None, None)

        # === Layers ===
        x_in = keras.Input(input_shape, name="x")
        h = scale(x_in) if standardize else x_in
        for i, f in enumerate(filters):
            h = keras.layers.Conv1D(f, kernel_size, strides=2, padding="same", activation=activation,
                                    name=f"encoder_conv_{i}")(h)
            if dropout and i < last:
                h = keras.layers.Dropout(dropout, name=f"encoder_dropout_{i}")(h)
        h = keras.layers.Flatten(name="encoder_flatten")(h)
        code = keras.layers.Dense(latent_dim, name="encoder_code")(h)
        encoder = keras.Model(x_in, code, name="encoder")

        z_in = keras.Input((latent_dim,), name="z")
        short = steps // 2 ** len(filters)
        h = keras.layers.Dense(short * filters[-1], activation=activation, name="decoder_project")(z_in)
        h = keras.layers.Reshape((short, filters[-1]), name="reshape")(h)
        for i, f in enumerate(filters[::-1]):
            h = keras.layers.Conv1DTranspose(f, kernel_size, strides=2, padding="same", activation=activation,
                                             name=f"decoder_deconv_{i}")(h)
            if dropout and i < last:
                h = keras.layers.Dropout(dropout, name=f"decoder_dropout_{i}")(h)
        out = keras.layers.Conv1DTranspose(channels, kernel_size, padding="same", activation=output_activation,
                                           name="decoder_output")(h)
        decoder = keras.Model(z_in, unscale(out) if standardize else out, name="decoder")

        # === Functional model ===
        inputs = keras.Input(input_shape, name="inputs")
        outputs = decoder(encoder(inputs))
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        self.data_shape, self.latent_dim, self.filters = input_shape, int(latent_dim), filters
        self.kernel_size, self.dropout = int(kernel_size), float(dropout)
        self.activation, self.output_activation = activation, output_activation
        self.standardize = bool(standardize)
