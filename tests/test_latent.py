"""Latent tools: attribute vectors, anomaly scores and thresholds, compression, features."""

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

import aezoo
from aezoo.uses import latent


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return (d.images[..., None] / 16.0).astype("float32"), d.target


@pytest.fixture(scope="module")
def trained_ae(digits):
    import keras

    x, y = digits
    keras.utils.set_random_seed(0)
    model = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=8, hidden_units=(64,))
    model.fit(x[y != 9], epochs=40, batch_size=64, verbose=0)  # 9s held out as the anomaly
    return model


def test_attribute_vector_moves_codes_the_right_way(trained_ae, digits):
    x, y = digits
    vec = latent.attribute_vector(trained_ae, x[y == 0][:20], x[y == 1][:20])
    assert vec.shape == (8,)
    sweep = latent.apply_attribute(trained_ae, x[y == 1][:3], vec, strengths=(0.0, 1.0))
    assert sweep.shape == (3, 2, 8, 8, 1)
    # adding the "zero minus one" direction moves the reconstruction toward the mean zero
    zero_mean = x[y == 0].mean(axis=0)
    before = np.mean((sweep[:, 0] - zero_mean) ** 2)
    after = np.mean((sweep[:, 1] - zero_mean) ** 2)
    assert after < before
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        latent.apply_attribute(trained_ae, x[:1], np.zeros(3))


def test_held_out_class_scores_as_anomalous(trained_ae, digits):
    x, y = digits
    normal, anomalous = x[y != 9][-200:], x[y == 9]
    value = latent.auroc(latent.anomaly_score(trained_ae, normal), latent.anomaly_score(trained_ae, anomalous))
    assert value > 0.6, value
    detector = latent.AnomalyDetector(trained_ae, quantile=0.95).fit(x[y != 9])
    assert 0.02 < np.mean(detector.predict(normal)) < 0.15
    assert np.mean(detector.predict(anomalous)) > np.mean(detector.predict(normal))


def test_vae_anomaly_score_is_negative_elbo():
    vae = aezoo.build("dense-vae", input_shape=(6,), latent_dim=2, hidden_units=(8,))
    x = np.random.default_rng(0).uniform(size=(5, 6)).astype("float32")
    np.testing.assert_allclose(latent.anomaly_score(vae, x), -vae.elbo(x, seed=0), rtol=1e-6)
    with pytest.raises(ValueError, match="fit"):
        latent.AnomalyDetector(vae).predict(x)


@pytest.mark.parametrize("bits", [4, 8, 12])
def test_compression_round_trip(trained_ae, digits, bits):
    x = digits[0][:50]
    blob = latent.compress(trained_ae, x, bits=bits)
    assert len(blob) == 19 + int(np.ceil(50 * 8 * bits / 8))
    restored = latent.decompress(trained_ae, blob)
    direct = trained_ae.reconstruct(x)
    # quantisation error shrinks with more bits
    err = np.mean((restored - direct) ** 2)
    assert err < {4: 1e-2, 8: 1e-4, 12: 1e-6}[bits]
    with pytest.raises(ValueError, match="truncated"):
        latent.decompress(trained_ae, blob[:-4])
    with pytest.raises(ValueError, match="magic"):
        latent.decompress(trained_ae, b"nope" + blob[4:])


def test_extract_features_from_array_and_folder(trained_ae, digits, tmp_path):
    feats = latent.extract_features(trained_ae, digits[0][:10], tmp_path / "f.npy")
    assert feats.shape == (10, 8)
    np.testing.assert_array_equal(np.load(tmp_path / "f.npy"), feats)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray((digits[0][i, ..., 0] * 255).astype("uint8")).resize((16, 16)).save(folder / f"{i}.png")
    assert latent.extract_features(trained_ae, str(folder)).shape == (3, 8)


def test_preset_attribute_vector_reads_the_stored_direction(trained_ae):
    trained_ae.preset_metadata = {"attribute_vectors": {
        "Smiling": {"vector": list(np.arange(trained_ae.latent_dim, dtype=float)), "examples_each": 20}}}
    try:
        v = latent.preset_attribute_vector(trained_ae, "Smiling")
        np.testing.assert_array_equal(v, np.arange(trained_ae.latent_dim))
        with pytest.raises(ValueError, match="Did you mean"):
            latent.preset_attribute_vector(trained_ae, "Smilin")
        trained_ae.preset_metadata = {}
        with pytest.raises(ValueError, match="no stored attribute vectors"):
            latent.preset_attribute_vector(trained_ae, "Smiling")
    finally:
        trained_ae.preset_metadata = None
