"""Building blocks of the sequence autoencoders (``aezoo.models.sequence``), ``keras.ops`` only.

The padding rule (a step is padding when every channel equals ``mask_value``) applied to
the loss (``MaskedReconstructionLoss``) and to outputs (``RestorePadding``), and the
teacher-forced recurrent decoder: ``DecoderSteps`` lays out each step's inputs and
``FeedbackCell`` runs the stacked cells, reading the true or its own previous step.
"""

import keras
from keras import ops

from aezoo.models.losses import ReconstructionLoss

RNN_CELLS = {"lstm": (keras.layers.LSTM, keras.layers.LSTMCell, 2), "gru": (keras.layers.GRU, keras.layers.GRUCell, 1)}


@keras.saving.register_keras_serializable(package="aezoo")
class MaskedReconstructionLoss(ReconstructionLoss):
    """Per-example ``"mse"`` or ``"bce"`` over the real steps of ``y_true`` only (padding: module docstring)."""

    KINDS = ("mse", "bce")

    def __init__(self, kind="mse", mask_value=0.0, name="masked_reconstruction_loss", **kwargs):
        kwargs.pop("sigma", None)
        super().__init__(kind=kind, name=name, **kwargs)
        self.mask_value = float(mask_value)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        real = ops.cast(ops.any(ops.not_equal(y_true, self.mask_value), axis=-1), y_pred.dtype)  # (n, T)
        if self.kind == "mse":
            per_step = ops.mean(ops.square(y_true - y_pred), axis=-1)
        else:
            p = ops.clip(y_pred, 1e-7, 1.0 - 1e-7)
            per_step = -ops.mean(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p), axis=-1)
        return ops.sum(per_step * real, axis=-1) / ops.maximum(ops.sum(real, axis=-1), 1.0)

    def get_config(self):
        config = super().get_config()
        config.pop("sigma", None)
        return {**config, "mask_value": self.mask_value}


@keras.saving.register_keras_serializable(package="aezoo")
class RestorePadding(keras.layers.Layer):
    """``outputs`` on the real steps of ``inputs``, ``mask_value`` on their padded steps."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def call(self, outputs, inputs):
        real = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return ops.where(real, outputs, ops.full_like(outputs, self.mask_value))

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


@keras.saving.register_keras_serializable(package="aezoo")
class DecoderSteps(keras.layers.Layer):
    """Per-step decoder inputs ``[code, previous true step, flag]`` for the teacher-forced decoder.

    With ``previous`` (the full model's input) and ``training=True`` the flag is 1 and the
    cell reads the true previous step (zeros before the first); otherwise the flag is 0
    and the cell feeds back its own previous output.
    """

    def __init__(self, timesteps, channels, **kwargs):
        super().__init__(**kwargs)
        self.timesteps, self.channels = int(timesteps), int(channels)

    def call(self, code, previous=None, training=False):
        batch = ops.shape(code)[0]
        repeated = ops.repeat(ops.expand_dims(code, 1), self.timesteps, axis=1)
        start = ops.zeros((batch, 1, self.channels), code.dtype)
        if previous is None or not training:
            previous = ops.zeros((batch, self.timesteps, self.channels), code.dtype)
            flag = ops.zeros((batch, self.timesteps, 1), code.dtype)
        else:
            previous = ops.concatenate([start, ops.cast(previous, code.dtype)[:, :-1]], axis=1)
            flag = ops.ones((batch, self.timesteps, 1), code.dtype)
        return ops.concatenate([repeated, previous, flag], axis=-1)

    def compute_output_shape(self, code_shape, previous_shape=None):
        return (code_shape[0], self.timesteps, code_shape[-1] + self.channels + 1)

    def get_config(self):
        return {**super().get_config(), "timesteps": self.timesteps, "channels": self.channels}


@keras.saving.register_keras_serializable(package="aezoo")
class FeedbackCell(keras.layers.Layer):
    """One decoder step: stacked RNN cells over ``[code, previous step]``, then a Dense to the channels.

    The previous step is the true one where the step input's flag is 1, else the cell's
    own previous output, carried as the last state.
    """

    def __init__(self, units, cell, channels, output_activation="linear", **kwargs):
        super().__init__(**kwargs)
        self.units, self.cell, self.channels = tuple(int(u) for u in units), cell, int(channels)
        self.output_activation = output_activation
        _, cell_class, self._counts = RNN_CELLS[cell]
        self.cells = [cell_class(u, name=f"{cell}_cell_{i}") for i, u in enumerate(self.units)]
        self.projection = keras.layers.Dense(self.channels, activation=output_activation, name="output")
        self.state_size = [u for u in self.units for _ in range(self._counts)] + [self.channels]
        self.output_size = self.channels

    def build(self, input_shape):
        self._code_size = input_shape[-1] - self.channels - 1
        size = input_shape[-1] - 1  # code + previous step
        for cell, units in zip(self.cells, self.units):
            cell.build((None, size))
            size = units
        self.projection.build((None, size))

    def call(self, inputs, states, training=False):
        code_size = self._code_size
        flag = inputs[:, -1:]
        previous = flag * inputs[:, code_size:-1] + (1.0 - flag) * states[-1]
        h = ops.concatenate([inputs[:, :code_size], previous], axis=-1)
        new_states = []
        for i, cell in enumerate(self.cells):
            own = list(states[i * self._counts:(i + 1) * self._counts])
            h, cell_states = cell(h, own, training=training)
            new_states += list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states]
        y = self.projection(h)
        return y, new_states + [y]

    def get_config(self):
        return {**super().get_config(), "units": list(self.units), "cell": self.cell, "channels": self.channels,
                "output_activation": self.output_activation}
