"""Small layers and penalty terms the autoencoder families share.

Everything here is written with ``keras.ops`` only, so the models that use these
layers train on the TensorFlow, JAX and PyTorch backends alike. Penalties are
added with ``add_loss`` (per-example value averaged over the batch) so that
``Model.compute_loss`` picks them up during ``fit`` without a custom train step.
"""

import math

import keras
from keras import ops

ACTIVATION_DERIVATIVES = {
    # derivative of the activation, written as a function of (pre-activation, output)
    "linear": lambda pre, out: ops.ones_like(pre),
    None: lambda pre, out: ops.ones_like(pre),
    "sigmoid": lambda pre, out: out * (1.0 - out),
    "tanh": lambda pre, out: 1.0 - ops.square(out),
    "relu": lambda pre, out: ops.cast(pre > 0, pre.dtype),
    "softplus": lambda pre, out: ops.sigmoid(pre),
    "elu": lambda pre, out: ops.where(pre > 0, ops.ones_like(pre), out + 1.0),
}


def _tensors(x, kernels, biases):
    return (ops.convert_to_tensor(x), [ops.convert_to_tensor(k) for k in kernels],
            [ops.convert_to_tensor(b) for b in biases])


# --------------------------------------------------------------------------
# Penalty functions (pure, tested against closed forms)
# --------------------------------------------------------------------------
def gaussian_kl(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, summed over the latent."""
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    return -0.5 * ops.sum(
        1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1
    )


def bernoulli_kl_sparsity(codes, target):
    """Sum_j KL(target || mean activation of unit j): Ng's sparse-autoencoder penalty.

    ``codes`` must lie in (0, 1) (a sigmoid code layer). The mean is taken over
    the batch, so the penalty is a batch statistic, as in the original method.
    """
    eps = 1e-7
    codes = ops.convert_to_tensor(codes)
    rho_hat = ops.clip(ops.mean(codes, axis=0), eps, 1.0 - eps)
    rho = target
    return ops.sum(
        rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat))
    )


def dense_stack_jacobian_sq_norm(x, kernels, biases, activations):
    """Exact squared Frobenius norm of d(code)/d(x) for a stack of Dense layers.

    Builds the per-example Jacobian by the chain rule, J_k = diag(f_k') W_k^T J_{k-1}.
    Memory is batch x units x input_dim, so use it for small or one-layer encoders.
    For one sigmoid layer it reduces to sum_j (h_j(1-h_j))^2 sum_i W_ji^2.
    """
    x, kernels, biases = _tensors(x, kernels, biases)
    if len(kernels) == 1:
        # one layer: ||diag(d) W^T||_F^2 = sum_j d_j^2 sum_i W_ij^2, no Jacobian in memory
        pre = ops.matmul(x, kernels[0]) + biases[0]
        out = keras.activations.get(activations[0])(pre)
        deriv = ACTIVATION_DERIVATIVES[activations[0]](pre, out)
        return ops.sum(ops.square(deriv) * ops.sum(ops.square(kernels[0]), axis=0), axis=-1)
    h = x
    jac = None  # (batch, units, input_dim)
    for kernel, bias, activation in zip(kernels, biases, activations):
        pre = ops.matmul(h, kernel) + bias
        out = keras.activations.get(activation)(pre)
        deriv = ACTIVATION_DERIVATIVES[activation](pre, out)  # (batch, units)
        if jac is None:
            # J = diag(d) W^T, W is (in, units)
            jac = deriv[:, :, None] * ops.transpose(kernel)[None, :, :]
        else:
            jac = deriv[:, :, None] * ops.einsum("iu,bid->bud", kernel, jac)
        h = out
    return ops.sum(ops.square(jac), axis=(1, 2))


def dense_stack_jacobian_sq_norm_estimate(x, kernels, biases, activations, probes, seed):
    """Unbiased Hutchinson estimate of ||J||_F^2 = E_v ||J v||^2, v ~ N(0, I).

    J v is computed exactly by forward-mode propagation of the tangent v through
    the stack, so each probe costs one extra forward pass and no input-size memory.
    """
    x, kernels, biases = _tensors(x, kernels, biases)
    total = 0.0
    for p in range(probes):
        h = x
        tangent = keras.random.normal(ops.shape(x), seed=seed, dtype=x.dtype)
        for kernel, bias, activation in zip(kernels, biases, activations):
            pre = ops.matmul(h, kernel) + bias
            out = keras.activations.get(activation)(pre)
            deriv = ACTIVATION_DERIVATIVES[activation](pre, out)
            tangent = deriv * ops.matmul(tangent, kernel)
            h = out
        total = total + ops.sum(ops.square(tangent), axis=-1)
    return total / probes


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="aezoo")
class Sampling(keras.layers.Layer):
    """Reparameterised draw z = mean + exp(log_var / 2) * eps, in training and inference.

    The graph is the VAE's objective, so ``evaluate()`` and validation losses report the
    negative ELBO of a sampled z, as in training (returning the mean at inference would
    report a smaller number that is no bound). Deterministic outputs come from
    ``encode``/``reconstruct``, which use the posterior mean.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator, dtype=z_mean.dtype)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="aezoo")
