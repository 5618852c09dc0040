"""What makes the sequence autoencoders themselves: ``lstm-ae`` (padding really skipped by
the encoder, the loss and the outputs; GRU cells; teacher forcing in training only) and
``conv1d-ae`` (the timesteps check); both on the shared harness, saved and trained."""

import os

import numpy as np
import pytest
import keras
from keras import ops

import aezoo
from aezoo.models.sequence import MaskedReconstructionLoss, real_steps

LSTM_SMALL = dict(input_shape=(8, 2), latent_dim=3, units=(6,), masking=True, teacher_forcing=True)
CONV1D_SMALL = dict(input_shape=(8, 2), latent_dim=3, filters=(4, 6), kernel_size=3, dropout=0.1)


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def _series(n=6, steps=8, channels=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, steps, channels)).astype("float32")


def _padded(x, lengths, value):
    x = x.copy()
    for i, length in enumerate(lengths):
        x[i, length:] = value
    return x


def _sine(n=48, steps=16, seed=0):
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi, (n, 1))
    return np.sin(phase + np.linspace(0, 2 * np.pi, steps)[None])[..., None].astype("float32")


def test_no_unit_range_required():
    """Series are any real numbers (the harness in test_architectures covers the rest)."""
    for name, config in (("lstm-ae", LSTM_SMALL), ("conv1d-ae", CONV1D_SMALL)):
        assert not aezoo.build(name, **config).requires_unit_range


# ------------------------------------------------------------------ lstm-ae
def test_encoder_skips_padded_steps():
    """The code of a zero-padded series is the code of its real steps alone, and the
    decoded real steps are those of a model built for the shorter length (same weights)."""
    long = aezoo.build("lstm-ae", input_shape=(8, 2), latent_dim=3, units=(5, 4), masking=True)
    short = aezoo.build("lstm-ae", input_shape=(5, 2), latent_dim=3, units=(5, 4), masking=True)
    short.set_weights(long.get_weights())
    x5 = _series(steps=5)
    x8 = np.concatenate([x5, np.zeros((len(x5), 3, 2), "float32")], axis=1)
    np.testing.assert_allclose(long.encode(x8), short.encode(x5), atol=1e-5)
    recon = long.reconstruct(x8)
    np.testing.assert_allclose(recon[:, :5], short.reconstruct(x5), atol=1e-5)
    assert np.all(recon[:, 5:] == 0.0)  # padding stays padding
    np.testing.assert_allclose(long.evaluate(x8, verbose=0), short.evaluate(x5, verbose=0), rtol=1e-5)


def test_padding_value_changes_nothing_on_real_steps():
    """Same weights, series padded with 0 (mask_value 0) or -5 (mask_value -5): equal codes,
    equal outputs on the real steps, equal loss; without masking the padding leaks in."""
    config = dict(input_shape=(8, 2), latent_dim=3, units=(5,))
    zero = aezoo.build("lstm-ae", masking=True, **config)
    other = aezoo.build("lstm-ae", masking=True, mask_value=-5.0, **config)
    other.set_weights(zero.get_weights())
    lengths = [8, 6, 5, 3, 7, 1]
    x = _series()
    x0, x5 = _padded(x, lengths, 0.0), _padded(x, lengths, -5.0)
    real = real_steps(x0)
    assert real.sum(axis=1).tolist() == lengths
    np.testing.assert_array_equal(real, real_steps(x5, -5.0))

    np.testing.assert_allclose(zero.encode(x0), other.encode(x5), atol=1e-5)
    p0, p5 = zero.predict(x0, verbose=0), other.predict(x5, verbose=0)
    np.testing.assert_allclose(p0[real], p5[real], atol=1e-5)
    assert np.all(p0[~real] == 0.0) and np.all(p5[~real] == -5.0)
    np.testing.assert_allclose(zero.reconstruct(x0), p0, atol=1e-5)
    np.testing.assert_allclose(zero.evaluate(x0, verbose=0), other.evaluate(x5, verbose=0), rtol=1e-5)

    plain = aezoo.build("lstm-ae", **config)
    plain.set_weights(zero.get_weights())
    assert not np.allclose(plain.encode(x0), plain.encode(x5), atol=1e-3)


def test_masked_loss_is_the_mean_over_real_steps():
    x = _padded(_series(n=3), [8, 4, 2], 0.0)
    y_pred = _series(n=3, seed=1)
    loss = MaskedReconstructionLoss("mse")
    per_example = ops.convert_to_numpy(loss.call(ops.convert_to_tensor(x), ops.convert_to_tensor(y_pred)))
    expected = [np.mean((x[i, :n] - y_pred[i, :n]) ** 2) for i, n in enumerate([8, 4, 2])]
    np.testing.assert_allclose(per_example, expected, rtol=1e-5)
    changed = y_pred.copy()
    changed[~real_steps(x)] = 100.0  # predictions on padded steps do not count
    again = loss.call(ops.convert_to_tensor(x), ops.convert_to_tensor(changed))
    np.testing.assert_allclose(ops.convert_to_numpy(again), per_example, rtol=1e-6)


