"""Variational autoencoders: ``dense-vae``, ``conv-vae``, ``beta-vae`` (Kingma & Welling, 2014).

Gaussian encoder q(z|x) = N(mean, diag(exp(log_var))), reparameterised sampling,
a Bernoulli (logits) or Gaussian (fixed sigma) decoder, analytic KL to N(0, I). The
graph carries the whole objective: ``model.losses`` = -log p(x|z) + beta * KL, both
averaged over the batch, so ``fit(x)`` and ``evaluate(x)`` report the negative ELBO
(per example, in nats, when beta = 1).
"""

import warnings

import numpy as np
import keras
from keras import ops

from aezoo.models import inference
from aezoo.models.layers import KLDivergence, LikelihoodLoss, Sampling, gaussian_kl
from aezoo.models.losses import LIKELIHOODS
from aezoo.models.base import Autoencoder, check_input_shape
from aezoo.models.blocks import check_conv_shape, conv_decoder, conv_encoder_body, dense_decoder, dense_encoder_body
from aezoo.models.registry import register_architecture


class VariationalAutoencoder(Autoencoder):
    """Shared VAE graph and API; subclasses provide ``_encoder_body`` and ``_make_decoder``."""

    default_loss = None  # the objective lives in the graph (see module docstring)

    def _build_vae(self, input_shape, latent_dim, likelihood, observation_sigma, beta, seed, name, kwargs,
                   learn_sigma=False):
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if latent_dim <= 0:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim}")
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")

        # === Layers ===
        x_in = keras.Input(input_shape, name="x")
        h = self._encoder_body(x_in)
        z_mean = keras.layers.Dense(latent_dim, name="encoder_z_mean")(h)
        z_log_var = keras.layers.Dense(latent_dim, name="encoder_z_log_var")(h)
        encoder = keras.Model(x_in, [z_mean, z_log_var], name="encoder")
        decoder = self._make_decoder(latent_dim, input_shape)
        likelihood_loss = LikelihoodLoss(likelihood, observation_sigma, learn_sigma, name="likelihood")

        # === Functional model ===
        inputs = keras.Input(input_shape, name="inputs")
        outputs, objective_layers = self._objective_graph(inputs, encoder, decoder, likelihood_loss, beta, seed)
        Autoencoder.__init__(self, inputs=inputs, outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder = encoder, decoder
        for attribute, layer in objective_layers.items():
            setattr(self, attribute, layer)
        self.likelihood_loss = likelihood_loss
        self.data_shape, self.latent_dim = input_shape, int(latent_dim)
        self.likelihood, self.observation_sigma = likelihood, float(observation_sigma)
        self.learn_sigma = bool(learn_sigma)
        self.beta, self.seed = float(beta), seed
        self._sample_seed = keras.random.SeedGenerator(seed)

    def _objective_graph(self, inputs, encoder, decoder, likelihood_loss, beta, seed):
        """The negative ELBO: -log p(x|z) at one sampled z plus beta * KL(q(z|x) || N(0, I))."""
        kl = KLDivergence(beta, name="kl_divergence")
        sampling = Sampling(seed, name="sampling")
        z_mean, z_log_var = kl(encoder(inputs))
        z = sampling([z_mean, z_log_var])
        return likelihood_loss([inputs, decoder(z)]), {"sampling": sampling}

    @property
    def requires_unit_range(self):
        return self.likelihood == "bernoulli"

    # --------------------------------------------------------------- API
    def encode(self, x, sample=False, seed=None, batch_size=None):
        """Posterior means of ``x`` (numpy), or one posterior sample per input when ``sample=True``."""
        x = self._as_batch(x)
        mean, log_var = inference.run(self.encoder, x, batch_size)
        if not sample:
            return mean
        rng = np.random.default_rng(seed)
        return (mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)).astype("float32")

    def encode_distribution(self, x, batch_size=None):
        """(mean, log_var) of q(z|x), numpy."""
        return tuple(inference.run(self.encoder, self._as_batch(x), batch_size))

    def _code(self, encoder_outputs):
        return encoder_outputs[0]

    def _to_data_space(self, decoded):
        if self.likelihood == "bernoulli":  # logits -> means, in numpy (no round trip to a device)
            return (0.5 * (1.0 + np.tanh(0.5 * decoded))).astype(decoded.dtype, copy=False)
        return decoded

    #: a ``GaussianLatentPrior`` fitted to training codes (``fit_latent_prior``), or None. It is
    #: kept in preset folders (latent_prior.npz), not in ``.keras`` files: ``model.save`` drops it
    latent_prior = None
    supports_latent_prior = True

    def fit(self, x=None, y=None, *args, **kwargs):
        """Keras ``fit``; a fitted latent prior is refitted to ``x`` afterwards, since training
        moves the codes it describes (with a warning when ``x`` is not an array to refit on)."""
        history = super().fit(x, y, *args, **kwargs)
        if self.latent_prior is not None:
            if isinstance(x, np.ndarray):
                self.fit_latent_prior(x)
            else:
                warnings.warn(f"{self.name}: training moved the codes its fitted latent prior describes; call "
                              "model.fit_latent_prior(x) with the training images to refit it", stacklevel=2)
        return history

    def fit_latent_prior(self, x, batch_size=None):
        """Fit a full-covariance Gaussian to the posterior means of ``x`` (training data) and
        keep it as ``self.latent_prior``, which ``sample`` then draws from by default.

        Why: the codes of real data rarely fill N(0, I) (see ``aezoo.models.latent_prior``);
        presets that ship ``latent_prior.npz`` load with it fitted. The Gaussian is fitted to
        the posterior means, so its spread leaves out each code's own posterior variance: it
        draws from where real data put their codes. Returns the prior.
        """
        from aezoo.models.latent_prior import GaussianLatentPrior

        self.latent_prior = GaussianLatentPrior.fit(self.encode(x, batch_size=batch_size))
        return self.latent_prior

    def sample(self, n, seed=None, temperature=1.0, prior="auto"):
        """Decode ``n`` draws from a prior over codes (numpy, data space).

        ``prior="standard"``: N(0, temperature^2 I), the prior the VAE was trained with;
        ``"fitted"``: ``self.latent_prior`` with its scale times ``temperature``;
        ``"auto"`` (default): the fitted one when the model has one, else the standard one.
        """
        if not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if prior not in ("auto", "standard", "fitted"):
            raise ValueError(f"prior must be 'auto', 'standard' or 'fitted', got {prior!r}")
        if prior == "fitted" and self.latent_prior is None:
            raise ValueError(f"{self.name} has no fitted latent prior: call model.fit_latent_prior(x_train) "
                             "first, or sample with prior='standard'")
        if prior == "standard" or (prior == "auto" and self.latent_prior is None):
            z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
            return self.decode(z * temperature)
        return self.decode(self.latent_prior.sample(n, seed=seed, temperature=temperature))

    def log_px_given_z(self, x, z):
        """log p(x | z) per example (tensor), for likelihood evaluations."""
        return -self.likelihood_loss.negative_log_likelihood(ops.convert_to_tensor(x), self.decoder(z))

    def elbo(self, x, samples=1, seed=None, batch_size=256):
        """Per-example evidence lower bound in nats (beta = 1: the true ELBO), numpy.

        Uses ``samples`` Monte-Carlo draws of z per example for the likelihood term and
        the analytic KL.
        """
        x = self._as_batch(x)
        rng = np.random.default_rng(seed)
        out = []
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            mean, log_var = self.encoder(xb)
            mean, log_var = ops.convert_to_numpy(mean), ops.convert_to_numpy(log_var)
            ll = 0.0
            for _ in range(samples):
                z = mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape).astype("float32")
                ll = ll + ops.convert_to_numpy(self.log_px_given_z(xb, z))
            kl = ops.convert_to_numpy(gaussian_kl(mean, log_var))
            out.append(ll / samples - kl)
        return np.concatenate(out)