class KLDivergence(keras.layers.Layer):
    """Adds beta * mean_batch KL(q(z|x) || N(0, I)) as a loss; passes its inputs through."""

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.beta = float(beta)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        self.add_loss(self.beta * ops.mean(gaussian_kl(z_mean, z_log_var)))
        return z_mean, z_log_var

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


@keras.saving.register_keras_serializable(package="aezoo")
class SparsityPenalty(keras.layers.Layer):
    """Adds a sparsity penalty on the codes passing through it.

    ``kind="l1"``: weight * mean_batch sum_j |h_j|.
    ``kind="kl"``: weight * sum_j KL(target || mean_batch h_j); needs sigmoid codes.
    """

    KINDS = ("l1", "kl")

    def __init__(self, kind="l1", weight=1e-3, target=0.05, **kwargs):
        super().__init__(**kwargs)
        if kind not in self.KINDS:
            raise ValueError(f"sparsity kind must be one of {self.KINDS}, got {kind!r}")
        if not 0.0 < target < 1.0:
            raise ValueError(f"sparsity target must be in (0, 1), got {target}")
        self.kind, self.weight, self.target = kind, float(weight), float(target)

    def call(self, codes):
        if self.kind == "l1":
            penalty = ops.mean(ops.sum(ops.abs(codes), axis=-1))
        else:
            penalty = bernoulli_kl_sparsity(codes, self.target)
        self.add_loss(self.weight * penalty)
        return codes

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(kind=self.kind, weight=self.weight, target=self.target)
        return cfg


@keras.saving.register_keras_serializable(package="aezoo")
class Corruption(keras.layers.Layer):
    """Corrupts inputs for denoising autoencoders, in training only.

    ``kind``: ``"gaussian"`` (add N(0, strength^2), clip to [0, 1]), ``"masking"``
    (zero a fraction ``strength`` of the values), ``"salt_and_pepper"`` (set a
    fraction ``strength`` to 0 or 1 with equal odds). At inference it is the identity,
    so the model denoises whatever it is given; ``corrupt(x)`` applies it on demand.
    """

    KINDS = ("gaussian", "masking", "salt_and_pepper")

    def __init__(self, kind="gaussian", strength=0.3, seed=None, **kwargs):
        super().__init__(**kwargs)
        if kind not in self.KINDS:
            raise ValueError(f"corruption kind must be one of {self.KINDS}, got {kind!r}")
        if strength < 0 or (kind != "gaussian" and strength > 1):
            raise ValueError(
                f"corruption strength must be >= 0 (and <= 1 for {kind!r}), got {strength}"
            )
        self.kind, self.strength, self.seed = kind, float(strength), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def corrupt(self, x):
        x = ops.convert_to_tensor(x)
        shape, dtype = ops.shape(x), x.dtype
        if self.kind == "gaussian":
            noise = keras.random.normal(shape, stddev=self.strength, seed=self.seed_generator, dtype=dtype)
            return ops.clip(x + noise, 0.0, 1.0)
        u = keras.random.uniform(shape, seed=self.seed_generator, dtype=dtype)
        if self.kind == "masking":
            return ops.where(u < self.strength, ops.zeros_like(x), x)
        salt = keras.random.uniform(shape, seed=self.seed_generator, dtype=dtype) < 0.5
        flipped = ops.where(salt, ops.ones_like(x), ops.zeros_like(x))
        return ops.where(u < self.strength, flipped, x)

    def call(self, x, training=None):
        return self.corrupt(x) if training else x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg.update(kind=self.kind, strength=self.strength, seed=self.seed)
        return cfg


