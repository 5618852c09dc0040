"""Encoder and decoder stacks shared by the families (plain functional builders)."""

import numpy as np
import keras
from keras import layers


def dense_encoder_body(x, hidden_units, activation, prefix):
    """Flatten then Dense layers; returns (tensor, list of Dense layers)."""
    x = layers.Flatten(name=f"{prefix}flatten")(x)
    dense_layers = []
    for i, units in enumerate(hidden_units):
        layer = layers.Dense(units, activation=activation, name=f"{prefix}dense_{i}")
        dense_layers.append(layer)
        x = layer(x)
    return x, dense_layers


def dense_decoder(latent_dim, hidden_units, output_shape, activation, output_activation, name="decoder"):
    """latent -> Dense stack (reversed hidden sizes) -> data shape."""
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, units in enumerate(reversed(tuple(hidden_units))):
        x = layers.Dense(units, activation=activation, name=f"decoder_dense_{i}")(x)
    x = layers.Dense(int(np.prod(output_shape)), activation=output_activation, name="decoder_output")(x)
    x = layers.Reshape(tuple(output_shape), name="reshape")(x)
    return keras.Model(z, x, name=name)


def check_conv_shape(name, input_shape, filters):
    """Each stride-2 stage halves H and W, so both must divide by 2**len(filters)."""
    if len(input_shape) != 3:
        raise ValueError(f"{name}: input_shape must be (height, width, channels), got {tuple(input_shape)}")
    factor = 2 ** len(filters)
    h, w, _ = input_shape
    bad = [(axis, size) for axis, size in (("height", h), ("width", w)) if size % factor]
    if bad:
        axis, size = bad[0]
        lower, upper = (size // factor) * factor, (size // factor + 1) * factor
        near = f"{lower} or {upper}" if lower else f"{upper}"
        raise ValueError(
            f"{name}: {axis} {size} is not divisible by 2**{len(filters)}={factor} "
            f"({len(filters)} stride-2 stages); resize or pad inputs to {near}, "
            f"or use fewer filters stages"
        )
    if h // factor < 1 or w // factor < 1:
        raise ValueError(f"{name}: input {h}x{w} is too small for {len(filters)} stride-2 stages")


def residual_block(x, activation, name):
    """x + conv(act(norm(conv(act(norm(x)))))): a pre-activation residual block.

    Residual blocks with group normalisation let the conv stacks grow deeper without
    slowing optimisation (He et al., 2016; Wu & He, 2018); the second convolution
    starts at zero so every block starts as the identity.
    """
    channels = x.shape[-1]
    groups = next(g for g in (8, 4, 2, 1) if channels % g == 0)
    h = layers.GroupNormalization(groups, name=f"{name}_norm_0")(x)
    h = layers.Activation(activation, name=f"{name}_act_0")(h)
    h = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv_0")(h)
    h = layers.GroupNormalization(groups, name=f"{name}_norm_1")(h)
    h = layers.Activation(activation, name=f"{name}_act_1")(h)
    h = layers.Conv2D(channels, 3, padding="same", kernel_initializer="zeros", name=f"{name}_conv_1")(h)
    return layers.Add(name=f"{name}_add")([x, h])


def conv_encoder_body(x, filters, activation, prefix, residual_blocks=0, hidden_units=()):
    """Stride-2 convolutions (each followed by ``residual_blocks`` residual blocks), flattened,
    then one Dense layer per ``hidden_units`` entry."""
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation=activation, name=f"{prefix}conv_{i}")(x)
        for j in range(residual_blocks):
            x = residual_block(x, activation, name=f"{prefix}res_{i}_{j}")
    x = layers.Flatten(name=f"{prefix}flatten")(x)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"{prefix}hidden_{i}")(x)
    return x


def conv_decoder(latent_dim, filters, output_shape, activation, output_activation, name="decoder",
                 residual_blocks=0, hidden_units=()):
    """latent -> Dense (``hidden_units`` reversed, then a projection) -> Reshape to the smallest
    map -> stride-2 transposed convs -> image."""
    h, w, c = output_shape
    factor = 2 ** len(filters)
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, units in enumerate(reversed(tuple(hidden_units))):
        x = layers.Dense(units, activation=activation, name=f"decoder_hidden_{i}")(x)
    x = layers.Dense((h // factor) * (w // factor) * filters[-1], activation=activation, name="decoder_project")(x)
    x = layers.Reshape((h // factor, w // factor, filters[-1]), name="reshape")(x)
    for i, f in enumerate(reversed(tuple(filters))):
        for j in range(residual_blocks):
            x = residual_block(x, activation, name=f"decoder_res_{i}_{j}")
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation=activation, name=f"decoder_deconv_{i}")(x)
    x = layers.Conv2D(c, 3, padding="same", activation=output_activation, name="decoder_output")(x)
    return keras.Model(z, x, name=name)
