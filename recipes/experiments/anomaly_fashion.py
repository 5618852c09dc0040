"""Anomaly detection on Fashion-MNIST: train on nine classes, score the held-out tenth.

Run: ``python recipes/experiments/anomaly_fashion.py --held-out 7`` (7 = sneaker).
Trains a conv-ae on the nine normal classes of the train split, then scores the test
split with ``aezoo.uses.latent.anomaly_score`` (reconstruction MSE) and reports the AUROC of
held-out-class test images against normal test images, and the detection rate at a
threshold fitted as the 99% quantile of normal training scores.
"""

import argparse
import json

import keras
import numpy as np

import aezoo
from aezoo import data
from aezoo.uses import latent
from aezoo.training import train

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", type=int, default=7, help="class index kept out of training")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--architecture", default="conv-ae")
    args = parser.parse_args(argv)

    x_train, y_train = data.load_arrays("fashion_mnist", "train", with_labels=True)
    x_test, y_test = data.load_arrays("fashion_mnist", "test", with_labels=True)
    normal_train = x_train[y_train != args.held_out]
    config = dict(input_shape=(28, 28, 1), latent_dim=32)
    if args.architecture == "conv-ae":
        config["filters"] = (32, 64)
    keras.utils.set_random_seed(0)
    result = train(lambda: aezoo.build(args.architecture, **config), normal_train, epochs=args.epochs,
                   batch_size=128, strategy="one", verbose=0)
    model = result.model
    detector = latent.AnomalyDetector(model, quantile=0.99).fit(normal_train[:10000])
    normal_scores = latent.anomaly_score(model, x_test[y_test != args.held_out])
    anomaly_scores = latent.anomaly_score(model, x_test[y_test == args.held_out])
    report = {
        "held_out": f"{args.held_out} ({CLASSES[args.held_out]})", "architecture": args.architecture,
        "epochs": args.epochs, "auroc": latent.auroc(normal_scores, anomaly_scores),
        "threshold_q99": detector.threshold,
        "detected_fraction": float(np.mean(anomaly_scores > detector.threshold)),
        "false_alarm_fraction": float(np.mean(normal_scores > detector.threshold)),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
