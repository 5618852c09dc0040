"""How close a VAE's samples are to real data: a Fréchet distance in PCA space.

FID (Heusel et al. 2017) compares the mean and covariance of two image sets in an
Inception network's features. aezoo ships no Inception weights and must run offline, so
the features here are the first ``components`` principal components of the *training*
images: the distance is computed the same way, in a space any user can rebuild from the
data alone. It is only comparable between models and priors on the same dataset and
protocol, never with published FIDs. Two reference points come with it: test images
against held-out training images (the floor: the two splits' own difference) and
test images against their reconstructions (what the decoder's blur alone costs).
"""

import numpy as np

#: principal components of the training images that span the feature space
COMPONENTS = 64
#: samples drawn per prior (and the reference sets' size)
SAMPLES = 1000


def frechet_distance(features_a, features_b):
    """||mu_a - mu_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)) between two feature sets (n, d)."""
    from scipy import linalg

    a, b = np.asarray(features_a, dtype="float64"), np.asarray(features_b, dtype="float64")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"feature sets must be (n >= 2, d) with the same d, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(root)):  # a singular product: offset both covariances, as FID's code does
        offset = 1e-6 * np.eye(len(cov_a))
        root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(root):
        if np.max(np.abs(root.imag)) > 1e-3 * max(np.max(np.abs(root.real)), 1e-12):
            raise ValueError("Fréchet distance: the covariance product has no real square root "
                             "(too few examples for the feature size?)")
        root = root.real  # round-off
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root))


def sample_metrics(model, x_train, x_test, samples=SAMPLES, components=COMPONENTS, seed=0):
    """``{"sample_fd_standard", "sample_fd_fitted" (when the model has a fitted prior),
    "reconstruction_fd", "train_test_fd"}``: Fréchet distances to ``x_test`` in the PCA space
    of ``x_train``, each set ``min(samples, len(x_test))`` images (lower is closer)."""
    from sklearn.decomposition import PCA

    from aezoo.evaluation.baselines import _flat as flat

    n = min(samples, len(x_test))
    if n <= components or len(x_train) < components + n:
        raise ValueError(f"sample metrics in {components} dimensions need more than {components} test images "
                         f"and {components} + {n} training images, got {len(x_test)} and {len(x_train)}")
    # PCA on training images that are not the held-out reference set below
    pca = PCA(n_components=components, random_state=seed).fit(flat(x_train[n:]))
    reference = pca.transform(flat(x_test[:n]))
    fd = lambda x: frechet_distance(pca.transform(flat(x)), reference)  # noqa: E731
    out = {"sample_fd_standard": fd(model.sample(n, seed=seed, prior="standard")),
           "reconstruction_fd": fd(model.reconstruct(x_test[:n])),
           "train_test_fd": fd(x_train[:n])}
    if getattr(model, "latent_prior", None) is not None:
        out["sample_fd_fitted"] = fd(model.sample(n, seed=seed, prior="fitted"))
    return out