_VAE_KEYS = ("input_shape", "latent_dim", "likelihood", "observation_sigma", "learn_sigma", "beta", "seed")


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("dense-vae")
class DenseVAE(VariationalAutoencoder):
    """A VAE with MLP encoder and decoder.

    Args:
        input_shape: shape of one example.
        latent_dim: size of z.
        hidden_units: encoder layer sizes; the decoder mirrors them.
        activation: hidden activation.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        observation_sigma: standard deviation of the Gaussian likelihood (its start
            value when ``learn_sigma``).
        learn_sigma: learn one observation scale with the model (sigma-VAE).
        beta: weight on the KL term (1 = the standard VAE).
        seed: seed of the sampling noise.

    Example:
        >>> vae = aezoo.build("dense-vae", input_shape=(28, 28, 1), latent_dim=16)
        >>> vae.fit(x_train, epochs=10); samples = vae.sample(16, seed=0)
    """

    config_keys = _VAE_KEYS + ("hidden_units", "activation")

    def __init__(self, input_shape, latent_dim=16, hidden_units=(512, 256), activation="relu",
                 likelihood="bernoulli", observation_sigma=0.1, learn_sigma=False, beta=1.0, seed=None, **kwargs):
        name = kwargs.pop("name", self.architecture.replace("-", "_"))
        input_shape = check_input_shape(self.architecture, input_shape)
        self.hidden_units, self.activation = tuple(int(u) for u in hidden_units), activation
        self._build_vae(input_shape, latent_dim, likelihood, observation_sigma, beta, seed, name, kwargs,
                        learn_sigma)

    def _encoder_body(self, x):
        return dense_encoder_body(x, self.hidden_units, self.activation, prefix="encoder_")[0]

    def _make_decoder(self, latent_dim, shape):
        return dense_decoder(latent_dim, self.hidden_units, shape, self.activation, output_activation=None)


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("conv-vae")
class ConvVAE(VariationalAutoencoder):
    """A VAE with a stride-2 convolutional encoder and a transposed-convolution decoder.

    Args:
        input_shape: ``(height, width, channels)``, height and width divisible by
            ``2**len(filters)``.
        filters: channels of each stride-2 stage.
        residual_blocks: residual blocks (group norm, two 3x3 convs) after each encoder
            stage and before each decoder stage; 0 gives the plain stride-2 stacks.
        hidden_units: Dense layers between the convolutions and the code, mirrored in the
            decoder; () maps conv features straight to the code. A very small code (a 2-d
            latent plane) needs them: one linear map from 2 numbers to a feature map lays the
            data out almost as PCA would.
        Other arguments as ``dense-vae``.

    Example:
        >>> vae = aezoo.build("conv-vae", input_shape=(64, 64, 3), latent_dim=128,
        ...                   filters=(32, 64, 128, 256))
    """

    config_keys = _VAE_KEYS + ("filters", "activation", "residual_blocks", "hidden_units")
    default_beta = 1.0

    def __init__(self, input_shape, latent_dim=32, filters=(32, 64), activation="relu",
                 likelihood="bernoulli", observation_sigma=0.1, learn_sigma=False, beta=None, seed=None,
                 residual_blocks=0, hidden_units=(), **kwargs):
        name = kwargs.pop("name", self.architecture.replace("-", "_"))
        input_shape = check_input_shape(self.architecture, input_shape, min_rank=3)
        self.filters, self.activation = tuple(int(f) for f in filters), activation
        self.hidden_units = tuple(int(u) for u in hidden_units)
        if any(u <= 0 for u in self.hidden_units):
            raise ValueError(f"hidden_units must be positive integers, got {tuple(hidden_units)}")
        self.residual_blocks = int(residual_blocks)
        if self.residual_blocks < 0:
            raise ValueError(f"residual_blocks must be >= 0, got {residual_blocks}")
        check_conv_shape(self.architecture, input_shape, self.filters)
        beta = self.default_beta if beta is None else beta
        self._build_vae(input_shape, latent_dim, likelihood, observation_sigma, beta, seed, name, kwargs,
                        learn_sigma)

    def _encoder_body(self, x):
        return conv_encoder_body(x, self.filters, self.activation, prefix="encoder_",
                                 residual_blocks=self.residual_blocks, hidden_units=self.hidden_units)

    def _make_decoder(self, latent_dim, shape):
        return conv_decoder(latent_dim, self.filters, shape, self.activation, output_activation=None,
                            residual_blocks=self.residual_blocks, hidden_units=self.hidden_units)


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("beta-vae")
class BetaVAE(ConvVAE):
    """A convolutional VAE with a heavier KL weight, beta > 1, for more disentangled
    latents at some cost in reconstruction (Higgins et al., 2017). Default beta = 4.

    Example:
        >>> vae = aezoo.build("beta-vae", input_shape=(64, 64, 3), latent_dim=32, beta=4.0)
    """

    default_beta = 4.0