def contractive_penalty(flat_x, dense_layers, mode="exact", probes=1, seed=None):
    """Per-example ||d code / d x||_F^2 for an encoder that is a stack of Dense layers.

    ``mode="exact"`` builds the Jacobian; ``mode="estimate"`` is the unbiased
    Hutchinson estimate with ``probes`` random probes (for deep or wide encoders).
    """
    kernels = [layer.kernel for layer in dense_layers]
    biases = [layer.bias for layer in dense_layers]
    activations = [activation_name(layer) for layer in dense_layers]
    if mode == "exact":
        return dense_stack_jacobian_sq_norm(flat_x, kernels, biases, activations)
    if mode == "estimate":
        return dense_stack_jacobian_sq_norm_estimate(flat_x, kernels, biases, activations, probes, seed)
    raise ValueError(f"contractive mode must be 'exact' or 'estimate', got {mode!r}")


def activation_name(layer):
    name = keras.activations.serialize(layer.activation)
    if isinstance(name, dict):
        name = name.get("config", name.get("class_name"))
    if name not in ACTIVATION_DERIVATIVES:
        raise ValueError(
            f"contractive penalty supports activations {sorted(k for k in ACTIVATION_DERIVATIVES if k)}, "
            f"layer {layer.name!r} uses {name!r}"
        )
    return name


@keras.saving.register_keras_serializable(package="aezoo")
class LikelihoodLoss(keras.layers.Layer):
    """Adds mean_batch -log p(x | decoder params) as a loss; returns the data-space output.

    ``likelihood="bernoulli"``: params are logits, output is sigmoid(logits).
    ``likelihood="gaussian"``: params are the mean; the standard deviation is ``sigma``,
    or, with ``learn_sigma=True``, one scalar learned with the model (the sigma-VAE of
    Rybkin et al., 2021: the likelihood then weighs reconstruction against KL by the
    actual error instead of a guessed constant, which sharpens reconstructions).
    Putting the likelihood in the graph keeps the whole VAE objective (this + KL) in
    ``model.losses``, so ``fit(x)`` needs no target and the loss is exact in nats.
    """

    def __init__(self, likelihood="bernoulli", sigma=1.0, learn_sigma=False, **kwargs):
        super().__init__(**kwargs)
        from aezoo.models.losses import LIKELIHOODS

        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if learn_sigma and likelihood != "gaussian":
            raise ValueError("learn_sigma=True needs likelihood='gaussian' (a Bernoulli has no scale)")
        if not sigma > 0:
            raise ValueError(f"observation sigma must be > 0, got {sigma}")
        self.likelihood, self.sigma, self.learn_sigma = likelihood, float(sigma), bool(learn_sigma)
        self.log_sigma = None
        if self.learn_sigma:
            self.log_sigma = self.add_weight(shape=(), initializer=keras.initializers.Constant(math.log(self.sigma)),
                                             name="log_sigma")

    def current_sigma(self):
        """The observation standard deviation in use (learned or fixed), as a float."""
        if self.log_sigma is None:
            return self.sigma
        return float(math.exp(float(ops.convert_to_numpy(self.log_sigma))))

    def negative_log_likelihood(self, x, params):
        from aezoo.models.losses import bernoulli_nll, gaussian_nll

        # float32 whatever the compute dtype: a sum of ~10^4 squared errors over sigma^2
        # overflows float16 (inf under mixed_float16 for an untrained 64x64 face VAE)
        x, params = ops.cast(x, "float32"), ops.cast(params, "float32")
        if self.likelihood == "bernoulli":
            return bernoulli_nll(x, params)
        if self.log_sigma is None:
            return gaussian_nll(x, params, self.sigma)
        log_sigma = ops.cast(self.log_sigma, "float32")
        diff = ops.reshape(x - params, (ops.shape(x)[0], -1))
        per_feature = 0.5 * ops.square(diff) * ops.exp(-2.0 * log_sigma) + log_sigma + 0.5 * math.log(2 * math.pi)
        return ops.sum(per_feature, axis=-1)

    def to_data_space(self, params):
        return ops.sigmoid(params) if self.likelihood == "bernoulli" else params

    def call(self, inputs):
        x, params = inputs
        self.add_loss(ops.mean(self.negative_log_likelihood(x, params)))
        return self.to_data_space(params)

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "likelihood": self.likelihood, "sigma": self.sigma,
                "learn_sigma": self.learn_sigma}
