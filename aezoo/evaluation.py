"""Metrics with fixed protocols: reconstruction, likelihood, the PCA baseline, a linear probe.

Published autoencoder numbers move with details that papers often leave out (how a
mean is taken, the SSIM window, fixed vs dynamic binarisation, how many importance
samples). Every such choice is written once, in :data:`PROTOCOL`, and every result of
:func:`evaluate` carries a ``"protocol"`` entry that names what was done, so two
numbers are only compared when their protocols agree.

Everything is computed in numpy (float64) from the models' numpy outputs
(``keras.ops.convert_to_numpy``), so it works on every Keras backend.

Example:
    >>> model = aezoo.build("dense-vae", input_shape=(28, 28, 1), latent_dim=16)
    >>> model.fit(x_train, epochs=10)
    >>> results = evaluate(model, x_test, x_train, y_train, y_test,
    ...                    nll_samples=1000, binarized=True)
    >>> results["nll_is"], results["protocol"]["nll_k"]
"""

import math
from types import MappingProxyType

import numpy as np
from keras import ops
from scipy import ndimage

__all__ = [
    "PROTOCOL",
    "binarize",
    "evaluate",
    "importance_sampled_nll",
    "linear_probe",
    "mse_per_pixel",
    "pca_baseline",
    "psnr",
    "squared_error_per_image",
    "ssim",
]

# ---------------------------------------------------------------------------
# The protocol: the one place where evaluation choices are fixed.
# ---------------------------------------------------------------------------
PROTOCOL = MappingProxyType({
    "name": "aezoo-eval-v1",
    "split": "the dataset's official test split; validation carved from train with a seed",
    "pixel_range": (0.0, 1.0),
    "max_examples": "when given, the first N test examples (in dataset order), never a random subset",
    "mse_per_pixel": "mean over images and pixels (and channels) of (x - x_hat)^2",
    "squared_error_per_image": "sum over pixels of (x - x_hat)^2, mean over images (Hinton & Salakhutdinov, 2006)",
    "psnr": "mean over images of 10*log10(data_range^2 / per-image MSE), dB; data_range = 1",
    "ssim": MappingProxyType({
        "reference": "Wang et al., 2004",
        "window": "gaussian",
        "size": 11,
        "sigma": 1.5,
        "k1": 0.01,
        "k2": 0.03,
        "covariance": "population (weighted), as in the paper",
        "boundary": "scipy.ndimage 'reflect', then the (size-1)/2 border is cropped before averaging",
        "channels": "per channel, averaged; then mean over images",
        "small_images": "when min(height, width) < 11 the window is the largest odd size that fits, "
                        "with sigma scaled to keep sigma/size = 1.5/11",
    }),
    "binarization": MappingProxyType({
        "kind": "stochastic, once, seeded: x_bin = (u < x), u ~ U[0, 1)",
        "test_seed": 0,
        "train_seed": 1,
        "note": "fixed vs dynamic binarisation moves NLL by about 2 nats (Burda et al., 2016)",
    }),
    "elbo": MappingProxyType({
        "samples": 1,
        "seed": 0,
        "kl": "analytic",
        "reduction": "mean over examples of the per-example ELBO, nats (sum over pixels)",
    }),
    "nll_is": MappingProxyType({
        "estimator": "-[logsumexp_i (log p(x|z_i) + log N(z_i; 0, I) - log q(z_i|x)) - log k], z_i ~ q(z|x)",
        "seed": 0,
        "recommended_k": 1000,
        "reduction": "mean over examples, nats",
        "noise": "per-example generators seeded with (seed, index): independent of batching",
    }),
    "pca": MappingProxyType({
        "n_components": "model.latent_dim, clamped to min(n_train, n_features)",
        "fit_on": "train split (the same binarisation as the test split when binarized)",
        "solver": "sklearn PCA, svd_solver='auto', random_state=0",
    }),
    "linear_probe": MappingProxyType({
        "features": "model.encode(x): deterministic codes, posterior means for VAEs",
        "classifier": "StandardScaler + multinomial LogisticRegression (lbfgs, C=1.0)",
        "max_iter": 1000,
        "random_state": 0,
        "fit_on": "train split",
        "metric": "accuracy on the test split",
        "baseline": "raw_pixel_probe_accuracy: the same probe on the flattened pixels, same examples",
    }),
})


