"""The integer hyper-decoder (aezoo.models.fixed_point): Keras's float layers to within its
fixed-point resolution (so the same convolution alignment), the float scale indexes except
within that resolution of a table boundary, and a refusal, not an overflow, on huge inputs."""

import numpy as np
import pytest

import aezoo
from aezoo.models import fixed_point, inference


@pytest.fixture(scope="module")
def codec():
    model = aezoo.build("hyperprior-codec", input_shape=(None, None, 3), filters=16, latent_dim=12, seed=0)
    model.update()
    return model


def test_matches_the_float_hyper_decoder_to_its_resolution(codec):
    z = np.round(np.random.default_rng(0).normal(0, 3, (3, 5, 16))).astype("float32")
    floats = inference.run(codec.hyper_decoder, z[None], 1)[0]
    fixed = fixed_point.run(codec.hyper_decoder, z)
    assert fixed.dtype == np.int64 and fixed.shape == floats.shape == (12, 20, 12)
    error = np.abs(fixed / 2.0 ** fixed_point.FRACTION_BITS - floats).max()
    assert 0 < error < 1e-3 * max(1.0, np.abs(floats).max())  # a misaligned kernel would be off by O(1)
    exact = fixed_point.table_indexes(fixed, codec.gaussian_conditional.scale_table, 0.11)
    table = np.asarray(codec.gaussian_conditional.scale_table, np.float32)
    floating = np.searchsorted(table[:-1], np.maximum(floats, np.float32(0.11)), side="left")
    near = np.min(np.abs(np.maximum(floats, 0.11)[..., None] - table), axis=-1) < 1e-3
    np.testing.assert_array_equal(exact[~near], floating[~near])
    np.testing.assert_array_equal(codec.scale_indexes(z), exact)


def test_huge_latents_are_refused_not_wrapped(codec):
    with pytest.raises(ValueError, match="too large for the exact scale computation"):
        fixed_point.run(codec.hyper_decoder, np.full((1, 1, 16), 3e9, np.float32))
