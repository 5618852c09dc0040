"""The building blocks of a latent-diffusion KL autoencoder (diffusers' ``AutoencoderKL``), channels-last.

Every layer is named after the module path of its diffusers counterpart with dots
turned to underscores (``encoder.down_blocks.0.resnets.1.norm2`` ->
``encoder_down_blocks_0_resnets_1_norm2``, see ``keras_name``), so the converter finds
each layer from the same path it reads the source tensor by, and no second name table
can drift from the graph.
"""

import math

import keras
from keras import layers, ops

#: diffusers' epsilon in every GroupNorm of the autoencoder (resnets, attention, output norm)
NORM_EPSILON = 1e-6
#: diffusers clamps the posterior's log-variance to this range before using it
LOGVAR_RANGE = (-30.0, 20.0)


def keras_name(path):
    """The Keras layer name of the diffusers module at ``path`` (e.g. ``decoder.conv_in``)."""
    return path.replace(".", "_")


def group_norm(groups, path):
    return layers.GroupNormalization(groups, epsilon=NORM_EPSILON, name=keras_name(path))


def conv(filters, path, kernel_size=3, strides=1, padding="same"):
    return layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, name=keras_name(path))


def silu(path):
    return layers.Activation("silu", name=keras_name(path))


def resnet_block(x, out_channels, groups, path):
    """norm-SiLU-conv twice, plus the input (through a 1x1 ``conv_shortcut`` when channels change)."""
    h = group_norm(groups, f"{path}.norm1")(x)
    h = silu(f"{path}.act1")(h)
    h = conv(out_channels, f"{path}.conv1")(h)
    h = group_norm(groups, f"{path}.norm2")(h)
    h = silu(f"{path}.act2")(h)
    h = conv(out_channels, f"{path}.conv2")(h)
    if x.shape[-1] != out_channels:
        x = conv(out_channels, f"{path}.conv_shortcut", kernel_size=1)(x)
    return layers.Add(name=keras_name(f"{path}.add"))([x, h])


def downsample(x, path):
    """Pad one zero row and column at the bottom and right only, then a stride-2 3x3 conv
    without padding, as diffusers (and the original LDM) do: spelled out, so the graph says
    where the padding goes instead of leaving it to a framework's ``"same"`` convention."""
    x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=keras_name(f"{path}.pad"))(x)
    return conv(x.shape[-1], f"{path}.conv", strides=2, padding="valid")(x)


def upsample(x, path):
    """Nearest-neighbour 2x upsampling, then a 3x3 conv."""
    x = layers.UpSampling2D(2, interpolation="nearest", name=keras_name(f"{path}.upsample"))(x)
    return conv(x.shape[-1], f"{path}.conv")(x)


def mid_block(x, groups, attention, path):
    """resnet, single-head self-attention over all positions (optional), resnet."""
    channels = x.shape[-1]
    x = resnet_block(x, channels, groups, f"{path}.resnets.0")
    if attention:
        x = SpatialSelfAttention(channels, groups, name=keras_name(f"{path}.attentions.0"))(x)
    return resnet_block(x, channels, groups, f"{path}.resnets.1")


