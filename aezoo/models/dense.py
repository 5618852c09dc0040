"""Fully connected autoencoders: ``linear-ae`` and ``dense-ae``.

Both flatten any input shape, so they work on images and on tabular vectors alike.
"""

import keras

from aezoo.models.base import Autoencoder, check_input_shape, check_latent_size
from aezoo.models.blocks import dense_decoder, dense_encoder_body
from aezoo.models.registry import register_architecture


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("dense-ae")
class DenseAutoencoder(Autoencoder):
    """A multilayer perceptron autoencoder (Hinton & Salakhutdinov, 2006).

    Args:
        input_shape: shape of one example, e.g. ``(28, 28, 1)`` or ``(64,)``.
        latent_dim: size of the code.
        hidden_units: encoder layer sizes; the decoder mirrors them.
        activation: activation of the hidden layers.
        code_activation: activation of the code layer (``"linear"`` by default).
        output_activation: ``"sigmoid"`` for data in [0, 1], ``"linear"`` otherwise.
        reconstruction_loss: ``"mse"`` (default) or ``"bce"`` (cross-entropy on sigmoid
            outputs, as Hinton & Salakhutdinov trained MNIST); ``compile()`` uses it.

    Example:
        >>> model = aezoo.build("dense-ae", input_shape=(28, 28, 1), latent_dim=30,
        ...                     hidden_units=(1000, 500, 250))
        >>> model.fit(x_train, epochs=10)
    """

    config_keys = ("input_shape", "latent_dim", "hidden_units", "activation", "code_activation", "output_activation",
                   "reconstruction_loss")
    regularised = False

    def __init__(
        self,
        input_shape,
        latent_dim=32,
        hidden_units=(256,),
        activation="relu",
        code_activation="linear",
        output_activation="sigmoid",
        **kwargs,
    ):
        name = kwargs.pop("name", self.architecture.replace("-", "_"))
        input_shape = check_input_shape(self.architecture, input_shape)
        hidden_units = tuple(int(u) for u in hidden_units)
        check_latent_size(self.architecture, input_shape, latent_dim, self.regularised)

        # === Layers ===
        x_in = keras.Input(input_shape, name="x")
        h, _ = dense_encoder_body(x_in, hidden_units, activation, prefix="encoder_")
        code = keras.layers.Dense(latent_dim, activation=code_activation, name="encoder_code")(h)
        encoder = keras.Model(x_in, code, name="encoder")
        decoder = dense_decoder(latent_dim, hidden_units, input_shape, activation, output_activation)

        # === Functional model ===
        inputs = keras.Input(input_shape, name="inputs")
        code = self._regularise_code(encoder(self._corrupt(inputs)))
        outputs = decoder(code)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        self.data_shape = input_shape
        self.latent_dim, self.hidden_units = int(latent_dim), hidden_units
        self.activation, self.code_activation = activation, code_activation
        self.output_activation = output_activation

    # hooks for the regularised variants (identity here)
    def _corrupt(self, inputs):
        return inputs

    def _regularise_code(self, code):
        return code


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("linear-ae")
class LinearAutoencoder(DenseAutoencoder):
    """One linear encoder layer and one linear decoder layer: the PCA-equivalent.

    Trained with MSE it reaches the reconstruction error of PCA with the same number of
    components (Baldi & Hornik, 1989); its code spans the principal subspace, though
    not necessarily with orthogonal axes.

    Example:
        >>> model = aezoo.build("linear-ae", input_shape=(64,), latent_dim=8)
    """

    config_keys = ("input_shape", "latent_dim")

    def __init__(self, input_shape, latent_dim=32, **kwargs):
        for fixed in ("hidden_units", "activation", "code_activation", "output_activation"):
            kwargs.pop(fixed, None)
        super().__init__(
            input_shape, latent_dim, hidden_units=(), activation="linear",
            code_activation="linear", output_activation="linear", **kwargs,
        )
