"""One-class anomaly detection, the anomaly literature's standard protocol.

Run: ``python recipes/experiments/one_class_anomaly.py --dataset mnist -o weights/figures/one_class_mnist.json``.

For each class c of MNIST or Fashion-MNIST: train an autoencoder on the training images
of class c only, score the whole test split (10,000 images), and report the AUROC of
"not c" (anomalous) against "c" (normal). Anchors, mean over the 10 classes: MNIST
0.948 (Deep SVDD, Ruff et al. 2018, Table 1), Fashion-MNIST 0.935 (GEOM, Golan &
El-Yaniv 2018). Scores, all from ``aezoo.latent``:

- ``mse``: reconstruction error per pixel (``anomaly_score`` of a deterministic AE);
- ``latent``: negative log-density of the code under a Gaussian fitted to the training
  codes (Mahalanobis distance): far-off codes are anomalous even when the decoder
  reconstructs them well;
- ``combined``: the sum of both after standardising each on the training scores.

``--rotations`` trains the autoencoder to *restore* upright images from copies turned by
a random multiple of 90 degrees, drawn afresh every epoch (ARNet / ITAE, Ye et al. 2022):
to undo a rotation the model must learn what "upright" means for the normal class, which
an anomaly does not share. ``mse`` then averages, over the four turns, the restoration
error of each test image divided by the mean error of that turn on the training images.

Results (per class and mean) are written as JSON; README's table comes from them.
"""

import argparse
import json
import sys
import time

import keras
import numpy as np

import aezoo
from aezoo import data
from aezoo.uses import latent
from aezoo.io import atomic_write_text

ANCHORS = {
    "mnist": {"mean": 0.948, "source": "Deep SVDD (Ruff et al. 2018), Table 1, one-class",
              "per_class": [0.980, 0.997, 0.917, 0.919, 0.949, 0.885, 0.983, 0.946, 0.939, 0.965]},
    "fashion_mnist": {"mean": 0.935, "source": "GEOM (Golan & El-Yaniv 2018), one-class", "per_class": None},
}
SCORES = ("mse", "latent", "combined")


def gaussian_code_score(z_train, z):
    """Mahalanobis distance of codes ``z`` to a Gaussian fitted on ``z_train`` (ridge 1e-3)."""
    mean = z_train.mean(axis=0)
    cov = np.cov(z_train, rowvar=False) + 1e-3 * np.eye(z_train.shape[1])
    precision = np.linalg.inv(cov)
    d = z - mean
    return np.einsum("ij,jk,ik->i", d, precision, d)


def rotate(x, turns):
    """Each image of ``x`` (n, h, w, c) turned by ``turns[i]`` quarter turns."""
    out = np.empty_like(x)
    for k in range(4):
        pick = turns == k
        out[pick] = np.rot90(x[pick], k, axes=(1, 2))
    return out


def restoration_error(model, x_train, x):
    """Mean over the four quarter turns of each image's error in restoring it upright, each
    turn's error divided by its mean on the training images (so no turn dominates)."""
    total = 0.0
    for k in range(4):
        def error(images):
            turned = rotate(images, np.full(len(images), k))
            return np.mean((model.reconstruct(turned) - images) ** 2, axis=tuple(range(1, images.ndim)))
        total = total + error(x) / np.mean(error(x_train))
    return total / 4


def one_class(x_train, y_train, x_test, y_test, normal_class, args):
    keras.utils.set_random_seed(args.seed)
    x_normal = x_train[y_train == normal_class]
    model = aezoo.build("conv-ae", input_shape=x_train.shape[1:], latent_dim=args.latent_dim,
                        filters=tuple(args.filters))
    steps = args.epochs * int(np.ceil(len(x_normal) / args.batch_size))
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, steps, alpha=0.01)))
    t0 = time.time()
    if args.rotations:  # a fresh random turn per image and epoch; the target stays upright
        rng = np.random.default_rng(args.seed)
        for _ in range(args.epochs):
            turned = rotate(x_normal, rng.integers(0, 4, len(x_normal)))
            model.fit(turned, x_normal, epochs=1, batch_size=args.batch_size, verbose=0, shuffle=True)
    else:
        model.fit(x_normal, epochs=args.epochs, batch_size=args.batch_size, verbose=0, shuffle=True)
    seconds = time.time() - t0

    z_train, z_test = model.encode(x_normal), model.encode(x_test)
    mse = restoration_error if args.rotations else (lambda m, x_fit, x: latent.anomaly_score(m, x))
    raw = {"mse": (mse(model, x_normal, x_normal), mse(model, x_normal, x_test)),
           "latent": (gaussian_code_score(z_train, z_train), gaussian_code_score(z_train, z_test))}
    standard = [(test - train.mean()) / (train.std() + 1e-12) for train, test in raw.values()]
    test_scores = {"mse": raw["mse"][1], "latent": raw["latent"][1], "combined": sum(standard)}
    normal = y_test == normal_class
    aurocs = {k: latent.auroc(v[normal], v[~normal]) for k, v in test_scores.items()}
    return aurocs, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=sorted(ANCHORS))
    parser.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--filters", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rotations", action="store_true",
                        help="train to restore images turned by random quarter turns (ARNet); score the four turns")
    parser.add_argument("-o", "--output", help="write the results as JSON here")
    args = parser.parse_args(argv)

    x_train, y_train = data.load_arrays(args.dataset, "train", with_labels=True)
    x_test, y_test = data.load_arrays(args.dataset, "test", with_labels=True)
    classes = [int(c) for c in args.classes.split(",")]
    per_class, total = {}, 0.0
    for c in classes:
        aurocs, seconds = one_class(x_train, y_train, x_test, y_test, c, args)
        per_class[c], total = aurocs, total + seconds
        print(f"class {c}: " + "  ".join(f"{k} {v:.4f}" for k, v in aurocs.items()) + f"  ({seconds:.0f}s)",
              flush=True)
    means = {k: float(np.mean([per_class[c][k] for c in classes])) for k in SCORES}
    print("mean:    " + "  ".join(f"{k} {v:.4f}" for k, v in means.items()))
    anchor = ANCHORS[args.dataset]
    print(f"anchor:  {anchor['mean']} ({anchor['source']})")
    result = {"dataset": args.dataset, "protocol": "train on one class's training images, score the whole "
              "test split, AUROC of the other classes (positives) against that class",
              "model": {"architecture": "conv-ae", "latent_dim": args.latent_dim, "filters": args.filters,
                        "epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed,
                        "rotations": args.rotations},
              "per_class": {str(c): v for c, v in per_class.items()}, "mean": means, "anchor": anchor,
              "train_seconds": round(total, 1),
              "command": "python recipes/experiments/one_class_anomaly.py "
                         + " ".join(sys.argv[1:] if argv is None else argv)}
    if args.output:
        atomic_write_text(args.output, json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
