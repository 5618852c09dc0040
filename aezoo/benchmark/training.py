"""Training throughput: aezoo's conv-VAE pipeline against plain Keras on the same model.

Run: ``python -m aezoo.benchmark training --epochs 3`` (each side runs in its own process, so
peak memory is per side). Both train the same conv-VAE (filters 32, 64; latent 16)
on Fashion-MNIST with Adam, batch 128, for the same epochs; the first epoch is
warm-up (tracing) and is not timed. Reports images/s, the ratio, the final loss, and
peak resident memory. Not a test: numbers depend on the machine.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

CONFIG = dict(input_shape=(28, 28, 1), latent_dim=16, filters=(32, 64), seed=0)


def _plain_keras_model():
    """The same VAE in plain Keras: functional encoder/decoder, loss in a custom layer."""
    import keras
    from keras import layers, ops

    class Sample(layers.Layer):
        def __init__(self):
            super().__init__()
            self.seed = keras.random.SeedGenerator(0)

        def call(self, inputs):
            mean, log_var = inputs
            return mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=self.seed)

    class VAELoss(layers.Layer):
        def call(self, inputs):
            x, logits, mean, log_var = inputs
            flat_x = ops.reshape(x, (ops.shape(x)[0], -1))
            flat_l = ops.reshape(logits, (ops.shape(x)[0], -1))
            nll = ops.sum(ops.maximum(flat_l, 0) - flat_l * flat_x + ops.log1p(ops.exp(-ops.abs(flat_l))), axis=-1)
            kl = -0.5 * ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)
            self.add_loss(ops.mean(nll + kl))
            return ops.sigmoid(logits)

    x = keras.Input((28, 28, 1))
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    h = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.Flatten()(h)
    mean, log_var = layers.Dense(16)(h), layers.Dense(16)(h)
    z = Sample()([mean, log_var])
    d = layers.Dense(7 * 7 * 64, activation="relu")(z)
    d = layers.Reshape((7, 7, 64))(d)
    d = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(d)
    d = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(d)
    logits = layers.Conv2D(1, 3, padding="same")(d)
    model = keras.Model(x, VAELoss()([x, logits, mean, log_var]))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


class _Timer:
    def __init__(self):
        self.starts, self.ends = [], []

    def callback(self):
        import keras

        return keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, l: self.starts.append(time.perf_counter()),
                                              on_epoch_end=lambda e, l: self.ends.append(time.perf_counter()))


def run_side(side, epochs, limit):
    import keras

    from aezoo import data

    x = data.load_arrays("fashion_mnist", "train")[:limit]
    keras.utils.set_random_seed(0)
    timer = _Timer()
    if side == "aezoo":
        from aezoo.training import train
        import aezoo

        result = train(lambda: aezoo.build("conv-vae", **CONFIG), data.dataset(x, batch_size=128, seed=0),
                       epochs=epochs, batch_size=128, strategy="one", verbose=0, callbacks=[timer.callback()])
        loss = result.history["loss"][-1]
        params = result.model.count_params()
    else:
        model = _plain_keras_model()
        hist = model.fit(x, epochs=epochs, batch_size=128, shuffle=True, verbose=0, callbacks=[timer.callback()])
        loss = hist.history["loss"][-1]
        params = model.count_params()
    timed = [e - s for s, e in zip(timer.starts[1:], timer.ends[1:])]  # epoch 1 is warm-up
    return {"side": side, "images_per_s": len(x) * len(timed) / sum(timed), "final_loss": float(loss),
            "params": int(params), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "epochs_timed": len(timed), "examples": len(x)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per side, the first is warm-up")
    parser.add_argument("--limit", type=int, default=60000, help="training examples")
    parser.add_argument("--side", choices=["aezoo", "keras"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be >= 2 (the first epoch is warm-up)")
    if args.side:
        print(json.dumps(run_side(args.side, args.epochs, args.limit)))
        return 0
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    results = {}
    for side in ("keras", "aezoo"):
        out = subprocess.run([sys.executable, "-m", "aezoo.benchmark", "training", "--side", side,
                              "--epochs", str(args.epochs),
                              "--limit", str(args.limit)], env=env, capture_output=True, text=True, check=True)
        results[side] = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = results["aezoo"]["images_per_s"] / results["keras"]["images_per_s"]
    for side, r in results.items():
        print(f"{side:6s} {r['images_per_s']:8.0f} images/s  final loss {r['final_loss']:.2f}  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB  params {r['params']}")
    print(f"ratio aezoo / plain keras: {ratio:.3f}")
    print(json.dumps({"ratio": ratio, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
