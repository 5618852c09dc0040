"""Reference outputs of every bundled preset, to compare backends.

    python tests/scripts/reference_outputs.py write ref.npz     # in the TensorFlow environment
    AEZOO_REFERENCE=ref.npz python -m pytest tests/test_without_tensorflow.py   # JAX, no TensorFlow

For each preset: its demo inputs (or 4 seeded inputs), their codes and reconstructions.
"""

import sys

import numpy as np


def reference_inputs(name, model):
    from aezoo import presets

    demo = presets.load_demo_inputs(presets.bundled_weights_dir() / name)
    if demo is not None and len(demo):
        return np.asarray(demo[:4], "float32")
    if None in tuple(model.data_shape):  # any image size (the latent-diffusion family): real photos
        from aezoo.data.photos import photos

        return photos(128)
    return np.random.default_rng(0).uniform(0, 1, (4, *model.data_shape)).astype("float32")


def outputs(name):
    import aezoo

    model = aezoo.load(name)
    x = reference_inputs(name, model)
    labels = with_labels(model, x)
    return {f"{name}/x": x, f"{name}/codes": model.encode(x, **labels),
            f"{name}/reconstruction": model.reconstruct(x, **labels)}


def with_labels(model, x):
    """A conditional model's labels for ``x`` (classes in turn); nothing for the others."""
    if not hasattr(model, "num_classes"):
        return {}
    return {"labels": np.arange(len(x)) % model.num_classes}


def main(argv):
    if len(argv) != 2 or argv[0] != "write":
        sys.exit(__doc__)
    from aezoo import presets

    arrays = {}
    for name in presets.list_presets():
        if (presets.bundled_weights_dir() / name / presets.METADATA_FILE).is_file():
            arrays.update(outputs(name))
    np.savez(argv[1], **arrays)
    print(f"wrote {len(arrays) // 3} presets' reference outputs to {argv[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
