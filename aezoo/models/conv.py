"""Convolutional autoencoder: ``conv-ae``."""

import keras

from aezoo.models.base import Autoencoder, check_input_shape, check_latent_size
from aezoo.models.blocks import check_conv_shape, conv_decoder, conv_encoder_body
from aezoo.models.registry import register_architecture


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("conv-ae")
class ConvAutoencoder(Autoencoder):
    """Stride-2 convolutions down to a dense code, transposed convolutions back up.

    Works for any ``(H, W, C)`` whose height and width divide by ``2**len(filters)``;
    other sizes get an error naming the nearest sizes that work (resize or pad to them).

    Args:
        input_shape: ``(height, width, channels)``.
        latent_dim: size of the code.
        filters: channels of each stride-2 stage (the decoder mirrors them).
        activation: activation of the hidden layers.
        output_activation: ``"sigmoid"`` for images in [0, 1].
        reconstruction_loss: ``"mse"`` (default) or ``"bce"``; ``compile()`` uses it.

    Example:
        >>> model = aezoo.build("conv-ae", input_shape=(28, 28, 1), latent_dim=32, filters=(32, 64))
    """

    config_keys = ("input_shape", "latent_dim", "filters", "activation", "output_activation", "reconstruction_loss")
    regularised = False

    def __init__(self, input_shape, latent_dim=32, filters=(32, 64), activation="relu",
                 output_activation="sigmoid", **kwargs):
        name = kwargs.pop("name", "conv_ae")
        input_shape = check_input_shape(self.architecture, input_shape, min_rank=3)
        filters = tuple(int(f) for f in filters)
        check_conv_shape(self.architecture, input_shape, filters)
        check_latent_size(self.architecture, input_shape, latent_dim, self.regularised)

        # === Layers ===
        x_in = keras.Input(input_shape, name="x")
        h = conv_encoder_body(x_in, filters, activation, prefix="encoder_")
        code = keras.layers.Dense(latent_dim, name="encoder_code")(h)
        encoder = keras.Model(x_in, code, name="encoder")
        decoder = conv_decoder(latent_dim, filters, input_shape, activation, output_activation)

        # === Functional model ===
        inputs = keras.Input(input_shape, name="inputs")
        outputs = decoder(encoder(inputs))
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        self.data_shape, self.latent_dim, self.filters = input_shape, int(latent_dim), filters
        self.activation, self.output_activation = activation, output_activation
