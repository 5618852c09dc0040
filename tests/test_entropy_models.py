"""The codecs' entropy models and GDN against CompressAI's reference implementation.

CompressAI is a test dependency only (with torch). Its wheel pins torch, torchvision and
torch-geometric versions that would replace this environment's, so it is installed
without them, ``pip install --no-deps compressai==1.2.8``, and only its
``entropy_models`` and ``layers.gdn`` modules are imported (the package's ``__init__``
imports its datasets, which need torch-geometric). Parameters are drawn at random,
copied into both implementations, and the likelihoods compared on the same inputs.
"""

import importlib.util
import sys
import types

import numpy as np
import keras
import pytest
from keras import ops

from aezoo.models.bounds import lower_bound
from aezoo.models.entropy_models import EntropyBottleneck, GaussianConditional, default_scale_table
from aezoo.models.gdn import GDN

INSTALL = "pip install --no-deps compressai==1.2.8"


def _compressai():
    """CompressAI's entropy models and GDN, imported without the package's ``__init__``."""
    pytest.importorskip("torch", reason=f"the CompressAI reference needs torch ({INSTALL})")
    if "compressai" not in sys.modules:
        spec = importlib.util.find_spec("compressai")
        if spec is None:
            pytest.skip(f"CompressAI is not installed: {INSTALL}")
        package = types.ModuleType("compressai")
        package.__spec__ = spec
        package.__path__ = list(spec.submodule_search_locations)
        package.get_entropy_coder = lambda: "ans"
        package.available_entropy_coders = lambda: ["ans"]
        sys.modules["compressai"] = package
    from compressai.entropy_models import EntropyBottleneck as Reference, GaussianConditional as ReferenceGC
    from compressai.layers.gdn import GDN as ReferenceGDN

    return Reference, ReferenceGC, ReferenceGDN


def _to_torch(array):
    import torch

    return torch.from_numpy(np.ascontiguousarray(array, dtype="float32"))


def _nchw(array):
    return _to_torch(np.transpose(array, (0, 3, 1, 2)))


def _nhwc(tensor):
    return np.transpose(tensor.detach().numpy(), (0, 2, 3, 1))


def _trained_like_bottleneck(channels, rng):
    """A CompressAI EntropyBottleneck with random (not initial) parameters, and ours with the same."""
    import torch

    Reference, _, _ = _compressai()
    reference = Reference(channels)
    ours = EntropyBottleneck(name="eb")
    ours.build((None, None, None, channels))
    with torch.no_grad():
        for i, matrix in enumerate(reference.matrices):
            matrix.copy_(matrix + _to_torch(rng.normal(0, 0.5, tuple(matrix.shape))))
            ours.matrices[i].assign(matrix.numpy())
        for i, bias in enumerate(reference.biases):
            bias.copy_(_to_torch(rng.normal(0, 1.0, tuple(bias.shape))))
            ours.biases[i].assign(bias.numpy()[..., 0])
        for i, factor in enumerate(reference.factors):
            factor.copy_(_to_torch(rng.normal(0, 1.0, tuple(factor.shape))))
            ours.factors[i].assign(factor.numpy()[..., 0])
        quantiles = np.sort(rng.normal(0, 3.0, (channels, 1, 3)), axis=-1)
        reference.quantiles.copy_(_to_torch(quantiles))
        ours.quantiles.assign(quantiles[:, 0, :].astype("float32"))
    return reference, ours


def test_entropy_bottleneck_likelihoods_match_compressai():
    import torch

    rng = np.random.default_rng(0)
    reference, ours = _trained_like_bottleneck(5, rng)
    y = (rng.normal(0, 4.0, (2, 6, 7, 5)) * rng.uniform(0.2, 3.0, 5)).astype("float32")
    with torch.no_grad():
        ref_hat, ref_likelihood = reference(_nchw(y), training=False)
        # the density at arbitrary (unquantised) points, tails included
        ref_density, _, _ = reference._likelihood(_to_torch(np.transpose(y, (3, 0, 1, 2)).reshape(5, 1, -1)))
        ref_aux = reference.loss()
    y_hat, likelihood = ours(y, training=False)
    np.testing.assert_allclose(ops.convert_to_numpy(y_hat), _nhwc(ref_hat), atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(likelihood), _nhwc(ref_likelihood), atol=1e-5, rtol=1e-4)
    density = ops.convert_to_numpy(ours.likelihood(ops.convert_to_tensor(y)))
    expected = np.maximum(ref_density.numpy().reshape(5, 2, 6, 7).transpose(1, 2, 3, 0), 1e-9)
    np.testing.assert_allclose(density, expected, atol=1e-5)
    assert float(ops.convert_to_numpy(ours.aux_loss())) == pytest.approx(float(ref_aux), rel=1e-5)
    # rounding is around each channel's median, as CompressAI's "dequantize" mode
    symbols = ops.convert_to_numpy(ours.to_symbols(ops.convert_to_tensor(y)))
    np.testing.assert_allclose(ops.convert_to_numpy(ours.from_symbols(symbols)), _nhwc(ref_hat), atol=1e-5)


