"""Regularised autoencoders: ``sparse-ae``, ``denoising-ae``, ``contractive-ae``.

Each is a dense autoencoder plus one regulariser, and each may be overcomplete
(``latent_dim`` larger than the input), because the regulariser, not the bottleneck,
keeps it from learning the identity.
"""

import keras
from keras import ops

from aezoo.models.layers import Corruption, SparsityPenalty, contractive_penalty
from aezoo.models.dense import DenseAutoencoder
from aezoo.models.registry import register_architecture

_DENSE_KEYS = DenseAutoencoder.config_keys


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("sparse-ae")
class SparseAutoencoder(DenseAutoencoder):
    """Autoencoder with a sparsity penalty on its code.

    Args:
        sparsity: ``"l1"`` (weight * sum |h_j|, on ReLU codes) or ``"kl"`` (weight *
            sum_j KL(target || mean activation of unit j), on sigmoid codes; Ng 2011).
        sparsity_weight: strength of the penalty.
        sparsity_target: target mean activation for ``"kl"``.
        Other arguments as ``dense-ae``; ``code_activation`` defaults to ``"relu"``
        for ``"l1"`` and must be ``"sigmoid"`` for ``"kl"``.

    Example:
        >>> model = aezoo.build("sparse-ae", input_shape=(28, 28, 1), latent_dim=1000,
        ...                     sparsity="kl", sparsity_target=0.05)
    """

    config_keys = _DENSE_KEYS + ("sparsity", "sparsity_weight", "sparsity_target")
    regularised = True

    def __init__(self, input_shape, latent_dim=64, sparsity="l1", sparsity_weight=None,
                 sparsity_target=0.05, code_activation=None, **kwargs):
        if sparsity not in SparsityPenalty.KINDS:
            raise ValueError(f"sparsity must be one of {SparsityPenalty.KINDS}, got {sparsity!r}")
        if code_activation is None:
            code_activation = "relu" if sparsity == "l1" else "sigmoid"
        if sparsity == "kl" and code_activation != "sigmoid":
            raise ValueError("sparsity='kl' needs code_activation='sigmoid' (activations must lie in (0, 1))")
        if sparsity_weight is None:
            sparsity_weight = 1e-3 if sparsity == "l1" else 0.1
        self.sparsity, self.sparsity_weight = sparsity, float(sparsity_weight)
        self.sparsity_target = float(sparsity_target)
        super().__init__(input_shape, latent_dim, code_activation=code_activation, **kwargs)

    def _regularise_code(self, code):
        return SparsityPenalty(self.sparsity, self.sparsity_weight, self.sparsity_target, name="sparsity")(code)


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("denoising-ae")
class DenoisingAutoencoder(DenseAutoencoder):
    """Learns to undo a corruption of its input (Vincent et al., 2008).

    The corruption is applied inside the model in training only; the target stays the
    clean input, so ``fit(x_clean)`` is all it needs. At inference ``reconstruct(x_noisy)``
    denoises. ``corrupt(x)`` applies the training corruption on demand.

    Args:
        corruption: ``"gaussian"``, ``"masking"`` or ``"salt_and_pepper"``.
        corruption_strength: noise standard deviation, or the fraction of values hit.
        seed: seed of the corruption noise.
        Other arguments as ``dense-ae``.

    Example:
        >>> model = aezoo.build("denoising-ae", input_shape=(28, 28, 1), corruption="masking",
        ...                     corruption_strength=0.3)
    """

    config_keys = _DENSE_KEYS + ("corruption", "corruption_strength", "seed")
    regularised = True

    def __init__(self, input_shape, latent_dim=64, corruption="gaussian", corruption_strength=0.3,
                 seed=None, **kwargs):
        Corruption(corruption, corruption_strength, seed)  # validate before building
        self.corruption, self.corruption_strength, self.seed = corruption, float(corruption_strength), seed
        super().__init__(input_shape, latent_dim, **kwargs)
        self._corruption_layer = self.get_layer("corruption")

    def _corrupt(self, inputs):
        # built here, not stored, because torch forbids sub-modules before Module.__init__
        return Corruption(self.corruption, self.corruption_strength, self.seed, name="corruption")(inputs)

    def corrupt(self, x):
        """The training corruption applied to ``x`` (numpy in, numpy out)."""
        x = self._as_batch(x)
        return ops.convert_to_numpy(self._corruption_layer.corrupt(ops.convert_to_tensor(x)))


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("contractive-ae")
class ContractiveAutoencoder(DenseAutoencoder):
    """Penalises the encoder's sensitivity to its input (Rifai et al., 2011).

    Loss = reconstruction + weight * ||J_f(x)||_F^2, J_f the Jacobian of the code with
    respect to the input. ``jacobian="exact"`` computes it by the chain rule (cheap for
    the classic one-layer encoder); ``"estimate"`` uses an unbiased Hutchinson estimate
    with ``probes`` forward-mode probes, for deep encoders.

    Example:
        >>> model = aezoo.build("contractive-ae", input_shape=(28, 28, 1), latent_dim=64,
        ...                     hidden_units=(), code_activation="sigmoid")
    """

    config_keys = _DENSE_KEYS + ("contractive_weight", "jacobian", "probes", "seed")
    regularised = True

    def __init__(self, input_shape, latent_dim=64, contractive_weight=0.1, jacobian="exact",
                 probes=1, seed=None, hidden_units=(), code_activation="sigmoid", **kwargs):
        if jacobian not in ("exact", "estimate"):
            raise ValueError(f"jacobian must be 'exact' or 'estimate', got {jacobian!r}")
        self.contractive_weight, self.jacobian = float(contractive_weight), jacobian
        self.probes, self.seed = int(probes), seed
        super().__init__(input_shape, latent_dim, hidden_units=hidden_units,
                         code_activation=code_activation, **kwargs)
        self._probe_seed = keras.random.SeedGenerator(seed)

    def encoder_dense_layers(self):
        return [layer for layer in self.encoder.layers if isinstance(layer, keras.layers.Dense)]

    def jacobian_penalty(self, x):
        """Per-example ||J_f(x)||_F^2 (a tensor of shape (batch,))."""
        x = ops.convert_to_tensor(x)
        flat = ops.reshape(x, (ops.shape(x)[0], -1))
        return contractive_penalty(flat, self.encoder_dense_layers(), self.jacobian, self.probes, self._probe_seed)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        penalty = self.contractive_weight * ops.mean(self.jacobian_penalty(x))
        return loss + _per_replica(penalty)


def _per_replica(value):
    """``value`` / replicas under tf.distribute (public TensorFlow API only).

    Keras scales each replica's loss terms by 1/replicas so that summing the replicas'
    gradients gives the global-batch mean; a term added here must be scaled the same
    way or it counts once per replica. Off TensorFlow, losses are global: unchanged.
    """
    if keras.backend.backend() != "tensorflow":
        return value
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return value / replicas if replicas > 1 else value
