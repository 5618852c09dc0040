"""Every headline metric of a preset, measured the same way by its recipe and by ``aezoo eval``.

A recipe's numbers and a user's re-measurement must come from one function, or they
drift apart: ``measure`` loads the named dataset, runs ``evaluate`` (reconstruction,
PCA, linear probe on codes and on raw pixels, ELBO), and adds what some presets lead
with: ``mse_vs_pca``, the importance-sampled NLL, the denoising PSNR gain. Sequence
presets (a ``aezoo.data.sequence_tasks`` task as dataset) are measured by
``sequence_metrics.measure_task``.
"""

import numpy as np

from aezoo.evaluation.metrics import psnr
from aezoo.evaluation.nll import importance_sampled_nll
from aezoo.evaluation.report import evaluate

#: test examples of the reproducibility check a recipe records (``metadata["check"]``)
CHECK_EXAMPLES = 200
#: training examples for the check's PCA baseline and probes: the check re-runs every metric's
#: code path in seconds (fitting probes on the protocol's 10,000 takes minutes per preset)
CHECK_PROBE_TRAIN = 2000


#: relative difference allowed between `aezoo eval --examples N` and the recipe's recorded
#: check (float32 arithmetic may differ across machines; the estimates use fixed seeds)
CHECK_TOLERANCE = 1e-3
#: an accuracy in a check may differ by this many of its examples (one flipped prediction)
ACCURACY_EXAMPLES = 1
#: metrics that train something besides reading the weights (a classifier for fine-tuned
#: accuracy): exact on the backend that recorded the check, but another backend draws other
#: initial weights and batches, so there they must agree within this absolute margin
#: (0.05 = 10 of the check's 200 test examples; TensorFlow vs JAX differed by 0.02)
CROSS_BACKEND_MARGIN = {"finetuned_accuracy": 0.05}


def check_mismatches(check, metrics, backend):
    """The recorded check's metrics that ``metrics`` does not reproduce on ``backend``:
    ``[(name, recorded, measured, allowed)]``; empty when everything reproduces."""
    recorded_on = check.get("backend")
    out = []
    for key, recorded in check["metrics"].items():
        if key not in metrics:
            continue
        measured = metrics[key]
        if key in CROSS_BACKEND_MARGIN and recorded_on and backend != recorded_on:
            allowed = CROSS_BACKEND_MARGIN[key]
        elif key.endswith("accuracy") and check.get("examples"):
            # a count over N examples moves in steps of 1/N: a probe refitted by another
            # scikit-learn or BLAS may flip one borderline example, which 1e-3 cannot absorb
            allowed = max(max(abs(recorded), 1e-9) * CHECK_TOLERANCE, ACCURACY_EXAMPLES / check["examples"] + 1e-9)
        else:
            allowed = max(abs(recorded), 1e-9) * CHECK_TOLERANCE
        if not abs(measured - recorded) <= allowed:
            out.append((key, recorded, measured, allowed))
    return out


def check_command(name, examples=CHECK_EXAMPLES, probe_train=CHECK_PROBE_TRAIN):
    """The ``aezoo eval`` command that reproduces a recorded check."""
    return f"aezoo eval {name} --examples {examples} --probe-train {probe_train}"


def probe_labels(y):
    """Class labels for the linear probe: class ids, or UTKFace's gender; None for faces."""
    if isinstance(y, dict):
        return y.get("gender")
    return y


def denoising_metrics(model, x_clean):
    """PSNR of the corrupted inputs and of their reconstructions (denoising presets).

    The noise is the model's own corruption drawn once with the protocol's seed, so
    every run scores the same noisy images (the layer's own generator moves on per call).
    """
    from aezoo.data import corrupt
    from aezoo.evaluation.protocol import PROTOCOL

    if not hasattr(model, "corruption"):
        raise ValueError(f"{model.name}: denoising metrics need a denoising autoencoder (it has no corruption)")
    noisy = corrupt(x_clean, model.corruption, model.corruption_strength, seed=PROTOCOL["denoising"]["seed"])
    noisy_psnr = psnr(x_clean, noisy)
    denoised_psnr = psnr(x_clean, model.reconstruct(noisy))
    return {"psnr_noisy": noisy_psnr, "psnr_denoised": denoised_psnr, "psnr_gain": denoised_psnr - noisy_psnr}


