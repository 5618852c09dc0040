"""How well a preset's codes classify: the linear probe beside k-nearest-neighbour votes.

Run: ``python recipes/experiments/code_classifiers.py conv-vae-fashion-2d --neighbors 1 5 15``.

The linear probe is aezoo's protocol (``aezoo.evaluation.linear_probe``: codes of the first
10,000 training images, scored on the whole test split). The dimensionality-reduction
literature scores 2-d maps with k-NN instead (Parametric UMAP, Sainburg et al. 2021), so
this prints both on the same codes: a map whose classes sit in curved or interleaved
regions scores far better with neighbours than with a straight cut.
"""

import argparse
import json

import aezoo
from aezoo import data
from aezoo.evaluation import PROTOCOL, knn_probe, linear_probe
from aezoo.evaluation.preset_metrics import probe_labels


def code_classifiers(z_train, y_train, z_test, y_test, neighbors=(1, 5, 15)):
    """``{"linear_probe_accuracy": ..., "knn_<k>_accuracy": ...}`` on the given codes."""
    out = {"linear_probe_accuracy": linear_probe(z_train, y_train, z_test, y_test)}
    for k in neighbors:
        out[f"knn_{k}_accuracy"] = knn_probe(z_train, y_train, z_test, y_test, n_neighbors=k)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="conv-vae-fashion-2d")
    parser.add_argument("--neighbors", type=int, nargs="+", default=[1, 5, 15])
    parser.add_argument("--probe-train", type=int, default=10_000,
                        help="training images whose codes fit the classifiers (the protocol's 10,000)")
    args = parser.parse_args(argv)
    if args.probe_train < 1:
        parser.error(f"--probe-train must be at least 1, got {args.probe_train}")
    model = aezoo.load(args.preset, compile=False)
    meta = model.preset_metadata
    x_train, y_train = data.load_arrays(meta["dataset"], "train", meta.get("image_size"), with_labels=True)
    x_test, y_test = data.load_arrays(meta["dataset"], "test", meta.get("image_size"), with_labels=True)
    y_train, y_test = probe_labels(y_train), probe_labels(y_test)
    if y_train is None:
        parser.error(f"{args.preset}'s dataset {meta['dataset']!r} has no class labels to classify codes by")
    n = min(args.probe_train, len(x_train))
    x_train, y_train = x_train[:n], y_train[:n]
    if (meta.get("protocol") or {}).get("binarized"):  # the inputs the protocol measured the model on
        x_train = data.binarize(x_train, seed=PROTOCOL["binarization"]["train_seed"])
        x_test = data.binarize(x_test, seed=PROTOCOL["binarization"]["test_seed"])
    results = code_classifiers(model.encode(x_train), y_train, model.encode(x_test), y_test, args.neighbors)
    print(json.dumps({"preset": args.preset, "probe_train": n, "test_examples": len(x_test),
                      **{k: round(v, 4) for k, v in results.items()}}, indent=2))


if __name__ == "__main__":
    main()