def test_bisected_quantiles_match_compressai():
    """``update_quantiles`` solves the quantiles from the density as CompressAI's bisection does."""
    import torch

    rng = np.random.default_rng(4)
    reference, ours = _trained_like_bottleneck(4, rng)
    reference._update_quantiles()
    solved = ours.update_quantiles()
    np.testing.assert_allclose(solved, reference.quantiles.detach().numpy()[:, 0], atol=1e-2)
    with torch.no_grad():
        assert float(ops.convert_to_numpy(ours.aux_loss())) < 0.01 * 4 * 3


def test_entropy_bottleneck_starts_where_compressai_starts():
    """Same initial density (the biases are random in both: copied), same initial aux loss."""
    import torch

    Reference, _, _ = _compressai()
    reference = Reference(3)
    ours = EntropyBottleneck()
    ours.build((None, 3))
    for i, bias in enumerate(reference.biases):
        ours.biases[i].assign(bias.detach().numpy()[..., 0])
    for ref, mine in zip(reference.matrices, ours.matrices):
        np.testing.assert_allclose(ops.convert_to_numpy(mine), ref.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(ours.quantiles), reference.quantiles.detach().numpy()[:, 0])
    with torch.no_grad():
        assert float(ops.convert_to_numpy(ours.aux_loss())) == pytest.approx(float(reference.loss()), rel=1e-5)


def test_gaussian_conditional_likelihoods_match_compressai():
    import torch

    _, ReferenceGC, _ = _compressai()
    table = default_scale_table()
    reference = ReferenceGC(table)
    ours = GaussianConditional(table)
    rng = np.random.default_rng(1)
    y = rng.normal(0, 6.0, (2, 5, 6, 4)).astype("float32")
    scales = np.exp(rng.uniform(np.log(0.01), np.log(400.0), y.shape)).astype("float32")  # below the bound too
    means = rng.normal(0, 1.0, y.shape).astype("float32")
    with torch.no_grad():
        ref_hat, ref_likelihood = reference(_nchw(y), _nchw(scales), training=False)
        ref_means_hat, ref_means_likelihood = reference(_nchw(y), _nchw(scales), _nchw(means), training=False)
        ref_density = reference._likelihood(_nchw(y), _nchw(scales))
        ref_indexes = reference.build_indexes(_nchw(scales))
    y_hat, likelihood = ours(y, scales, training=False)
    np.testing.assert_array_equal(ops.convert_to_numpy(y_hat), _nhwc(ref_hat))
    np.testing.assert_allclose(ops.convert_to_numpy(likelihood), _nhwc(ref_likelihood), atol=1e-6, rtol=1e-4)
    y_hat, likelihood = ours(y, scales, means=means, training=False)
    np.testing.assert_allclose(ops.convert_to_numpy(y_hat), _nhwc(ref_means_hat), atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(likelihood), _nhwc(ref_means_likelihood), atol=1e-6, rtol=1e-4)
    density = ops.convert_to_numpy(ours.likelihood(ops.convert_to_tensor(y), ops.convert_to_tensor(scales)))
    np.testing.assert_allclose(density, np.maximum(_nhwc(ref_density), 1e-9), atol=1e-6, rtol=1e-4)
    np.testing.assert_array_equal(ops.convert_to_numpy(ours.scale_indexes(ops.convert_to_tensor(scales))),
                                  _nhwc(ref_indexes))


@pytest.mark.parametrize("inverse", [False, True])
def test_gdn_matches_compressai(inverse):
    import torch

    _, _, ReferenceGDN = _compressai()
    rng = np.random.default_rng(2)
    reference = ReferenceGDN(6, inverse=inverse)
    ours = GDN(inverse=inverse)
    ours.build((None, None, None, 6))
    with torch.no_grad():
        reference.beta.copy_(_to_torch(rng.uniform(0.5, 1.5, 6)))
        reference.gamma.copy_(_to_torch(rng.uniform(-0.1, 0.5, (6, 6))))  # negatives: the bound applies
        ours.beta.assign(reference.beta.numpy())
        ours.gamma.assign(reference.gamma.numpy())
        x = rng.normal(0, 2.0, (2, 5, 4, 6)).astype("float32")
        expected = _nhwc(reference(_nchw(x)))
    np.testing.assert_allclose(ops.convert_to_numpy(ours(x)), expected, atol=1e-5, rtol=1e-5)