def measure(model, dataset, *, image_size=None, binarized=False, nll_samples=0, nll_examples=None,
            denoising=False, examples=None, probe_train=10_000, x_train=None, y_train=None, finetune=False, samples=False):
    """``(metrics, protocol)`` of ``model`` on the test split of ``dataset``.

    Args:
        examples: the first N test examples (None: all); the NLL uses
            ``min(nll_examples, examples)`` when both are set.
        probe_train: training examples (the first N) for the PCA baseline and probes.
        x_train, y_train: training data already in memory (else loaded by name).
        finetune: also ``finetuned_accuracy`` (``aezoo.evaluation.finetuned``), on the
            probe's training examples.
        samples: also the Fréchet distances of samples (``aezoo.evaluation.samples``), in the
            PCA space of the probe's training examples.
    """
    from aezoo import data
    from aezoo.data.sequence_tasks import is_task

    if is_task(dataset):  # a sequence preset: the task's own metrics; a check run (examples) skips the baseline
        from aezoo.evaluation.sequence_metrics import measure_task

        return measure_task(model, dataset, examples=examples, probe_train=probe_train, baseline=not examples)
    if x_train is None:
        x_train, y_train = data.load_arrays(dataset, "train", image_size, with_labels=True)
    x_test, y_test = data.load_arrays(dataset, "test", image_size, with_labels=True)
    if hasattr(model, "num_classes"):  # class-conditional: scored on what it draws per class
        return _conditional(model, x_train, y_train, x_test, y_test, binarized, examples, probe_train)
    labels_train, labels_test = probe_labels(y_train), probe_labels(y_test)
    metrics = evaluate(model, x_test, x_train=x_train[:probe_train],
                       y_train=None if labels_train is None else labels_train[:probe_train],
                       y_test=labels_test, binarized=binarized, max_examples=examples)
    protocol = metrics.pop("protocol")
    if model.latent_dim >= int(np.prod(model.data_shape)):
        # overcomplete: PCA with that many components is lossless, so it is no baseline
        for key in ("pca_mse_per_pixel", "pca_squared_error_per_image"):
            metrics.pop(key, None)
        protocol["pca"] = "not applicable: latent_dim >= input size (PCA would be lossless)"
    elif metrics.get("pca_mse_per_pixel"):
        # below 1.0 means the model beats PCA at the same code size: the linear baseline
        metrics["mse_vs_pca"] = metrics["mse_per_pixel"] / metrics["pca_mse_per_pixel"]
    if nll_samples:
        n = min(n for n in (nll_examples, examples, len(x_test)) if n)
        x_nll = x_test[:n]
        if binarized:
            x_nll = data.binarize(x_nll, seed=protocol_seed())
        metrics["nll_is"] = float(np.mean(importance_sampled_nll(model, x_nll, k=nll_samples, seed=0)))
        protocol.update(nll_k=int(nll_samples), nll_examples=int(n))
    if denoising:
        metrics.update(denoising_metrics(model, x_test[: examples or len(x_test)]))
    if finetune and labels_train is not None:
        from aezoo.evaluation.finetuned import finetuned_accuracy
        from aezoo.evaluation.protocol import PROTOCOL, _plain

        n = examples or len(x_test)
        metrics["finetuned_accuracy"] = finetuned_accuracy(model, x_train[:probe_train], labels_train[:probe_train],
                                                           x_test[:n], labels_test[:n])
        protocol["fine_tune"] = _plain(PROTOCOL["fine_tune"])
    if samples:
        from aezoo.evaluation.samples import COMPONENTS, SAMPLES, sample_metrics

        n = min(SAMPLES, examples or len(x_test))
        components = min(COMPONENTS, n // 2)  # fewer for short checks: a covariance needs more images than dims
        metrics.update(sample_metrics(model, x_train[:probe_train], x_test[:n], components=components))
        protocol["samples"] = {"n": int(n), "features": f"first {components} principal components of the training "
                               "images", "distance": "Fréchet (FID's formula)", "seed": 0}
    return metrics, protocol


def _conditional(model, x_train, y_train, x_test, y_test, binarized, examples, probe_train):
    from aezoo import data
    from aezoo.evaluation.conditional import SAMPLES_PER_CLASS, conditional_metrics

    n = examples or len(x_test)
    x_test, y_test = x_test[:n], y_test[:n]
    if binarized:
        x_test = data.binarize(x_test, seed=protocol_seed())
    metrics = conditional_metrics(model, x_train[:probe_train], y_train[:probe_train], x_test, y_test)
    protocol = {"split": "test", "n_test": int(n), "n_train": int(min(probe_train, len(x_train))),
                "binarized": bool(binarized), "samples_per_class": SAMPLES_PER_CLASS,
                "judge": "MLP 784-256-10 on raw pixels (sklearn MLPClassifier, 30 epochs, seed 0), on the training split"}
    return metrics, protocol


def protocol_seed():
    from aezoo.evaluation.protocol import PROTOCOL

    return PROTOCOL["binarization"]["test_seed"]


def measure_preset(model, examples=None, probe_train=None):
    """``measure`` with everything taken from a loaded preset's metadata (``aezoo eval``);
    ``probe_train`` overrides the protocol's training examples for PCA and probes."""
    meta = getattr(model, "preset_metadata", None) or {}
    if meta.get("converted_from"):  # trained elsewhere: measured on real photos, not an aezoo dataset
        from aezoo.evaluation.photo_metrics import photo_metrics, photo_protocol

        return photo_metrics(model), photo_protocol()
    dataset = meta.get("dataset")
    if not dataset:
        raise ValueError(f"{model.name}: the preset's metadata names no dataset to evaluate on")
    protocol = meta.get("protocol") or {}
    recorded = meta.get("metrics") or {}
    return measure(model, dataset, image_size=meta.get("image_size"), binarized=bool(protocol.get("binarized")),
                   nll_samples=int(protocol.get("nll_k") or 0), nll_examples=protocol.get("nll_examples"),
                   denoising="psnr_gain" in recorded, finetune="finetuned_accuracy" in recorded, samples="sample_fd_standard" in recorded,
                   examples=examples,
                   probe_train=int(probe_train or protocol.get("n_train") or 10_000))
