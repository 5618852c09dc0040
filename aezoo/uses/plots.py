"""Figures people would rather look at than read: grids, strips, the demo sheet.

Headless matplotlib (Agg). Every function writes a PNG atomically (temp file, rename)
and returns its path.
"""

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def image_grid(images, columns=8, pad=2):
    """Tile ``(n, h, w[, c])`` images in [0, 1] into one ``(H, W, 3)`` array, white gaps."""
    images = np.clip(np.asarray(images, dtype="float32"), 0.0, 1.0)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"images must have shape (n, height, width[, channels]), got {images.shape}")
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    n, h, w, _ = images.shape
    columns = max(1, min(columns, n))
    rows = int(np.ceil(n / columns))
    grid = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad, 3), "float32")
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = image
    return grid


def save_panels(path, panels, title=None, scale=None):
    """Stack titled image grids vertically into one PNG. ``panels``: [(title, grid), ...]."""
    plt = _pyplot()
    widths = [grid.shape[1] for _, grid in panels]
    heights = [grid.shape[0] for _, grid in panels]
    scale = scale or max(1.0, 640 / max(widths))
    dpi = 100
    fig_w = max(widths) * scale / dpi
    fig_h = (sum(heights) * scale + 28 * len(panels) + (30 if title else 0)) / dpi
    fig, axes = plt.subplots(len(panels), 1, figsize=(fig_w, fig_h), dpi=dpi,
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (panel_title, grid) in zip(axes[:, 0], panels):
        ax.imshow(grid, interpolation="nearest")
        ax.set_title(panel_title, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    _atomic_savefig(fig, path, dpi)
    plt.close(fig)
    return path


def finish_figure(fig, path, title=None, title_size=11, dpi=100):
    """Title, tight layout, atomic PNG write, close: every figure's last step. Returns ``path``."""
    if title:
        fig.suptitle(title, fontsize=title_size)
    fig.tight_layout()
    _atomic_savefig(fig, path, dpi)
    _pyplot().close(fig)
    return path


def _atomic_savefig(fig, path, dpi):
    from aezoo.io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def reconstruction_grid(model, x, path, columns=8):
    """Inputs (top) and their reconstructions (bottom)."""
    x = np.asarray(x, "float32")[:columns]
    return save_panels(path, [("inputs", image_grid(x, columns)),
                              ("reconstructions", image_grid(model.reconstruct(x), columns))])


def _prior_label(model):
    """What ``model.sample`` draws from by default, for panel titles."""
    if getattr(model, "latent_prior", None) is not None:
        return "a Gaussian fitted to the training codes"
    return "the prior N(0, I)"


def sample_grid(model, path, n=16, seed=0, columns=8):
    """Decoded draws from the prior (VAEs)."""
    return save_panels(path, [(f"{n} samples from {_prior_label(model)} (seed {seed})",
                               image_grid(model.sample(n, seed=seed), columns))])


def interpolation_strip(model, x_a, x_b, path, steps=8):
    method = "slerp" if hasattr(model, "sample") else "linear"
    strip = model.interpolate(x_a, x_b, steps=steps, method=method)
    return save_panels(path, [(f"{method} interpolation", image_grid(strip, steps))])


def class_samples(model, path, per_class=8, seed=0, title=None, class_names=None):
    """A conditional model's draws on request: one row of ``per_class`` samples per class."""
    rows = []
    for c in range(model.num_classes):
        name = class_names[c] if class_names else str(c)
        rows.append((f"{name}: sample(n, labels={c})", image_grid(model.sample(per_class, labels=c, seed=seed + c),
                                                                  per_class)))
    return save_panels(path, rows, title=title)


def demo_figure(model, path, inputs, seed=0, title=None, attribute=None, strengths=(0.0, 1.0, 2.0, 3.0)):
    """The demo sheet: inputs and reconstructions, prior samples (VAEs), masked fill-in
    (masked autoencoders), an interpolation, and with ``attribute=(name, vector)`` that
    vector added to the first input's code.
    A class-conditional model shows every class drawn on request instead."""
    if hasattr(model, "num_classes"):
        return class_samples(model, path, seed=seed, title=title)
    if len(model.data_shape) == 2:  # (timesteps, channels): series over their reconstructions
        from aezoo.uses.series_plots import series_demo

        return series_demo(model, inputs, path, title=title)
    if model.latent_kind == "spatial":
        return latent_grid_figure(model, path, inputs, title=title)
    inputs = np.asarray(inputs, "float32")[:8]
    columns = len(inputs)
    panels = [("inputs", image_grid(inputs, columns))]
    if getattr(model, "mask_ratio", None):
        # a masked autoencoder's decoder only learned to fill in hidden patches: show that task,
        # not the unmasked reconstruction or an interpolation, which it was never trained on
        filled, hidden = model.reconstruct(inputs, mask_ratio=model.mask_ratio, seed=seed)
        hidden = hidden[..., None]
        shown = inputs * (1.0 - hidden) + 0.5 * hidden  # hidden patches in mid-grey
        pasted = inputs * (1.0 - hidden) + filled * hidden  # visible patches kept, hidden ones predicted
        panels += [(f"{model.mask_ratio:.0%} of the patches hidden (grey; seed {seed})", image_grid(shown, columns)),
                   ("hidden patches predicted from the visible ones", image_grid(pasted, columns))]
        return save_panels(path, panels, title=title)
    panels.append(("reconstructions", image_grid(model.reconstruct(inputs), columns)))
    if hasattr(model, "sample"):
        # seed + 1: presets without demo inputs show prior samples drawn with seed 0 as inputs
        panels.append((f"samples from {_prior_label(model)} (seed {seed + 1})",
                       image_grid(model.sample(2 * columns, seed=seed + 1), columns)))
        method = "slerp"
    else:
        method = "linear"
    if len(inputs) >= 2:
        strip = model.interpolate(inputs[0], inputs[1], steps=columns, method=method)
        panels.append((f"{method} interpolation between the first two inputs", image_grid(strip, columns)))
    if attribute is not None:
        from aezoo.uses.latent import apply_attribute

        name, vector = attribute
        sweep = apply_attribute(model, inputs[:1], vector, strengths)[0]
        label = ", ".join(f"{s:+g}" for s in strengths)
        panels.append((f"'{name}' vector added to the first input's code, strength {label}",
                       image_grid(sweep, len(strengths))))
    return save_panels(path, panels, title=title)


def latent_grid_figure(model, path, inputs, title=None, columns=8):
    """A latent-diffusion autoencoder at work: a photo, each channel of its latents as a grey
    image (scaled to that channel's range), and its reconstruction."""
    x = np.asarray(inputs, "float32")[:1]
    z = model.encode(x, batch_size=1)[0]  # (h, w, channels)
    lo, hi = z.min(axis=(0, 1)), z.max(axis=(0, 1))
    channels = np.moveaxis((z - lo) / np.maximum(hi - lo, 1e-8), -1, 0)  # (channels, h, w)
    f = model.downsampling_factor
    channels = np.repeat(np.repeat(channels, f // 2, axis=1), f // 2, axis=2)  # a readable size on the page
    x_hat = model.reconstruct(x, batch_size=1)
    mse = float(np.mean(np.square(x_hat - x)))
    psnr = 10 * np.log10(1.0 / mse) if mse > 0 else float("inf")
    h, w = x.shape[1:3]
    panels = [(f"input and reconstruction ({h}x{w}; PSNR {psnr:.2f} dB)", image_grid(np.concatenate([x, x_hat]), 2)),
              (f"its latents: {z.shape[-1]} channels of {z.shape[0]}x{z.shape[1]} (1/{f} of the image), "
               "each scaled to its own range", image_grid(channels, columns))]
    return save_panels(path, panels, title=title, scale=1.0)


def attribute_sweep(sweep, strengths, path, title=None):
    """Rows of decoded ``code + s * vector`` (from ``latent.apply_attribute``), one column per s."""
    sweep = np.asarray(sweep)
    n, k = sweep.shape[:2]
    label = "attribute strength " + ", ".join(s if isinstance(s, str) else f"{s:+g}" for s in strengths) \
        + " (left to right)"
    return save_panels(path, [(label, image_grid(sweep.reshape((n * k,) + sweep.shape[2:]), k))], title=title)


def latent_map(model, x, labels, path, grid=15, span=3.0, class_names=None):
    """Codes of ``x`` coloured by label, beside the decoded grid over the latent plane.

    For a 2-d latent the scatter shows the codes themselves and the grid decodes
    [-span, span]^2; for larger latents the scatter is a PCA projection of the codes
    (and no grid, since a plane of a larger space does not decode faithfully).
    """
    plt = _pyplot()
    z = model.encode(x)
    labels = np.asarray(labels)
    two_d = model.latent_dim == 2
    if not two_d:
        from sklearn.decomposition import PCA

        z = PCA(2, random_state=0).fit_transform(z)
    fig, axes = plt.subplots(1, 2 if two_d else 1, figsize=(12 if two_d else 6, 6), dpi=100, squeeze=False)
    ax = axes[0, 0]
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=3, alpha=0.7)
    ax.set_title("test-set codes" + ("" if two_d else " (PCA projection)"))
    handles, _ = points.legend_elements()
    names = class_names or [str(c) for c in np.unique(labels)]
    ax.legend(handles, names[: len(handles)], fontsize=7, markerscale=1.5, loc="best")
    if two_d:
        ticks = np.linspace(-span, span, grid, dtype="float32")
        codes = np.array([[a, b] for b in ticks[::-1] for a in ticks], dtype="float32")
        images = model.decode(codes)
        axes[0, 1].imshow(image_grid(images, grid, pad=0), extent=(-span, span, -span, span))
        axes[0, 1].set_title("decoded latent plane")
        ax.set_xlim(-span, span)
        ax.set_ylim(-span, span)
    finish_figure(fig, path)
    return path


def attribute_map(model, x, attributes, path, grid=12, span=3.0, title=None):
    """The seeds' face map: the decoded 2-d latent plane, and beside it the codes of ``x``
    coloured by each binary attribute (``{"Male": 0/1 array, ...}``), on the same axes.

    Only model outputs and code positions are drawn, never the images ``x`` themselves.
    """
    if model.latent_dim != 2:
        raise ValueError(f"attribute_map needs a 2-d latent, got latent_dim={model.latent_dim}")
    plt = _pyplot()
    z = model.encode(x)
    ticks = np.linspace(-span, span, grid, dtype="float32")
    codes = np.array([[a, b] for b in ticks[::-1] for a in ticks], dtype="float32")
    plane = image_grid(model.decode(codes), grid, pad=0)
    n = 1 + len(attributes)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.4), dpi=100, squeeze=False)
    axes[0, 0].imshow(plane, extent=(-span, span, -span, span))
    axes[0, 0].set_title("decoded latent plane", fontsize=10)
    for ax, (name, values) in zip(axes[0, 1:], attributes.items()):
        values = np.asarray(values).astype(bool)
        if len(values) != len(z):
            raise ValueError(f"attribute {name!r} has {len(values)} values for {len(z)} examples")
        ax.scatter(z[~values, 0], z[~values, 1], s=4, alpha=0.6, c="tab:blue", label=f"not {name}")
        ax.scatter(z[values, 0], z[values, 1], s=4, alpha=0.6, c="tab:orange", label=name)
        ax.set_xlim(-span, span)
        ax.set_ylim(-span, span)
        ax.set_aspect("equal")
        ax.legend(fontsize=7, markerscale=2, loc="lower right")
        ax.set_title(f"test codes by {name}", fontsize=10)
    return finish_figure(fig, path, title)


def training_curves(csv_path, path):
    """Loss (and any other logged column) per epoch from a training run's epochs.csv."""
    import csv

    plt = _pyplot()
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{csv_path} has no epochs logged")
    epochs = [int(r["epoch"]) + 1 for r in rows]
    columns = [c for c in rows[0] if c != "epoch"]
    fig, axes = plt.subplots(1, len(columns), figsize=(4 * len(columns), 3), dpi=100, squeeze=False)
    for ax, column in zip(axes[0], columns):
        ax.plot(epochs, [float(r[column]) for r in rows], marker="o")
        ax.set_xlabel("epoch")
        ax.set_title(column)
    return finish_figure(fig, path)