def _gradient(fn, x):
    """d sum(fn(x)) / dx on the current backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.reduce_sum(fn(x))
        return tape.gradient(out, x).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: fn(v).sum())(x))
    import torch

    x = torch.tensor(x, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


def test_lower_bound_lets_gradients_lift_a_bounded_value():
    """Below the bound the value is the bound; a gradient that would raise x passes, one that
    would lower it further is blocked (CompressAI's LowerBound, TFC's identity_if_towards)."""
    x = np.array([0.05, 0.5, 0.05, 0.5], "float32")
    weights = np.array([1.0, 1.0, -1.0, -1.0], "float32")  # d loss/d y: +1 pushes y down, -1 up
    np.testing.assert_allclose(ops.convert_to_numpy(lower_bound(x, 0.11)), [0.11, 0.5, 0.11, 0.5])
    grad = _gradient(lambda v: ops.multiply(lower_bound(v, 0.11), ops.convert_to_tensor(weights)), x)
    np.testing.assert_allclose(grad, [0.0, 1.0, -1.0, -1.0])


def test_training_adds_unit_noise_and_the_aux_loss_inference_rounds():
    layer = EntropyBottleneck(seed=0)
    y = np.linspace(-3, 3, 4 * 8 * 8 * 2, dtype="float32").reshape(4, 8, 8, 2)
    noisy, _ = layer(y, training=True)
    noise = ops.convert_to_numpy(noisy) - y
    assert np.abs(noise).max() <= 0.5 and noise.std() > 0.2 and len(layer.losses) == 1
    rounded, likelihood = layer(y, training=False)
    assert len(layer.losses) == 0  # the aux loss is a training device, not part of the evaluated objective
    np.testing.assert_array_equal(ops.convert_to_numpy(rounded), np.round(y))  # medians start at 0
    assert np.all(ops.convert_to_numpy(likelihood) >= 1e-9) and np.all(ops.convert_to_numpy(likelihood) <= 1)
    gc = GaussianConditional(seed=0)
    noisy, _ = gc(y, np.ones_like(y), training=True)
    assert 0 < np.abs(ops.convert_to_numpy(noisy) - y).max() <= 0.5


def test_factorized_density_is_a_distribution_and_quantiles_learn_their_targets():
    """The bin masses of any channel sum to 1 over the integers; the aux loss moves the
    quantiles to the median and the tail_mass/2 quantiles of the density."""
    layer = EntropyBottleneck(seed=3, tail_mass=1e-3)
    layer.build((None, 2))
    grid = np.arange(-300, 301, dtype="float32")[:, None] * np.ones((1, 2), "float32")
    masses = ops.convert_to_numpy(layer.likelihood(ops.convert_to_tensor(grid)))
    np.testing.assert_allclose(masses.sum(axis=0), 1.0, atol=1e-4)
    optimizer = keras.optimizers.Adam(0.5)
    for _ in range(300):
        _descend(layer, optimizer)
    q = ops.convert_to_numpy(layer.quantiles)
    logits = ops.convert_to_numpy(layer.logits_cumulative(ops.convert_to_tensor(q.T)))
    target = np.log(2 / 1e-3 - 1)
    np.testing.assert_allclose(logits, [[-target] * 2, [0.0] * 2, [target] * 2], atol=0.05)


def _descend(layer, optimizer):
    """One optimizer step on the layer's aux loss, on the current backend."""
    backend = keras.backend.backend()
    variables = [layer.quantiles]
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = layer.aux_loss()
        grads = tape.gradient(loss, [v.value for v in variables])
    elif backend == "jax":
        import jax

        grads = [jax.grad(lambda q: _aux_with(layer, q))(layer.quantiles.value)]
    else:
        loss = layer.aux_loss()
        loss.backward()
        grads = [layer.quantiles.value.grad.clone()]
        layer.quantiles.value.grad = None
    optimizer.apply(grads, variables)


def _aux_with(layer, quantiles):
    """The aux loss as a pure function of the quantiles (JAX differentiates functions)."""
    target = np.log(2.0 / layer.tail_mass - 1.0)
    logits = layer.logits_cumulative(ops.transpose(quantiles), stop_gradient=True)
    return ops.sum(ops.abs(logits - np.array([[-target], [0.0], [target]], "float32")))