@keras.saving.register_keras_serializable(package="aezoo")
class SpatialSelfAttention(keras.layers.Layer):
    """GroupNorm, then one attention head over the H*W positions, projected and added to the input.

    The sublayers keep diffusers' names (``group_norm``, ``to_q``, ``to_k``, ``to_v``,
    ``to_out``) so the converter fills them by the same names.
    """

    def __init__(self, channels, groups, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.groups = int(channels), int(groups)
        self.group_norm = layers.GroupNormalization(self.groups, epsilon=NORM_EPSILON, name="group_norm")
        self.to_q = layers.Dense(self.channels, name="to_q")
        self.to_k = layers.Dense(self.channels, name="to_k")
        self.to_v = layers.Dense(self.channels, name="to_v")
        self.to_out = layers.Dense(self.channels, name="to_out")

    def build(self, input_shape):
        self.group_norm.build(input_shape)
        token_shape = (input_shape[0], None, self.channels)
        for dense in (self.to_q, self.to_k, self.to_v, self.to_out):
            dense.build(token_shape)

    def call(self, x):
        shape = ops.shape(x)
        tokens = ops.reshape(self.group_norm(x), (shape[0], shape[1] * shape[2], self.channels))
        q, k, v = self.to_q(tokens), self.to_k(tokens), self.to_v(tokens)
        scores = ops.matmul(q, ops.transpose(k, (0, 2, 1))) * (1.0 / math.sqrt(self.channels))
        attended = ops.matmul(ops.softmax(scores, axis=-1), v)
        return x + ops.reshape(self.to_out(attended), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "groups": self.groups}


@keras.saving.register_keras_serializable(package="aezoo")
class DiagonalGaussian(keras.layers.Layer):
    """Moments ``(..., 2C)`` -> ``[mean, log_var]`` of the posterior, log-variance clamped as diffusers does."""

    def call(self, moments):
        mean, log_var = ops.split(moments, 2, axis=-1)
        return [mean, ops.clip(log_var, *LOGVAR_RANGE)]

    def compute_output_shape(self, input_shape):
        half = tuple(input_shape[:-1]) + (input_shape[-1] // 2,)
        return [half, half]


def kl_encoder(in_channels, block_out_channels, layers_per_block, latent_channels, groups, use_quant_conv,
               mid_attention):
    """Images in [0, 1] ``(n, H, W, in_channels)`` -> ``[mean, log_var]``, each ``(n, H/f, W/f, latent_channels)``."""
    x_in = keras.Input((None, None, in_channels), name="x")
    h = layers.Rescaling(2.0, offset=-1.0, name="to_signed_range")(x_in)  # diffusers works in [-1, 1]
    h = conv(block_out_channels[0], "encoder.conv_in")(h)
    for i, channels in enumerate(block_out_channels):
        for j in range(layers_per_block):
            h = resnet_block(h, channels, groups, f"encoder.down_blocks.{i}.resnets.{j}")
        if i < len(block_out_channels) - 1:
            h = downsample(h, f"encoder.down_blocks.{i}.downsamplers.0")
    h = mid_block(h, groups, mid_attention, "encoder.mid_block")
    h = group_norm(groups, "encoder.conv_norm_out")(h)
    h = silu("encoder.conv_act")(h)
    h = conv(2 * latent_channels, "encoder.conv_out")(h)
    if use_quant_conv:
        h = conv(2 * latent_channels, "quant_conv", kernel_size=1)(h)
    mean, log_var = DiagonalGaussian(name="posterior")(h)
    return keras.Model(x_in, [mean, log_var], name="encoder")


def kl_decoder(out_channels, block_out_channels, layers_per_block, latent_channels, groups, use_post_quant_conv,
               mid_attention):
    """Raw latents ``(n, h, w, latent_channels)`` -> images ``(n, h*f, w*f, out_channels)``, in [0, 1] up to
    overshoot (``decode`` clamps; training sees the unclamped values so over-bright pixels still get gradient)."""
    z_in = keras.Input((None, None, latent_channels), name="z")
    h = z_in
    if use_post_quant_conv:
        h = conv(latent_channels, "post_quant_conv", kernel_size=1)(h)
    h = conv(block_out_channels[-1], "decoder.conv_in")(h)
    h = mid_block(h, groups, mid_attention, "decoder.mid_block")
    for i, channels in enumerate(reversed(block_out_channels)):
        for j in range(layers_per_block + 1):
            h = resnet_block(h, channels, groups, f"decoder.up_blocks.{i}.resnets.{j}")
        if i < len(block_out_channels) - 1:
            h = upsample(h, f"decoder.up_blocks.{i}.upsamplers.0")
    h = group_norm(groups, "decoder.conv_norm_out")(h)
    h = silu("decoder.conv_act")(h)
    h = conv(out_channels, "decoder.conv_out")(h)
    out = layers.Rescaling(0.5, offset=0.5, name="to_unit_range")(h)
    return keras.Model(z_in, out, name="decoder")