def test_latent_shape_and_gru_option():
    lstm = aezoo.build("lstm-ae", input_shape=(8, 2), latent_dim=3, units=(6, 4))
    gru = aezoo.build("lstm-ae", input_shape=(8, 2), latent_dim=3, units=(6, 4), cell="gru")
    x = _series()
    for model in (lstm, gru):
        assert model.encode(x).shape == (len(x), 3)
        assert model.decode(model.encode(x)).shape == x.shape
    kinds = {type(layer).__name__ for layer in gru.encoder.layers + gru.decoder.layers}
    assert {"GRU"} <= kinds and "LSTM" not in kinds
    assert gru.count_params() < lstm.count_params()  # 3 gates + candidate vs 4
    assert gru.get_config()["cell"] == "gru"
    with pytest.raises(ValueError, match="cell must be 'lstm' or 'gru'"):
        aezoo.build("lstm-ae", input_shape=(8, 2), latent_dim=3, cell="rnn")


def test_teacher_forcing_feeds_true_steps_in_training_only():
    model = aezoo.build("lstm-ae", input_shape=(8, 2), latent_dim=3, units=(5,), teacher_forcing=True)
    steps, rnn = model.get_layer("decoder_steps"), model.get_layer("decoder_lstm")
    z = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    free = ops.convert_to_numpy(rnn(steps(z)))
    np.testing.assert_allclose(free, model.decode(ops.convert_to_numpy(z)), atol=1e-5)
    # fed its own outputs as the true series, the teacher-forced decoder reproduces them
    forced = ops.convert_to_numpy(rnn(steps(z, ops.convert_to_tensor(free), training=True)))
    np.testing.assert_allclose(forced, free, atol=1e-5)
    # a change at step 3 of the true series moves outputs from step 4 on, not before
    other = free.copy()
    other[:, 3] += 1.0
    moved = ops.convert_to_numpy(rnn(steps(z, ops.convert_to_tensor(other), training=True)))
    np.testing.assert_allclose(moved[:, :4], free[:, :4], atol=1e-6)
    assert not np.allclose(moved[:, 4:], free[:, 4:], atol=1e-4)
    # without training=True the true series is ignored
    np.testing.assert_allclose(ops.convert_to_numpy(rnn(steps(z, ops.convert_to_tensor(other)))), free, atol=1e-6)
    # the whole model: predict runs free (as reconstruct does), a training call is forced
    x = _series()
    np.testing.assert_allclose(model.predict(x, verbose=0), model.reconstruct(x), atol=1e-5)
    trained = ops.convert_to_numpy(model(ops.convert_to_tensor(x), training=True))
    np.testing.assert_allclose(trained[:, 0], model.reconstruct(x)[:, 0], atol=1e-5)  # step 0 sees zeros in both
    assert not np.allclose(trained[:, 1:], model.reconstruct(x)[:, 1:], atol=1e-4)


def test_round_trip_keeps_masked_loss_and_gru(tmp_path):
    model = aezoo.build("lstm-ae", input_shape=(8, 2), latent_dim=3, units=(4,), cell="gru", masking=True,
                        mask_value=-1.0)
    x = _padded(_series(), [8, 6, 5, 3, 7, 2], -1.0)
    model.fit(x, epochs=1, verbose=0)
    path = os.path.join(str(tmp_path), "lstm.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored.loss, MaskedReconstructionLoss) and restored.loss.mask_value == -1.0
    assert restored.get_config() == model.get_config()
    np.testing.assert_allclose(restored.reconstruct(x), model.reconstruct(x), atol=1e-5)
    np.testing.assert_allclose(restored.evaluate(x, verbose=0), model.evaluate(x, verbose=0), rtol=1e-5)


@pytest.mark.parametrize("name, config", [
    ("lstm-ae", dict(units=(16,), latent_dim=4)),
    ("conv1d-ae", dict(filters=(8, 8), kernel_size=3, latent_dim=4)),
])
def test_tiny_fit_lowers_the_loss_on_a_sine_wave(name, config):
    x = _sine()
    model = aezoo.build(name, input_shape=x.shape[1:], **config)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = model.evaluate(x, verbose=0)
    model.fit(x, epochs=15, batch_size=16, verbose=0)
    assert model.evaluate(x, verbose=0) < 0.5 * before


# ------------------------------------------------------------------ input checks
def test_conv1d_timesteps_error_names_nearest_sizes():
    with pytest.raises(ValueError, match=r"timesteps 140 is not divisible by 2\*\*3=8.*136 or 144"):
        aezoo.build("conv1d-ae", input_shape=(140, 1), filters=(8, 8, 8))
    with pytest.raises(ValueError, match=r"2\*\*2=4.*pad series to 4 steps"):
        aezoo.build("conv1d-ae", input_shape=(3, 1), latent_dim=1, filters=(4, 4))
    assert aezoo.build("conv1d-ae", input_shape=(140, 1), filters=(8, 8)).data_shape == (140, 1)


def test_input_errors_speak_of_series_not_images():
    model = aezoo.build("conv1d-ae", **CONV1D_SMALL)
    far = (_series() * 50.0).astype("float32")  # any real values are accepted
    assert model.reconstruct(far).shape == far.shape
    with pytest.raises(ValueError, match="float array") as error:
        model.encode(far.astype("int64"))
    assert "[0, 1]" not in str(error.value) and "images" not in str(error.value)
    with pytest.raises(ValueError, match="has 16 steps, the model takes 8.*windows"):
        model.encode(_series(steps=16))
    uni = aezoo.build("lstm-ae", input_shape=(8, 1), latent_dim=2, units=(4,))
    with pytest.raises(ValueError, match=r"add a channel axis: x\[\.\.\., None\]"):
        uni.encode(np.zeros((3, 8), "float32"))
    with pytest.raises(ValueError, match=r"\(timesteps, channels\).*\(T, 1\)"):
        aezoo.build("lstm-ae", input_shape=(8,), latent_dim=2)