def _plain(obj):
    """The protocol as plain, JSON-friendly dicts and lists (for results and metadata)."""
    if isinstance(obj, (dict, MappingProxyType)):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return [_plain(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------
# Reconstruction metrics
# ---------------------------------------------------------------------------
def _pair(x, x_hat):
    """Both arrays as float64, same shape, batch axis first; clear errors otherwise."""
    x = np.asarray(ops.convert_to_numpy(x), dtype=np.float64)
    x_hat = np.asarray(ops.convert_to_numpy(x_hat), dtype=np.float64)
    if x.shape != x_hat.shape:
        raise ValueError(f"x and x_hat must have the same shape, got {x.shape} and {x_hat.shape}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty batch of shape (batch, ...), got shape {x.shape}")
    return x, x_hat


def _per_image_squared_error(x, x_hat):
    return np.sum(np.square(x - x_hat).reshape(len(x), -1), axis=1)


def mse_per_pixel(x, x_hat):
    """Mean squared error over all images, pixels and channels.

    The size-independent reconstruction error, comparable across image sizes.
    """
    x, x_hat = _pair(x, x_hat)
    return float(np.mean(np.square(x - x_hat)))


def squared_error_per_image(x, x_hat):
    """Squared error summed over the pixels of each image, averaged over images.

    The measure of Hinton & Salakhutdinov (2006), so our numbers sit next to theirs.
    """
    x, x_hat = _pair(x, x_hat)
    return float(np.mean(_per_image_squared_error(x, x_hat)))


def psnr(x, x_hat, data_range=1.0):
    """Mean over images of the per-image peak signal-to-noise ratio, in dB.

    Averaging per-image PSNR (not the PSNR of the mean MSE) is the common convention
    for image benchmarks. A perfectly reconstructed image has infinite PSNR, and so
    then does the mean.
    """
    x, x_hat = _pair(x, x_hat)
    mse = _per_image_squared_error(x, x_hat) / (x[0].size)
    with np.errstate(divide="ignore"):
        per_image = 10.0 * np.log10(data_range**2 / mse)
    return float(np.mean(per_image))


def ssim_window(height, width):
    """(size, sigma) of the SSIM Gaussian window for images of this size.

    11x11, sigma 1.5 (Wang et al., 2004) when it fits; for smaller images the largest
    odd size that fits, with sigma scaled by size/11 so the window keeps its shape.
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=sigma,
    use_sample_covariance=False)`` uses the same window for these sigmas.
    """
    spec = PROTOCOL["ssim"]
    size, sigma = spec["size"], spec["sigma"]
    side = min(int(height), int(width))
    if side < size:
        size = side if side % 2 else side - 1
        sigma = spec["sigma"] * size / spec["size"]
    if size < 1:
        raise ValueError(f"images of {height}x{width} are too small for SSIM")
    return size, sigma


def _as_images(x):
    """(batch, H, W) -> (batch, H, W, 1); (batch, H, W, C) as is; anything else refused."""
    if x.ndim == 3:
        return x[..., None]
    if x.ndim == 4:
        return x
    raise ValueError(
        f"ssim needs images of shape (batch, height, width) or (batch, height, width, channels), "
        f"got shape {x.shape}"
    )


def _ssim_per_image(x, y, data_range):
    """SSIM per image (mean over the cropped map and the channels), float64."""
    spec = PROTOCOL["ssim"]
    size, sigma = ssim_window(x.shape[1], x.shape[2])
    radius = (size - 1) // 2
    # filter over height and width only; sigma 0 leaves batch and channel axes alone
    sig = (0.0, sigma, sigma, 0.0)

    def blur(a):
        return ndimage.gaussian_filter(a, sigma=sig, mode="reflect", radius=(0, radius, radius, 0))

    c1 = (spec["k1"] * data_range) ** 2
    c2 = (spec["k2"] * data_range) ** 2
    ux, uy = blur(x), blur(y)
    vx = blur(x * x) - ux * ux
    vy = blur(y * y) - uy * uy
    vxy = blur(x * y) - ux * uy
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    h, w = x.shape[1], x.shape[2]
    s = s[:, radius : h - radius, radius : w - radius, :]
    return s.reshape(len(s), -1, s.shape[-1]).mean(axis=1).mean(axis=1)


def ssim(x, x_hat, data_range=1.0, batch_size=256):
    """Mean structural similarity (Wang et al., 2004) over images, in [-1, 1].

    11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, population covariances,
    computed per channel and averaged, reflect boundary with the window radius cropped
    (the reference implementation's and scikit-image's conventions). Images smaller
    than 11 px get the largest odd window that fits, sigma scaled alike
    (:func:`ssim_window`). Accepts ``(batch, H, W)`` or ``(batch, H, W, C)``;
    computed in chunks of ``batch_size`` images to bound memory.
    """
    x, x_hat = _pair(x, x_hat)
    x, x_hat = _as_images(x), _as_images(x_hat)
    per_image = [
        _ssim_per_image(x[i : i + batch_size], x_hat[i : i + batch_size], data_range)
        for i in range(0, len(x), batch_size)
    ]
    return float(np.mean(np.concatenate(per_image)))


# ---------------------------------------------------------------------------
# Likelihood
# ---------------------------------------------------------------------------
_LOG_2PI = math.log(2.0 * math.pi)


def _log_standard_normal(z):
    """log N(z; 0, I), summed over the last axis."""
    return -0.5 * np.sum(np.square(z) + _LOG_2PI, axis=-1)


def _log_diag_normal(z, mean, log_var):
    """log N(z; mean, diag(exp(log_var))), summed over the last axis."""
    return -0.5 * np.sum(_LOG_2PI + log_var + np.square(z - mean) * np.exp(-log_var), axis=-1)


def binarize(x, seed):
    """One fixed, seeded stochastic binarisation: ``(u < x)`` with ``u ~ U[0, 1)``.

    Idempotent on data that is already binary. Use the protocol's seeds
    (``PROTOCOL["binarization"]``) so every model sees the same binary test set.
    """
    x = np.asarray(x)
    u = np.random.default_rng(seed).random(x.shape)
    return (u < x).astype("float32")


def importance_sampled_nll(model, x, k=1000, batch_size=4096, seed=0):
    """Per-example importance-sampled estimate of -log p(x), in nats (numpy, float64).

    log p(x) ~= logsumexp_i [log p(x|z_i) + log N(z_i; 0, I) - log q(z_i|x)] - log k
    with z_i ~ q(z|x) (Burda et al., 2016). It is a stochastic upper bound on -log p(x)
    that tightens as ``k`` grows: k = 1 is the (sampled) negative ELBO. Say which k you
    report; ``PROTOCOL["nll_is"]["recommended_k"]`` is 1000.

    Args:
        model: a ``VariationalAutoencoder``.
        x: data, shape ``(n, *model.data_shape)``, already binarised if that is the protocol.
        k: importance samples per example.
        batch_size: the most decoder evaluations (examples x samples) at once; memory
            stays bounded for any ``k`` (a streaming logsumexp over chunks of samples).
        seed: noise seed; example ``j`` draws from ``default_rng([seed, j])``, so the
            result does not depend on ``batch_size``.
    """
    from aezoo.models.variational import VariationalAutoencoder

    if not isinstance(model, VariationalAutoencoder):
        raise ValueError(f"importance_sampled_nll needs a VariationalAutoencoder, got {type(model).__name__}")
    if int(k) < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    k, batch_size = int(k), int(batch_size)
    x = model._as_batch(x)
    samples_per_chunk = min(k, batch_size)
    examples_per_chunk = max(1, batch_size // samples_per_chunk)
    latent = model.latent_dim
    out = np.empty(len(x), dtype=np.float64)

    for start in range(0, len(x), examples_per_chunk):
        xb = x[start : start + examples_per_chunk]
        b = len(xb)
        mean, log_var = model.encoder(xb)
        mean = ops.convert_to_numpy(mean).astype(np.float64)
        log_var = ops.convert_to_numpy(log_var).astype(np.float64)
        rngs = [np.random.default_rng([seed, start + j]) for j in range(b)]
        running_max = np.full(b, -np.inf)
        running_sum = np.zeros(b)
        for done in range(0, k, samples_per_chunk):
            s = min(samples_per_chunk, k - done)
            eps = np.stack([rng.standard_normal((s, latent)) for rng in rngs], axis=1)  # (s, b, L)
            z = mean + np.exp(0.5 * log_var) * eps
            x_rep = np.broadcast_to(xb[None], (s,) + xb.shape).reshape((s * b,) + xb.shape[1:])
            log_px = ops.convert_to_numpy(
                model.log_px_given_z(x_rep, z.reshape(s * b, latent).astype("float32"))
            ).astype(np.float64).reshape(s, b)
            log_w = log_px + _log_standard_normal(z) - _log_diag_normal(z, mean, log_var)
            # streaming logsumexp over the sample axis
            new_max = np.maximum(running_max, log_w.max(axis=0))
            running_sum = running_sum * np.exp(running_max - new_max) + np.exp(log_w - new_max).sum(axis=0)
            running_max = new_max
        out[start : start + b] = -(running_max + np.log(running_sum) - math.log(k))
    return out


# ---------------------------------------------------------------------------
# Baseline and probe
# ---------------------------------------------------------------------------
def _flat(x):
    x = np.asarray(ops.convert_to_numpy(x))
    return x.reshape(len(x), -1)


def pca_baseline(x_train, x_test, n_components):
    """Reconstruction error of PCA with ``n_components`` fitted on ``x_train``.

    PCA is the optimal *linear* autoencoder of that code size, so it is the baseline
    every autoencoder of the same latent size must beat. Returns
    ``{"mse_per_pixel", "squared_error_per_image", "n_components"}``.
    """
    from sklearn.decomposition import PCA

    xtr, xte = _flat(x_train), _flat(x_test)
    if xtr.shape[1] != xte.shape[1]:
        raise ValueError(f"x_train and x_test have different example shapes: {np.shape(x_train)[1:]} and {np.shape(x_test)[1:]}")
    n_components = int(n_components)
    if not 1 <= n_components <= min(xtr.shape):
        raise ValueError(
            f"n_components must be in [1, min(n_train, n_features)] = [1, {min(xtr.shape)}], got {n_components}"
        )
    pca = PCA(n_components=n_components, svd_solver="auto", random_state=0).fit(xtr)
    x_hat = pca.inverse_transform(pca.transform(xte))
    return {
        "mse_per_pixel": mse_per_pixel(xte, x_hat),
        "squared_error_per_image": squared_error_per_image(xte, x_hat),
        "n_components": n_components,
    }


def linear_probe(z_train, y_train, z_test, y_test, seed=0):
    """Test accuracy of a standardised multinomial logistic regression on the codes.

    The feature-quality protocol: how linearly separable the classes are in latent
    space. Features are standardised (fit on train) so the fixed C = 1.0 means the same
    at every latent scale; ``max_iter`` is fixed so results do not depend on luck in
    convergence settings.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    z_train, z_test = _flat(z_train), _flat(z_test)
    y_train, y_test = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    if len(z_train) != len(y_train) or len(z_test) != len(y_test):
        raise ValueError(
            f"codes and labels must have the same length, got {len(z_train)} and {len(y_train)} (train), "
            f"{len(z_test)} and {len(y_test)} (test)"
        )
    if z_train.shape[1] != z_test.shape[1]:
        raise ValueError(f"train and test codes differ in size: {z_train.shape[1]} and {z_test.shape[1]}")
    spec = PROTOCOL["linear_probe"]
    probe = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=1.0, solver="lbfgs", max_iter=spec["max_iter"], random_state=seed),
    )
    probe.fit(z_train, y_train)
    return float(probe.score(z_test, y_test))


# ---------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------
def evaluate(model, x_test, x_train=None, y_train=None, y_test=None, nll_samples=0, binarized=False,
             pca=True, max_examples=None, split="test"):
    """All metrics of the protocol for one model on one test set, as a flat dict.

    Args:
        model: any aezoo autoencoder.
        x_test: test data in [0, 1], shape ``(n, *model.data_shape)``.
        x_train: training data; needed for the PCA baseline and the linear probe
            (without it, those are skipped).
        y_train, y_test: labels; when both are given (with ``x_train``) the linear
            probe runs on ``model.encode`` codes.
        nll_samples: importance samples k for ``nll_is`` (VAEs only); 0 skips it.
        binarized: apply the protocol's fixed seeded binarisation to ``x_test`` (and,
            with another seed, to ``x_train``) before everything else; every metric is
            then computed on the binary data.
        pca: compute the PCA baseline at ``model.latent_dim`` components.
        max_examples: evaluate on the first ``max_examples`` test examples only.
        split: the name of the split ``x_test`` comes from, recorded in the protocol.

    Returns:
        ``{"mse_per_pixel", "squared_error_per_image", "psnr", "ssim" (image data
        only), "pca_mse_per_pixel", "pca_squared_error_per_image" (with x_train),
        "linear_probe_accuracy" (with labels), "elbo" and "nll_is" (VAEs; nll_is when
        nll_samples > 0), "protocol": {...}}``. Metrics are Python floats; ELBO and
        NLL are per-example means in nats.
    """
    from aezoo.models.variational import VariationalAutoencoder

    is_vae = isinstance(model, VariationalAutoencoder)
    if nll_samples and not is_vae:
        raise ValueError(f"nll_samples > 0 needs a VariationalAutoencoder, got {type(model).__name__}")
    labels_given = (y_train is not None, y_test is not None)
    if any(labels_given) and not (all(labels_given) and x_train is not None):
        raise ValueError("the linear probe needs x_train, y_train and y_test together")

    x_test = np.asarray(ops.convert_to_numpy(x_test), dtype="float32")
    if max_examples is not None:
        x_test = x_test[: int(max_examples)]
        y_test = None if y_test is None else np.asarray(y_test)[: int(max_examples)]
    if x_train is not None:
        x_train = np.asarray(ops.convert_to_numpy(x_train), dtype="float32")
    spec = PROTOCOL["binarization"]
    if binarized:
        x_test = binarize(x_test, spec["test_seed"])
        if x_train is not None:
            x_train = binarize(x_train, spec["train_seed"])

    x_hat = model.reconstruct(x_test)
    results = {
        "mse_per_pixel": mse_per_pixel(x_test, x_hat),
        "squared_error_per_image": squared_error_per_image(x_test, x_hat),
        "psnr": psnr(x_test, x_hat),
    }
    window = None
    if x_test.ndim in (3, 4):
        results["ssim"] = ssim(x_test, x_hat)
        size, sigma = ssim_window(x_test.shape[1], x_test.shape[2])
        window = f"{size}x{size} gaussian, sigma={sigma:.4g}"

    n_components = None
    if pca and x_train is not None:
        n_components = min(int(model.latent_dim), *_flat(x_train).shape)
        baseline = pca_baseline(x_train, x_test, n_components)
        results["pca_mse_per_pixel"] = baseline["mse_per_pixel"]
        results["pca_squared_error_per_image"] = baseline["squared_error_per_image"]

    if all(labels_given):
        seed = PROTOCOL["linear_probe"]["random_state"]
        results["linear_probe_accuracy"] = linear_probe(model.encode(x_train), y_train, model.encode(x_test),
                                                        y_test, seed=seed)
        # the bar a code must clear to be called a feature: the same probe on the pixels
        results["raw_pixel_probe_accuracy"] = linear_probe(x_train, y_train, x_test, y_test, seed=seed)

    if is_vae:
        elbo_spec = PROTOCOL["elbo"]
        results["elbo"] = float(np.mean(model.elbo(x_test, samples=elbo_spec["samples"], seed=elbo_spec["seed"])))
        if nll_samples:
            results["nll_is"] = float(np.mean(
                importance_sampled_nll(model, x_test, k=nll_samples, seed=PROTOCOL["nll_is"]["seed"])
            ))

    results["protocol"] = {
        "name": PROTOCOL["name"],
        "split": split,
        "n_examples": int(len(x_test)),
        "n_train": None if x_train is None else int(len(x_train)),
        "binarized": bool(binarized),
        "binarization": _plain(spec) if binarized else None,
        "ssim_window": window,
        "pca_components": n_components,
        "elbo_samples": PROTOCOL["elbo"]["samples"] if is_vae else None,
        "nll_k": int(nll_samples) if (is_vae and nll_samples) else None,
        "definitions": _plain(PROTOCOL),
    }
    return results
