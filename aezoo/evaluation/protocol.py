"""The protocol: the one place where evaluation choices are fixed (see ``aezoo.evaluation``)."""

from types import MappingProxyType


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
    "denoising": MappingProxyType({
        "noise": "the model's own corruption (kind, strength) applied once to the clean test images",
        "seed": 0,
        "psnr_gain": "psnr(clean, reconstruct(noisy)) - psnr(clean, noisy), dB",
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
    "knn_probe": MappingProxyType({
        "features": "model.encode(x), as for the linear probe, not standardised",
        "classifier": "KNeighborsClassifier: majority vote of the k nearest training codes",
        "metric": "euclidean",
        "weights": "uniform",
        "fit_on": "train split",
        "reported_as": "knn_<k>_accuracy, accuracy on the test split",
    }),
    "fine_tune": MappingProxyType({
        "model": "a copy of the encoder, its output averaged over tokens or positions (a code: as is), then "
                 "Dense(classes, softmax); every weight trains",
        "optimizer": "Adam, learning rate 1e-3 with cosine decay to 0, batch 128",
        "epochs": 10,
        "seed": 0,
        "fit_on": "the probe's training examples (train split)",
        "metric": "accuracy on the test split",
    }),
})


def _plain(obj):
    """The protocol as plain, JSON-friendly dicts and lists (for results and metadata)."""
    if isinstance(obj, (dict, MappingProxyType)):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return [_plain(v) for v in obj]
    return obj
