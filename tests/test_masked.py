"""What makes the masked autoencoder itself: the loss is taken on hidden patches only, the
encoder never sees a hidden patch, patches tile and untile exactly, 75% are hidden, and
the features are the whole image's (the shared harness in test_architectures covers the rest)."""

import numpy as np
import pytest
import keras
from keras import ops

import aezoo
from aezoo.models.patches import Patchify, Unpatchify, keep_count, masked_patch_loss, sincos_table

SMALL = dict(input_shape=(8, 8, 1), patch_size=2, embed_dim=8, depth=1, num_heads=2, decoder_dim=8,
             decoder_depth=1, decoder_heads=2, seed=1)


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def _images(n=4, seed=0):
    return np.random.default_rng(seed).random((n, 8, 8, 1)).astype("float32")


def test_loss_ignores_visible_patches():
    rng = np.random.default_rng(0)
    target = rng.random((2, 6, 4)).astype("float32")
    prediction = rng.random((2, 6, 4)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 0, 0], [0, 1, 0, 1, 1, 0]], "float32")  # 1 = hidden
    base = ops.convert_to_numpy(masked_patch_loss(target, prediction, mask))
    changed_visible = prediction.copy()
    changed_visible[mask == 0] += 5.0
    np.testing.assert_allclose(ops.convert_to_numpy(masked_patch_loss(target, changed_visible, mask)), base, rtol=1e-6)
    expected = [np.mean((target[i] - prediction[i])[mask[i] == 1] ** 2) for i in range(2)]
    np.testing.assert_allclose(base, expected, rtol=1e-5)
    changed_hidden = prediction.copy()
    changed_hidden[0, 0] += 1.0
    assert ops.convert_to_numpy(masked_patch_loss(target, changed_hidden, mask))[0] > base[0]


def test_encoder_never_sees_hidden_patches():
    """With the same hidden set, the prediction does not depend on the hidden pixels at all."""
    model = aezoo.build("masked-ae", **SMALL)
    x = _images()
    prediction, hidden = model.reconstruct(x, mask_ratio=0.75, seed=3)
    scrambled = np.where(hidden[..., None] == 1, np.random.default_rng(1).random(x.shape), x).astype("float32")
    again, hidden_again = model.reconstruct(scrambled, mask_ratio=0.75, seed=3)
    np.testing.assert_array_equal(hidden, hidden_again)
    np.testing.assert_allclose(again, prediction, atol=1e-6)
    # ... while the unmasked reconstruction reads every pixel
    assert not np.allclose(model.reconstruct(scrambled), model.reconstruct(x), atol=1e-6)


def test_three_quarters_hidden_and_a_fresh_draw_each_call():
    assert keep_count(49, 0.75) == 12 and keep_count(16, 0.75) == 4 and keep_count(4, 0.99) == 1
    model = aezoo.build("masked-ae", **SMALL)
    x = _images()
    _, hidden = model.reconstruct(x, mask_ratio=0.75, seed=0)
    assert hidden.mean() == pytest.approx(12 / 16)  # 16 patches of 2x2, 4 kept
    _, other = model.reconstruct(x, mask_ratio=0.75, seed=1)
    assert not np.array_equal(hidden, other)
    a, b = model.predict(x, verbose=0), model.predict(x, verbose=0)  # the training graph draws anew
    assert not np.allclose(a, b)


def test_patches_tile_and_untile_exactly():
    x = np.arange(2 * 8 * 8 * 3, dtype="float32").reshape(2, 8, 8, 3)
    patches = ops.convert_to_numpy(Patchify(4)(x))
    assert patches.shape == (2, 4, 48)
    np.testing.assert_array_equal(patches[0, 1].reshape(4, 4, 3), x[0, :4, 4:])  # row-major: top-right second
    np.testing.assert_array_equal(ops.convert_to_numpy(Unpatchify(4, (8, 8, 3))(patches)), x)
    table = sincos_table(2, 2, 8)
    assert table.shape == (4, 8) and len({tuple(r) for r in table.round(6)}) == 4


def test_features_are_the_whole_images_and_decode_takes_token_grids():
    model = aezoo.build("masked-ae", **SMALL)
    x = _images()
    features, grid = model.encode(x), model.encode(x, tokens=True)
    assert features.shape == (4, 8) and grid.shape == (4, 16, 8)
    np.testing.assert_allclose(features, grid.mean(axis=1), rtol=1e-6)
    assert model.decode(grid).shape == x.shape
    with pytest.raises(ValueError, match="token grids"):
        model.decode(features)


@pytest.mark.parametrize("change, error", [
    (dict(patch_size=3), r"does not tile a 8x8 image; sizes that do: \[1, 2, 4, 8\]"),
    (dict(embed_dim=6), "must divide by its heads"),
    (dict(mask_ratio=0.0), r"mask_ratio must lie in \(0, 1\)"),
])
def test_bad_configurations_are_explained(change, error):
    with pytest.raises(ValueError, match=error):
        aezoo.build("masked-ae", **{**SMALL, **change})


def test_masked_reconstruct_in_chunks_matches_one_pass_and_checks_the_ratio():
    model = aezoo.build("masked-ae", **SMALL)
    x = _images(5)
    whole, hidden = model.reconstruct(x, mask_ratio=0.75, seed=2)
    chunked, hidden_chunked = model.reconstruct(x, mask_ratio=0.75, seed=2, batch_size=2)
    np.testing.assert_array_equal(hidden, hidden_chunked)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    with pytest.raises(ValueError, match=r"mask_ratio must lie in \(0, 1\)"):
        model.reconstruct(x, mask_ratio=1.0)
