"""How a converted latent-diffusion autoencoder is measured: reconstruction PSNR of real
photographs (``aezoo.data.photos``) at the sizes such models are used at.

There is no aezoo dataset behind a converted checkpoint (it was trained elsewhere, on
data we do not have), so its preset records these numbers as its check, and
``aezoo eval <preset>`` re-measures them the same way.
"""

from aezoo.data.photos import NAMES, photos
from aezoo.evaluation.metrics import psnr

SIZES = (256, 512)


def photo_metrics(model, sizes=SIZES):
    """``{"psnr_<size>": mean over the photos, "psnr_<size>_<photo>": each}`` of ``model.reconstruct``."""
    metrics = {}
    for size in sizes:
        x = photos(size)
        x_hat = model.reconstruct(x, batch_size=1)
        each = [psnr(x[i:i + 1], x_hat[i:i + 1]) for i in range(len(x))]
        metrics[f"psnr_{size}"] = float(sum(each) / len(each))
        metrics.update({f"psnr_{size}_{name}": value for name, value in zip(NAMES, each)})
    return metrics


def photo_protocol(sizes=SIZES):
    return {"images": list(NAMES), "sizes": list(sizes),
            "preprocessing": "square centre crop, Lanczos resize, RGB in [0, 1] (aezoo.data.photos)",
            "metric": "PSNR of model.reconstruct (decode of encode, clamped to [0, 1]), per photo, then the mean"}
