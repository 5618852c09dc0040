"""All metrics of the protocol for one model on one test set."""


import numpy as np
from keras import ops

from aezoo.data.arrays import binarize
from aezoo.evaluation.baselines import _flat, linear_probe, pca_baseline
from aezoo.evaluation.metrics import mse_per_pixel, psnr, squared_error_per_image, ssim, ssim_window
from aezoo.evaluation.nll import importance_sampled_nll
from aezoo.evaluation.protocol import PROTOCOL, _plain

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
        nll_samples > 0), "bpp_estimate" (codecs, in place of PCA: bits per pixel under the
        entropy model, the ideal code length), "protocol": {...}}``. Metrics are Python floats; ELBO and
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
    if model.is_codec:  # its rate, from the entropy model; a code size is no rate, so no PCA at it
        results["bpp_estimate"] = float(np.mean(model.bits_per_pixel(x_test)))
    elif pca and x_train is not None:
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
