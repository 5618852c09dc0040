"""The bars a code must clear: PCA at the same size, and a linear probe (also on raw pixels);
a k-NN probe for maps."""


import numpy as np
from keras import ops

from aezoo.evaluation.metrics import mse_per_pixel, squared_error_per_image
from aezoo.evaluation.protocol import PROTOCOL

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


def _probe_data(z_train, y_train, z_test, y_test):
    """Flattened codes and labels, checked to match in length and code size."""
    z_train, z_test = _flat(z_train), _flat(z_test)
    y_train, y_test = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    if len(z_train) != len(y_train) or len(z_test) != len(y_test):
        raise ValueError(
            f"codes and labels must have the same length, got {len(z_train)} and {len(y_train)} (train), "
            f"{len(z_test)} and {len(y_test)} (test)"
        )
    if z_train.shape[1] != z_test.shape[1]:
        raise ValueError(f"train and test codes differ in size: {z_train.shape[1]} and {z_test.shape[1]}")
    return z_train, y_train, z_test, y_test


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

    z_train, y_train, z_test, y_test = _probe_data(z_train, y_train, z_test, y_test)
    spec = PROTOCOL["linear_probe"]
    probe = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=1.0, solver="lbfgs", max_iter=spec["max_iter"], random_state=seed),
    )
    probe.fit(z_train, y_train)
    return float(probe.score(z_test, y_test))


def knn_probe(z_train, y_train, z_test, y_test, n_neighbors=5):
    """Test accuracy of a k-nearest-neighbour vote on the codes (``PROTOCOL["knn_probe"]``).

    The protocol of the dimensionality-reduction literature (e.g. Parametric UMAP's
    tables): it asks whether neighbours share a class, where the linear probe asks
    whether a straight cut separates them; for a 2-d map the two can differ a lot. The
    codes are not standardised: the vote reads distances in the map as it is drawn.
    """
    import operator

    from sklearn.neighbors import KNeighborsClassifier

    z_train, y_train, z_test, y_test = _probe_data(z_train, y_train, z_test, y_test)
    try:
        k = operator.index(n_neighbors)
    except TypeError:
        raise ValueError(f"n_neighbors must be a whole number, got {n_neighbors!r}") from None
    if not 1 <= k <= len(z_train):
        raise ValueError(f"n_neighbors must be in [1, {len(z_train)}] (the training codes), got {k}")
    spec = PROTOCOL["knn_probe"]
    vote = KNeighborsClassifier(n_neighbors=k, metric=spec["metric"], weights=spec["weights"])
    return float(vote.fit(z_train, y_train).score(z_test, y_test))
