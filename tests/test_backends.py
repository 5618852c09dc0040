"""The architecture harness again under a second Keras backend (PyTorch, else JAX).

Keras fixes its backend at import, so the harness runs in a child process.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(__file__)


def _second_backend():
    for backend, module in (("torch", "torch"), ("jax", "jax")):
        if importlib.util.find_spec(module) is not None:
            return backend
    return None


@pytest.mark.skipif(_second_backend() is None, reason="needs torch or jax installed (CI installs torch==2.13.0)")
def test_architecture_harness_on_second_backend():
    backend = _second_backend()
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.join(HERE, "test_architectures.py"),
         os.path.join(HERE, "test_variants.py"), "-k", "not linear_autoencoder_reaches_pca"],
        env=env, capture_output=True, text=True, timeout=900, cwd=os.path.dirname(HERE),
    )
    tail = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 0, f"harness failed under KERAS_BACKEND={backend}:\n{tail}"
    assert " passed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1], tail
