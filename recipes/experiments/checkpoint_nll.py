"""IS-NLL of a training checkpoint: how far a long VAE run has come, without stopping it.

Run: ``python recipes/experiments/checkpoint_nll.py conv-vae-mnist runs/ckpt-conv-vae-mnist --k 200 --examples 1000``.

A recipe measures its preset once, at the end (k = 1000 or 5000 on all 10,000 test
digits: an hour for a conv net on two cores). This reads the last checkpoint the
running training committed (``--checkpoint-dir``; nothing there is changed) into the
preset's catalog model and prints a cheaper estimate on the first N test images,
binarised as the recipe's protocol does, beside the negative ELBO: enough to tell
whether a run is on course for its target, or whether its epochs can be cut.
"""

import argparse
import json

import numpy as np

from aezoo import data
from aezoo.evaluation import PROTOCOL, importance_sampled_nll
from aezoo.presets.catalog import get_preset
from aezoo.training import load_checkpoint_weights
from aezoo.training.recipe import load_recipe


def checkpoint_nll(model, x, k=200):
    """``{"nll_is": ..., "negative_elbo": ...}`` in nats, means over the examples ``x``."""
    return {"nll_is": float(np.mean(importance_sampled_nll(model, x, k=k, seed=0))),
            "negative_elbo": float(-np.mean(model.elbo(x, seed=0)))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", help="the catalog preset the run trains (its recipe says how data is binarised)")
    parser.add_argument("checkpoint_dir", help="the training's --checkpoint-dir")
    parser.add_argument("--k", type=int, default=200, help="importance samples per example")
    parser.add_argument("--examples", type=int, default=1000, help="the first N test images")
    args = parser.parse_args(argv)
    if args.k < 1 or args.examples < 1:
        parser.error(f"--k and --examples must be at least 1, got {args.k} and {args.examples}")
    spec, recipe = get_preset(args.preset), load_recipe(args.preset)
    model = spec.build()
    if not hasattr(model, "elbo"):
        parser.error(f"{args.preset} is a {spec.architecture}: it has no likelihood to estimate")
    epoch = load_checkpoint_weights(model, args.checkpoint_dir)
    x = data.load_arrays(spec.dataset, "test", recipe.image_size)[: args.examples]
    if recipe.binarize:
        x = data.binarize(x, seed=PROTOCOL["binarization"]["test_seed"])
    result = checkpoint_nll(model, x, k=args.k)
    print(json.dumps({"preset": args.preset, "epochs_done": epoch, "k": args.k, "examples": len(x),
                      **{key: round(value, 2) for key, value in result.items()}}, indent=2))


if __name__ == "__main__":
    main()
