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

The modules: ``protocol`` (every choice, once), ``metrics`` (reconstruction), ``nll``
(importance-sampled likelihood), ``baselines`` (PCA, linear and k-NN probes) and ``report`` (``evaluate``:
all of them for one model).
"""

from aezoo.data.arrays import binarize
from aezoo.evaluation.baselines import knn_probe, linear_probe, pca_baseline
from aezoo.evaluation.report import evaluate
from aezoo.evaluation.metrics import mse_per_pixel, psnr, squared_error_per_image, ssim, ssim_window
from aezoo.evaluation.nll import importance_sampled_nll
from aezoo.evaluation.protocol import PROTOCOL

__all__ = [
    "PROTOCOL", "binarize", "evaluate", "importance_sampled_nll", "knn_probe", "linear_probe", "mse_per_pixel", "pca_baseline",
    "psnr", "squared_error_per_image", "ssim", "ssim_window",
]
