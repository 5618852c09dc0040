"""What makes ``vq-vae`` itself: nearest-code quantisation with straight-through gradients,
EMA codebook updates, dead-code restarts, code-use statistics, index grids in and out."""

import os

import numpy as np
import pytest
import keras
from keras import ops

import aezoo
from aezoo.models import inference
from aezoo.models.vq import VQVAE, VectorQuantizer, codebook_usage_and_perplexity


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)  # the conv layers' initial weights


SMALL = dict(input_shape=(8, 8, 1), latent_dim=3, num_embeddings=8, filters=(4, 8), restart_after=2, seed=1)


def _data(n=16, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, 8, 8, 1)).astype("float32")


def _quantizer(codebook, **kwargs):
    codebook = np.asarray(codebook, "float32")
    layer = VectorQuantizer(len(codebook), codebook.shape[1], **kwargs)
    layer.build((None, codebook.shape[1]))
    layer.codebook.assign(codebook)
    return layer


def _np(x):
    return ops.convert_to_numpy(x)


def _gradient(fn, x):
    """d fn(x) / dx for a scalar fn, on whichever backend runs."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return tape.gradient(y, x).numpy()
    if backend == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        fn(x).backward()
        return x.grad.numpy()
    import jax

    return np.asarray(jax.grad(fn)(x))


# ------------------------------------------------------------ quantisation and gradients
def test_straight_through_gradient_is_the_identity():
    layer = _quantizer([[0.0, 0.0], [1.0, 1.0], [-1.0, 2.0]], commitment_cost=0.0, ema=True, restart_after=0)
    z = np.random.default_rng(0).normal(size=(5, 4, 2)).astype("float32")
    w = np.random.default_rng(1).normal(size=z.shape).astype("float32")
    grad = _gradient(lambda t: ops.sum(ops.multiply(layer(t)[0], ops.convert_to_tensor(w))), z)
    np.testing.assert_allclose(grad, w, rtol=1e-6)  # d z_q / d z_e = I, though z_q is piecewise constant


def test_straight_through_gradient_trains_the_encoder():
    # no commitment term and an EMA codebook: the encoder's only gradient is the decoder's, passed straight through
    model = aezoo.build("vq-vae", **dict(SMALL, ema=True, commitment_cost=0.0, restart_after=0))
    model.compile(optimizer=keras.optimizers.SGD(1.0))
    before = [np.array(w) for w in model.encoder.trainable_weights]
    model.fit(_data(), epochs=1, batch_size=16, verbose=0)
    after = [np.array(w) for w in model.encoder.trainable_weights]
    assert all(not np.array_equal(b, a) for b, a in zip(before, after))  # a zero gradient would leave them exact


def test_quantised_latents_are_the_nearest_codebook_rows():
    model = aezoo.build("vq-vae", **SMALL)
    x = _data()
    latents, indices = model.encode(x), model.encode(x, indices=True)
    assert latents.shape == (16, 2, 2, 3) and indices.shape == (16, 2, 2) and indices.dtype == np.int32
    codebook = model.codebook
    np.testing.assert_array_equal(latents, codebook[indices])
    z_e = inference.run(model.encoder, x).reshape(-1, 3).astype("float64")
    distances = ((z_e[:, None, :] - codebook[None].astype("float64")) ** 2).sum(-1)
    chosen = distances[np.arange(len(z_e)), indices.ravel()]
    np.testing.assert_allclose(chosen, distances.min(axis=1), atol=1e-5)


def test_indices_round_trip_through_decode():
    model = aezoo.build("vq-vae", **SMALL)
    x = _data()
    indices = model.encode(x, indices=True)
    from_indices = model.decode(indices)
    np.testing.assert_allclose(from_indices, model.decode(model.encode(x)), atol=1e-6)
    np.testing.assert_allclose(from_indices, model.reconstruct(x), atol=1e-5)
    np.testing.assert_allclose(model.decode(indices[0]), from_indices[:1], atol=1e-6)  # one grid, no batch axis
    assert model.decode(indices.astype("int64")).shape == x.shape


# ------------------------------------------------------------------------------ EMA
def test_ema_moves_codes_to_the_mean_of_their_vectors_and_is_not_trained():
    layer = _quantizer([[0.0, 0.0], [10.0, 10.0], [-10.0, 10.0]], ema=True, ema_decay=0.99, restart_after=0)
    assert layer.trainable_weights == [] and any(w is layer.codebook for w in layer.non_trainable_weights)

    layer(np.array([[1.0, 1.0], [2.0, 0.0], [9.0, 9.0], [11.0, 12.0]], "float32"), training=True)
    # counts and sums both start at 0 and decay alike: after one step each code is its vectors' mean
    np.testing.assert_allclose(_np(layer.codebook), [[1.5, 0.5], [10.0, 10.5], [-10.0, 10.0]], rtol=1e-5)

    layer(np.array([[3.0, 3.0]], "float32"), training=True)
    d = 0.99
    count = d * (1 - d) * 2 + (1 - d) * 1
    total = d * (1 - d) * np.array([3.0, 1.0]) + (1 - d) * np.array([3.0, 3.0])
    np.testing.assert_allclose(_np(layer.codebook)[0], total / count, rtol=1e-5)  # moved towards (3, 3)
    np.testing.assert_allclose(_np(layer.codebook)[1:], [[10.0, 10.5], [-10.0, 10.0]], rtol=1e-5)  # no vectors

    frozen = _np(layer.codebook)
    layer(np.array([[30.0, -30.0]], "float32"), training=False)  # inference leaves the codebook alone
    np.testing.assert_array_equal(_np(layer.codebook), frozen)


def test_ema_model_updates_its_codebook_in_fit_without_the_optimizer():
    model = aezoo.build("vq-vae", **dict(SMALL, ema=True, restart_after=0))
    codebook = model.quantizer.codebook
    assert all(w is not codebook for w in model.trainable_weights)
    before = model.codebook
    model.fit(_data(), epochs=1, batch_size=16, verbose=0)
    assert not np.allclose(before, model.codebook)


# ----------------------------------------------------------------------- restarts
@pytest.mark.parametrize("ema", [False, True])
def test_dead_codes_restart_from_recent_encoder_outputs(ema):
    layer = _quantizer([[0.0, 0.0], [1.0, 1.0], [100.0, 100.0]], ema=ema, restart_after=2, seed=3)
    z = np.array([[0.1, 0.1], [0.9, 0.9], [0.2, 0.0], [1.0, 0.8], [0.0, 0.3], [0.7, 1.0]], "float32")

    layer(z, training=True)  # code 2 unused for 1 step: kept
    np.testing.assert_allclose(_np(layer.embeddings)[2], [100.0, 100.0])
    np.testing.assert_array_equal(_np(layer.steps_unused), [0, 0, 1])

    for _ in range(3):  # inference does not count as unused steps
        layer(z, training=False)
    np.testing.assert_array_equal(_np(layer.steps_unused), [0, 0, 1])

    layer(z, training=True)  # unused for 2 steps: restarted to one of this batch's vectors
    restarted = _np(layer.embeddings)[2]
    assert np.min(np.abs(z - restarted).max(axis=1)) < 1e-4, restarted  # (codebook + shift rounds)
    np.testing.assert_array_equal(_np(layer.steps_unused), [0, 0, 0])
    if ema:
        assert _np(layer.ema_count)[2] == 0 and np.all(_np(layer.ema_sum)[2] == 0)
    else:  # the trainable codebook is untouched; the restart lives in the non-trainable shift
        np.testing.assert_allclose(_np(layer.codebook), [[0.0, 0.0], [1.0, 1.0], [100.0, 100.0]])
        np.testing.assert_allclose(_np(layer.embeddings)[:2], [[0.0, 0.0], [1.0, 1.0]])
        assert [w.name for w in layer.trainable_weights] == ["codebook"]


def test_restarts_can_be_turned_off():
    layer = _quantizer([[0.0, 0.0], [100.0, 100.0]], restart_after=0)
    for _ in range(3):
        layer(np.zeros((4, 2), "float32"), training=True)
    np.testing.assert_allclose(_np(layer.embeddings)[1], [100.0, 100.0])


# ---------------------------------------------------------------- code-use statistics
def test_perplexity_is_k_for_uniform_use_and_1_for_one_code():
    usage, perplexity = codebook_usage_and_perplexity(np.full(8, 5.0))
    assert float(_np(usage)) == 1.0 and float(_np(perplexity)) == pytest.approx(8.0, rel=1e-5)
    usage, perplexity = codebook_usage_and_perplexity(np.array([0.0, 0.0, 7.0, 0.0]))
    assert float(_np(usage)) == 0.25 and float(_np(perplexity)) == pytest.approx(1.0, rel=1e-6)
    usage, perplexity = codebook_usage_and_perplexity(np.array([1.0, 1.0, 0.0, 0.0]))
    assert float(_np(usage)) == 0.5 and float(_np(perplexity)) == pytest.approx(2.0, rel=1e-5)


def test_codebook_stats_over_a_data_set():
    model = aezoo.build("vq-vae", **SMALL)
    far = np.full((8, 3), 1e3, "float32")
    far[5] = 0.0  # every encoder output is nearest to code 5
    model.quantizer.codebook.assign(far)
    stats = model.codebook_stats(_data())
    assert stats["perplexity"] == pytest.approx(1.0) and stats["usage"] == pytest.approx(1 / 8)
    assert stats["counts"][5] == 16 * 2 * 2 and stats["counts"].sum() == 16 * 2 * 2


def test_fit_and_evaluate_report_codebook_use():
    model = aezoo.build("vq-vae", **SMALL)
    history = model.fit(_data(), epochs=2, batch_size=8, verbose=0).history
    for name in ("codebook_usage", "perplexity"):
        assert len(history[name]) == 2 and all(np.isfinite(history[name]))
    assert all(0 < u <= 1 for u in history["codebook_usage"]) and all(1 <= p <= 8 for p in history["perplexity"])
    x = _data(seed=1)
    results = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    stats = model.codebook_stats(x)  # one evaluation batch = the whole set
    assert results["perplexity"] == pytest.approx(stats["perplexity"], rel=1e-5)
    assert results["codebook_usage"] == pytest.approx(stats["usage"])


# ----------------------------------------------------------------- saving and the API
@pytest.mark.parametrize("ema", [False, True])
def test_keras_file_round_trip_keeps_the_codebook_state(tmp_path, ema):
    model = aezoo.build("vq-vae", **dict(SMALL, ema=ema, restart_after=1))
    x = _data()
    model.fit(x, epochs=1, batch_size=4, verbose=0)
    path = os.path.join(str(tmp_path), "vq.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, VQVAE) and restored.get_config() == model.get_config()
    for saved, loaded in zip(model.quantizer.weights, restored.quantizer.weights):
        assert saved.name == loaded.name
        np.testing.assert_array_equal(_np(saved), _np(loaded))
    np.testing.assert_array_equal(restored.encode(x, indices=True), model.encode(x, indices=True))
    np.testing.assert_allclose(restored.reconstruct(x), model.reconstruct(x), atol=1e-6)
    assert np.isfinite(restored.fit(x, epochs=1, batch_size=8, verbose=0).history["loss"][-1])


def test_interpolate_decodes_the_path_between_latent_grids():
    model = aezoo.build("vq-vae", **SMALL)
    x = _data(4)
    path = model.interpolate(x[0], x[1], steps=5)
    assert path.shape == (5, 8, 8, 1)
    np.testing.assert_allclose(path[0], model.reconstruct(x[:1])[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], model.reconstruct(x[1:2])[0], atol=1e-5)
    assert model.interpolate(x[:2], x[2:], steps=3).shape == (2, 3, 8, 8, 1)


def test_the_model_has_no_sampler_and_says_why():
    model = aezoo.build("vq-vae", **SMALL)
    assert not hasattr(model, "sample")
    assert "no ``sample``" in VQVAE.__doc__ and "prior" in aezoo.models.vq.__doc__


def test_bad_codes_and_configs_get_clear_errors():
    model = aezoo.build("vq-vae", **SMALL)
    with pytest.raises(ValueError, match=r"must lie in \[0, 8\)"):
        model.decode(np.full((1, 2, 2), 8))
    with pytest.raises(ValueError, match=r"shape \(batch, 2, 2\)"):
        model.decode(np.zeros((1, 3, 3), "int32"))
    with pytest.raises(ValueError, match=r"shape \(batch, 2, 2, 3\)"):
        model.decode(np.zeros((1, 2, 2, 4), "float32"))
    with pytest.raises(ValueError, match="num_embeddings must be an integer >= 2"):
        aezoo.build("vq-vae", **dict(SMALL, num_embeddings=1))
    with pytest.raises(ValueError, match="ema_decay"):
        aezoo.build("vq-vae", **dict(SMALL, ema_decay=1.0))
    with pytest.raises(ValueError, match="not divisible"):
        aezoo.build("vq-vae", **dict(SMALL, input_shape=(6, 6, 1)))
