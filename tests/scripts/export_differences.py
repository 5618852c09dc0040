"""README's table of export differences: taef2 exported as SavedModel, TFLite and ONNX, run on
``grace_hopper`` at 64, 256 and 512 px, against ``encode``/``decode`` (max absolute difference).

    python tests/scripts/export_differences.py          # needs pip install "aezoo[export]"

The test (tests/test_export.py, -m full) checks 64 px; this prints the larger sizes too,
where float32 sums over bigger images drift further apart between kernels.
"""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnxruntime
import tensorflow as tf

import aezoo
from aezoo.data.photos import photo
from aezoo.uses.export import export


def runners(root, fmt):
    """``(encode, decode)`` callables over numpy for one exported format."""
    if fmt == "savedmodel":
        enc, dec = (tf.saved_model.load(str(root / p)).signatures["serving_default"] for p in ("encoder", "decoder"))
        return (lambda x: enc(x=tf.constant(x))["z"].numpy()), (lambda z: dec(z=tf.constant(z))["x_hat"].numpy())
    if fmt == "tflite":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
            enc, dec = (tf.lite.Interpreter(model_path=str(root / f"{p}.tflite")).get_signature_runner()
                        for p in ("encoder", "decoder"))
        return (lambda x: enc(x=x)["z"]), (lambda z: dec(z=z)["x_hat"])
    enc, dec = (onnxruntime.InferenceSession(str(root / f"{p}.onnx"), providers=["CPUExecutionProvider"])
                for p in ("encoder", "decoder"))
    return (lambda x: enc.run(["z"], {"x": x})[0]), (lambda z: dec.run(["x_hat"], {"z": z})[0])


def main():
    model = aezoo.load("taef2", compile=False)
    with tempfile.TemporaryDirectory() as tmp:
        exported = {fmt: runners(export(model, Path(tmp) / fmt, format=fmt), fmt)
                    for fmt in ("savedmodel", "tflite", "onnx")}
        print("| size | format | latents max abs diff | images max abs diff | latent range |")
        print("|---|---|---|---|---|")
        for size in (64, 256, 512):
            x = photo("grace_hopper", size)[None]
            z = model.encode(x)
            x_hat = model.decode(z)
            for fmt, (encode, decode) in exported.items():
                print(f"| {size} px | {fmt} | {np.abs(encode(x) - z).max():.1e} | "
                      f"{np.abs(decode(z) - x_hat).max():.1e} | {np.ptp(z):.1f} |")


if __name__ == "__main__":
    main()
