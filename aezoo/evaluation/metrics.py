"""Reconstruction metrics: MSE, squared error per image, PSNR, SSIM (numpy, float64)."""


import numpy as np
from keras import ops
from scipy import ndimage

from aezoo.evaluation.protocol import PROTOCOL

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
