"""aezoo with Keras on JAX and TensorFlow not installed (the lent GPU machines' setup).

Runs only where TensorFlow cannot be imported: CI builds that environment with
``pip install --no-deps -e .`` plus the core's own dependencies and JAX (README, "Keras
on JAX or PyTorch"). There every bundled preset must load and reproduce the TensorFlow
environment's reconstructions (``AEZOO_REFERENCE``, written there by
``tests/scripts/reference_outputs.py``), ``fit`` must fine-tune, and ``aezoo demo`` and
``aezoo train --smoke`` must run, all without importing ``tensorflow``.
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

if importlib.util.find_spec("tensorflow") is not None:
    pytest.skip("TensorFlow is installed: these tests need an environment without it", allow_module_level=True)

import aezoo  # noqa: E402
from aezoo import presets  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "scripts"))
import reference_outputs  # noqa: E402

BUNDLED = [n for n in presets.list_presets() if (presets.bundled_weights_dir() / n / presets.METADATA_FILE).is_file()]


def _run(code_or_args, env=None, timeout=600):
    env = {**os.environ, **(env or {})}
    args = code_or_args if isinstance(code_or_args, list) else [sys.executable, "-c", code_or_args]
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def test_import_and_load_never_import_tensorflow():
    out = _run("import sys, aezoo; m = aezoo.load('conv-vae-faces'); m.reconstruct(m.sample(2, seed=0)); "
               "import keras; print(keras.backend.backend(), 'tensorflow' in sys.modules)")
    assert out.split()[-2:] == [os.environ.get("KERAS_BACKEND", "jax"), "False"]


@pytest.mark.parametrize("name", BUNDLED)
def test_preset_matches_tensorflow_outputs(name):
    reference = os.environ.get("AEZOO_REFERENCE")
    if not reference:
        pytest.skip("set AEZOO_REFERENCE to reference_outputs.py's file from the TensorFlow environment")
    ref = np.load(reference)
    if f"{name}/x" not in ref:
        pytest.fail(f"{reference} has no outputs for {name}: regenerate it")
    model = aezoo.load(name)
    x = ref[f"{name}/x"]
    labels = reference_outputs.with_labels(model, x)
    np.testing.assert_allclose(model.encode(x, **labels), ref[f"{name}/codes"], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(model.reconstruct(x, **labels), ref[f"{name}/reconstruction"], atol=1e-4, rtol=1e-4)


def test_fit_fine_tunes_a_preset():
    model = aezoo.load("dense-ae-mnist")
    x = np.random.default_rng(0).uniform(0, 1, (64, *model.data_shape)).astype("float32")
    before = [np.array(w) for w in model.trainable_weights]
    loss = model.fit(x, epochs=1, batch_size=32, verbose=0).history["loss"][-1]
    assert np.isfinite(loss)
    assert any(not np.allclose(b, np.array(a)) for b, a in zip(before, model.trainable_weights))


def test_demo_command(tmp_path):
    out = _run([sys.executable, "-m", "aezoo.cli", "demo", "dense-ae-mnist", "-o", str(tmp_path / "demo.png")])
    assert (tmp_path / "demo.png").stat().st_size > 1000, out


@pytest.mark.parametrize("recipe", ["dense-ae-mnist", "conv-vae-fashion"])
def test_recipe_smoke_run(recipe, tmp_path):
    out = _run([sys.executable, "-m", "aezoo.cli", "train", recipe, "--smoke", "--out", str(tmp_path)])
    assert f"== {recipe}" in out
    assert (tmp_path / recipe / presets.METADATA_FILE).is_file()


def test_data_parallel_over_two_devices(tmp_path):
    """keras.distribution.DataParallel over two (forced) CPU devices trains and checkpoints."""
    code = (
        "import numpy as np, aezoo\n"
        "from aezoo.training import train\n"
        "x = np.random.default_rng(0).uniform(0, 1, (256, 8, 8, 1)).astype('float32')\n"
        "build = lambda: aezoo.build('dense-vae', input_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,), seed=0)\n"
        f"r = train(build, x, epochs=2, batch_size=64, strategy='auto', checkpoint_dir={str(tmp_path)!r}, verbose=0)\n"
        "print(r.strategy, r.replicas, r.epochs_run, np.isfinite(r.history['loss'][-1]))\n"
    )
    out = _run(code, env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "KERAS_BACKEND": "jax"})
    assert out.split()[-4:] == ["data-parallel", "2", "2", "True"]
    assert (tmp_path / "epochs.csv").is_file()
