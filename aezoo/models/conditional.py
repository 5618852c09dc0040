"""``conditional-vae``: a VAE told the class (Sohn, Lee & Yan, 2015).

The one-hot label enters both the encoder, q(z | x, y), and the decoder, p(x | z, y),
so the code only has to carry what the label does not (style: slant, thickness), and
``sample(n, labels=3)`` draws new examples of the class asked for. The objective is the
conditional ELBO, carried in the graph as for every aezoo VAE. Every call that takes
data takes its labels too: ``fit(x, labels)``, ``encode(x, labels)``,
``decode(z, labels)``, ``reconstruct(x, labels)``; labels are class indices (or
one-hot rows).
"""

import numpy as np
import keras
from keras import layers

from aezoo.models import inference
from aezoo.models.base import Autoencoder, check_input_shape
from aezoo.models.layers import KLDivergence, LikelihoodLoss, Sampling
from aezoo.models.losses import LIKELIHOODS
from aezoo.models.registry import register_architecture
from aezoo.models.variational import VariationalAutoencoder


@keras.saving.register_keras_serializable(package="aezoo")
@register_architecture("conditional-vae")
class ConditionalVAE(VariationalAutoencoder):
    """A dense VAE conditioned on a class label.

    Args:
        input_shape: shape of one example.
        num_classes: number of classes; labels are integers in ``[0, num_classes)``.
        latent_dim: size of z.
        hidden_units: encoder layer sizes; the decoder mirrors them.
        Other arguments as ``dense-vae``.

    Example:
        >>> cvae = aezoo.build("conditional-vae", input_shape=(28, 28, 1), num_classes=10)
        >>> cvae.fit(x_train, y_train, epochs=20)
        >>> sevens = cvae.sample(16, labels=7, seed=0)
    """

    config_keys = ("input_shape", "num_classes", "latent_dim", "hidden_units", "activation", "likelihood",
                   "observation_sigma", "learn_sigma", "beta", "seed")

    def __init__(self, input_shape, num_classes=10, latent_dim=16, hidden_units=(512, 256), activation="relu",
                 likelihood="bernoulli", observation_sigma=0.1, learn_sigma=False, beta=1.0, seed=None, **kwargs):
        name = kwargs.pop("name", "conditional_vae")
        input_shape = check_input_shape(self.architecture, input_shape)
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"conditional-vae: num_classes must be an integer >= 2, got {num_classes!r}")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if latent_dim <= 0:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim}")
        self.num_classes, self.hidden_units = int(num_classes), tuple(int(u) for u in hidden_units)
        self.activation = activation

        # === Layers ===
        x_in, y_in = keras.Input(input_shape, name="x"), keras.Input((self.num_classes,), name="label")
        h = layers.Concatenate(name="encoder_join")([layers.Flatten(name="encoder_flatten")(x_in), y_in])
        for i, units in enumerate(self.hidden_units):
            h = layers.Dense(units, activation=activation, name=f"encoder_dense_{i}")(h)
        encoder = keras.Model([x_in, y_in], [layers.Dense(latent_dim, name="encoder_z_mean")(h),
                                             layers.Dense(latent_dim, name="encoder_z_log_var")(h)], name="encoder")
        z_in, y_dec = keras.Input((latent_dim,), name="z"), keras.Input((self.num_classes,), name="label")
        d = layers.Concatenate(name="decoder_join")([z_in, y_dec])
        for i, units in enumerate(reversed(self.hidden_units)):
            d = layers.Dense(units, activation=activation, name=f"decoder_dense_{i}")(d)
        d = layers.Dense(int(np.prod(input_shape)), name="decoder_output")(d)
        decoder = keras.Model([z_in, y_dec], layers.Reshape(input_shape, name="reshape")(d), name="decoder")
        kl, sampling = KLDivergence(beta, name="kl_divergence"), Sampling(seed, name="sampling")
        likelihood_loss = LikelihoodLoss(likelihood, observation_sigma, learn_sigma, name="likelihood")

        # === Functional model: inputs [x, one-hot label] ===
        x, y = keras.Input(input_shape, name="inputs"), keras.Input((self.num_classes,), name="labels")
        z_mean, z_log_var = kl(encoder([x, y]))
        outputs = likelihood_loss([x, decoder([sampling([z_mean, z_log_var]), y])])
        Autoencoder.__init__(self, inputs=[x, y], outputs=outputs, name=name, **kwargs)

        # === Config ===
        self.encoder, self.decoder, self.sampling, self.likelihood_loss = encoder, decoder, sampling, likelihood_loss
        self.data_shape, self.latent_dim = input_shape, int(latent_dim)
        self.likelihood, self.observation_sigma = likelihood, float(observation_sigma)
        self.learn_sigma, self.beta, self.seed = bool(learn_sigma), float(beta), seed

    # ------------------------------------------------------------- labels
    def one_hot(self, labels, n):
        """Class indices (or one-hot rows, or one index for all ``n``) -> ``(n, num_classes)`` float32."""
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[1] == self.num_classes:
            if len(labels) != n:
                raise ValueError(f"{self.name}: got {len(labels)} one-hot labels for {n} examples")
            return labels.astype("float32")
        if labels.ndim == 0:
            labels = np.full(n, labels)
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(f"{self.name}: labels must be {n} class indices or a (n, {self.num_classes}) one-hot "
                             f"array, got shape {labels.shape}")
        if labels.dtype.kind not in "iu" and not (labels.dtype.kind == "f" and np.all(labels == np.round(labels))):
            raise ValueError(f"{self.name}: labels must be integer class indices, got dtype {labels.dtype}")
        labels = labels.astype("int64")
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"{self.name}: labels must lie in [0, {self.num_classes}), "
                             f"got range [{labels.min()}, {labels.max()}]")
        return np.eye(self.num_classes, dtype="float32")[labels]

    def _with_labels(self, x, labels):
        if labels is None:
            raise ValueError(f"{self.name}: a conditional VAE needs the labels of its inputs: "
                             "fit(x, labels), encode(x, labels), reconstruct(x, labels)")
        x = self._as_batch(x)
        return [x, self.one_hot(labels, len(x))]

    # ------------------------------------------------------------- training
    def fit(self, x=None, labels=None, *args, **kwargs):
        """``fit(x, labels)``: trains on examples ``x`` with their class ``labels``."""
        if isinstance(x, (list, tuple)) and len(x) == 2 and labels is None:  # Keras-style [x, one_hot]
            x, labels = x
        if labels is None and not isinstance(x, np.ndarray):  # a pipeline of ((x, one_hot),) batches
            return super().fit(x, None, *args, **kwargs)
        return super().fit(self._with_labels(x, labels), None, *args, **kwargs)

    def evaluate(self, x=None, labels=None, *args, **kwargs):
        """Mean negative conditional ELBO (sampled z) on ``x`` with its ``labels``."""
        return super().evaluate(self._with_labels(x, labels), None, *args, **kwargs)

    def predict(self, x, *args, labels=None, **kwargs):
        if isinstance(x, (list, tuple)) and len(x) == 2 and labels is None:
            x, labels = x
        return keras.Model.predict(self, self._with_labels(x, labels), *args, **kwargs)

    def _check_data(self, x, what):
        if isinstance(x, list):  # [x, one_hot] made by _with_labels: x is checked there
            return
        super()._check_data(x, what)

    # ------------------------------------------------------------- API
    def encode(self, x, labels=None, sample=False, seed=None, batch_size=None):
        """Posterior means of ``x`` given its labels (or one posterior sample with ``sample=True``)."""
        mean, log_var = inference.run(self.encoder, self._with_labels(x, labels), batch_size)
        if not sample:
            return mean
        rng = np.random.default_rng(seed)
        return (mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)).astype("float32")

    def encode_distribution(self, x, labels=None, batch_size=None):
        return tuple(inference.run(self.encoder, self._with_labels(x, labels), batch_size))

    def decode(self, z, labels=None, batch_size=None):
        """Data-space outputs of codes ``z`` for the classes ``labels``."""
        z = self._as_batch(z, "z", (self.latent_dim,))
        if labels is None:
            raise ValueError(f"{self.name}: decode(z, labels) needs the class of each code")
        return self._to_data_space(inference.run(self.decoder, [z, self.one_hot(labels, len(z))], batch_size))

    def reconstruct(self, x, labels=None, batch_size=None):
        x_and_y = self._with_labels(x, labels)
        return self.decode(self.encode(*x_and_y, batch_size=batch_size), x_and_y[1], batch_size=batch_size)

    #: a Gaussian fitted to codes is a prior over a code for *every* class; this model's codes
    #: mean something only beside their label, so it samples from N(0, I) per class
    supports_latent_prior = False

    def fit_latent_prior(self, x, batch_size=None):
        raise NotImplementedError(f"{self.name}: a class-conditional VAE samples each class from N(0, I) "
                                  "(sample(n, labels=...)); it has no fitted latent prior")

    def sample(self, n, labels=None, seed=None, temperature=1.0):
        """``n`` new examples of the classes ``labels`` (one index for all, or ``n`` indices).

        Without labels, the classes cycle 0, 1, ..., num_classes - 1.
        """
        if n <= 0:
            raise ValueError(f"n must be a positive integer, got {n}")
        labels = np.arange(n) % self.num_classes if labels is None else labels
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
        return self.decode(z * temperature, labels)

    def interpolate(self, x_a, x_b, steps=8, method="linear", labels=None):
        raise NotImplementedError(f"{self.name}: interpolate between codes with decode(codes, labels); "
                                  "the path between two classes has no single label")

    def log_px_given_z(self, x, z, labels=None):
        raise NotImplementedError("conditional-vae: use evaluate(x, labels) for the conditional ELBO")

    def elbo(self, x, labels=None, samples=1, seed=None, batch_size=256):
        """Per-example conditional ELBO in nats (numpy)."""
        from keras import ops

        from aezoo.models.layers import gaussian_kl

        x, y = self._with_labels(x, labels)
        rng = np.random.default_rng(seed)
        out = []
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            mean, log_var = (ops.convert_to_numpy(t) for t in self.encoder([xb, yb]))
            ll = 0.0
            for _ in range(samples):
                z = (mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)).astype("float32")
                ll = ll - ops.convert_to_numpy(self.likelihood_loss.negative_log_likelihood(
                    ops.convert_to_tensor(xb), self.decoder([z, yb])))
            out.append(ll / samples - ops.convert_to_numpy(gaussian_kl(mean, log_var)))
        return np.concatenate(out)
