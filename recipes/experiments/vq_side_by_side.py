"""VQ-VAE on MNIST, three settings trained one after another by the same runner:

1. keras.io's example as published: 128 codes of 16 dimensions, codebook loss (no EMA),
   no restarts, linear output and MSE, 30 epochs, batch 128, Adam;
2. pythae's code budget on the same network: 256 codes, EMA updates, no restarts
   (sigmoid output and cross-entropy, as 3);
3. ``recipes/vq_vae_mnist.py``: 256 codes, EMA and dead-code restarts (the preset).

Each row: test MSE per pixel, squared error per image (pythae's training metric), and
codebook usage and perplexity over the test set.

    python recipes/experiments/vq_side_by_side.py -o weights/figures/vq_side_by_side.json

``--bundled`` takes row 3 from the bundled ``vq-vae-mnist`` (trained by that same recipe,
its metrics re-measured here) instead of training it again: 2 trainings, not 3.
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aezoo import data  # noqa: E402
from aezoo.io import atomic_write_text  # noqa: E402
from aezoo.training.recipe import Recipe, load_recipe  # noqa: E402
from aezoo.training.runner import run_recipe  # noqa: E402

SETTINGS = {
    "keras.io example (128 codes, codebook loss, linear output, MSE)": dict(
        num_embeddings=128, ema=False, restart_after=0, output_activation="linear", reconstruction_loss="mse"),
    "pythae budget (256 codes, EMA)": dict(num_embeddings=256, ema=True, restart_after=0),
    "vq-vae-mnist recipe (256 codes, EMA, restarts)": {},
}


_METRICS = ("mse_per_pixel", "squared_error_per_image")


def _bundled_row(x_test):
    """Row 3 from the bundled preset: the same metrics, measured again on the test set."""
    import aezoo
    from aezoo.evaluation import metrics

    model = aezoo.load("vq-vae-mnist")
    x_hat = model.reconstruct(x_test)
    stats = model.codebook_stats(x_test)
    return {"config": {}, "source": "bundled weights (aezoo train recipes/vq_vae_mnist.py)",
            "mse_per_pixel": float(metrics.mse_per_pixel(x_test, x_hat)),
            "squared_error_per_image": float(metrics.squared_error_per_image(x_test, x_hat)),
            "codebook_usage": stats["usage"], "perplexity": stats["perplexity"],
            "seconds": model.preset_metadata["training"]["seconds"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="vq_side_by_side.json")
    parser.add_argument("--epochs", type=int, help="override the recipes' 30 (smoke runs)")
    parser.add_argument("--bundled", action="store_true",
                        help="row 3 from the bundled vq-vae-mnist instead of a new training")
    args = parser.parse_args(argv)
    base = load_recipe(Path(__file__).resolve().parents[1] / "vq_vae_mnist.py")
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(Recipe)}
    x_test = data.load_arrays("mnist", "test")
    rows = {}
    for label, change in SETTINGS.items():
        if args.bundled and not change:
            rows[label] = _bundled_row(x_test)
        else:
            recipe = Recipe(**{**fields, "config": {**base.config, **change}, "epochs": args.epochs or base.epochs,
                               "preset": "vq-vae-mnist-side-by-side", "path": __file__})
            report = run_recipe(recipe, save=False, verbose=0, return_model=True)
            stats = report.pop("model").codebook_stats(x_test)
            rows[label] = {"config": change, **{k: report["metrics"][k] for k in _METRICS},
                           "codebook_usage": stats["usage"], "perplexity": stats["perplexity"],
                           "seconds": report["training"]["seconds"]}
        print(label, json.dumps(rows[label]), flush=True)
    command = ("python recipes/experiments/vq_side_by_side.py" + (f" --epochs {args.epochs}" if args.epochs else "")
               + (" --bundled" if args.bundled else ""))
    atomic_write_text(args.output, json.dumps({"command": command, "rows": rows}, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
