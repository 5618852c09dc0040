"""Tests of aezoo.evaluation: each metric against a hand-computed or library value."""

import json
import math

import numpy as np
import pytest
import scipy.stats
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

import aezoo
from aezoo import evaluation as ev
from aezoo.evaluation import nll


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def digits():
    """sklearn digits, 8x8 in [0, 1], one fixed binarisation; first 1500 train, rest test."""
    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]
    x = ev.binarize(x, seed=0)
    y = data.target
    return x[:1500], y[:1500], x[1500:], y[1500:]


@pytest.fixture(scope="module")
def vae(digits):
    x_train = digits[0]
    model = aezoo.build("dense-vae", input_shape=(8, 8, 1), latent_dim=2, hidden_units=(32,), seed=0)
    model.fit(x_train, epochs=3, batch_size=100, verbose=0)
    return model


def _smooth_images(n, h, w, c, seed):
    """Images with structure (blurred noise), in [0, 1], for SSIM comparisons."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    x = ndimage.gaussian_filter(rng.random((n, h, w, c)), sigma=(0, 1.5, 1.5, 0))
    x = (x - x.min()) / (x.max() - x.min())
    noisy = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1)
    return x, noisy


# ---------------------------------------------------- reconstruction metrics
def test_mse_and_squared_error_per_image_hand_computed():
    x = np.zeros((2, 2, 2, 1))
    x_hat = np.zeros((2, 2, 2, 1))
    x_hat[0, 0, 0, 0] = 1.0  # image 0: squared error 1
    x_hat[1] = 0.5  # image 1: 4 pixels * 0.25 = 1
    assert ev.squared_error_per_image(x, x_hat) == pytest.approx(1.0)
    assert ev.mse_per_pixel(x, x_hat) == pytest.approx(2.0 / 8)


def test_psnr_of_known_noise_level():
    rng = np.random.default_rng(0)
    x = rng.random((4, 16, 16, 1))
    x_hat = x + 0.1 * rng.choice([-1.0, 1.0], size=x.shape)  # every per-image MSE is 0.01
    assert ev.psnr(x, x_hat) == pytest.approx(20.0)
    assert ev.psnr(x * 255, x_hat * 255, data_range=255.0) == pytest.approx(20.0)
    assert ev.psnr(x, x) == math.inf


def test_psnr_is_mean_of_per_image_values():
    x = np.zeros((2, 4))
    x_hat = np.stack([np.full(4, 0.1), np.full(4, 0.01)])  # MSE 1e-2 and 1e-4: 20 and 40 dB
    assert ev.psnr(x, x_hat) == pytest.approx(30.0)


@pytest.mark.parametrize("metric", [ev.mse_per_pixel, ev.squared_error_per_image, ev.psnr, ev.ssim])
def test_metrics_refuse_mismatched_shapes(metric):
    with pytest.raises(ValueError, match="same shape"):
        metric(np.zeros((2, 8, 8, 1)), np.zeros((2, 8, 8)))


def test_ssim_of_identical_images_is_one():
    x, _ = _smooth_images(3, 16, 16, 3, seed=0)
    assert ev.ssim(x, x) == pytest.approx(1.0)
    assert ev.ssim(x[..., :1], x[..., :1]) == pytest.approx(1.0)


def test_ssim_decreases_with_noise_and_gray_equals_one_channel():
    x, noisy = _smooth_images(3, 16, 16, 1, seed=1)
    more = np.clip(x + 0.3 * np.random.default_rng(2).standard_normal(x.shape), 0, 1)
    assert 1.0 > ev.ssim(x, noisy) > ev.ssim(x, more)
    assert ev.ssim(x[..., 0], noisy[..., 0]) == pytest.approx(ev.ssim(x, noisy))


def test_ssim_refuses_non_images():
    with pytest.raises(ValueError, match="images"):
        ev.ssim(np.zeros((2, 64)), np.zeros((2, 64)))


def test_ssim_window_fixed_and_small_image_rule():
    assert ev.ssim_window(28, 28) == (11, 1.5)
    size, sigma = ev.ssim_window(8, 8)
    assert size == 7 and sigma == pytest.approx(1.5 * 7 / 11)
    assert ev.ssim_window(10, 12)[0] == 9


@pytest.mark.parametrize("shape", [(3, 24, 20, 3), (4, 8, 8, 1)])
def test_ssim_matches_scikit_image(shape):
    metrics = pytest.importorskip("skimage.metrics")
    x, noisy = _smooth_images(*shape, seed=3)
    size, sigma = ev.ssim_window(shape[1], shape[2])
    expected = np.mean([
        metrics.structural_similarity(
            a, b, data_range=1.0, channel_axis=-1, gaussian_weights=True, sigma=sigma,
            use_sample_covariance=False, K1=0.01, K2=0.03,
        )
        for a, b in zip(x, noisy)
    ])
    assert ev.ssim(x, noisy) == pytest.approx(expected, abs=1e-10)
    assert ev.ssim(x, noisy, batch_size=1) == pytest.approx(expected, abs=1e-10)


# ---------------------------------------------------------------- likelihood
def test_log_normal_pieces_match_scipy():
    rng = np.random.default_rng(0)
    z, mean, log_var = rng.standard_normal((3, 5, 4))
    expected_prior = scipy.stats.norm.logpdf(z).sum(-1)
    expected_q = scipy.stats.norm.logpdf(z, loc=mean, scale=np.exp(0.5 * log_var)).sum(-1)
    np.testing.assert_allclose(nll._log_standard_normal(z), expected_prior, rtol=1e-12)
    np.testing.assert_allclose(nll._log_diag_normal(z, mean, log_var), expected_q, rtol=1e-12)


def test_binarize_is_seeded_and_idempotent():
    x = np.random.default_rng(0).random((50, 8, 8, 1)).astype("float32")
    b = ev.binarize(x, seed=0)
    assert set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_array_equal(b, ev.binarize(x, seed=0))
    np.testing.assert_array_equal(ev.binarize(b, seed=5), b)
    assert abs(b.mean() - x.mean()) < 0.02


def _linear_gaussian_vae(d=6, latent=2, sigma=0.5, seed=0):
    """A dense-vae that is the linear Gaussian model p(z) = N(0, I), p(x|z) = N(K^T z + b, sigma^2 I),
    with its encoder set to the exact posterior. Then log p(x) = log N(x; b, K^T K + sigma^2 I)."""
    rng = np.random.default_rng(seed)
    model = aezoo.build("dense-vae", input_shape=(d,), latent_dim=latent, hidden_units=(),
                        likelihood="gaussian", observation_sigma=sigma)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    k = q[:latent] * np.array([2.0, 0.7])[:, None]  # orthogonal rows: K K^T diagonal
    b = rng.standard_normal(d) * 0.3
    post_var = 1.0 / (1.0 + np.sum(k**2, axis=1) / sigma**2)  # diag of (I + K K^T / sigma^2)^-1
    e = k.T * post_var / sigma**2  # posterior mean = (x - b) @ e
    model.decoder.get_layer("decoder_output").set_weights([k, b])
    model.encoder.get_layer("encoder_z_mean").set_weights([e, -b @ e])
    model.encoder.get_layer("encoder_z_log_var").set_weights([np.zeros((d, latent)), np.log(post_var)])
    marginal = scipy.stats.multivariate_normal(mean=b, cov=k.T @ k + sigma**2 * np.eye(d))
    return model, marginal


def test_importance_sampled_nll_is_exact_for_linear_gaussian_model():
    model, marginal = _linear_gaussian_vae()
    x = np.random.default_rng(1).standard_normal((20, 6)).astype("float32")
    expected = -marginal.logpdf(x)
    for k in (1, 7):
        np.testing.assert_allclose(ev.importance_sampled_nll(model, x, k=k, batch_size=8), expected, rtol=1e-4)
    # the exact posterior makes the ELBO tight too, in expectation (its likelihood term is sampled)
    assert np.mean(-model.elbo(x, samples=100, seed=0)) == pytest.approx(expected.mean(), abs=0.1)


def test_importance_sampled_nll_does_not_depend_on_batching(vae, digits):
    x = digits[2][:10]
    a = ev.importance_sampled_nll(vae, x, k=30, batch_size=4096, seed=3)
    b = ev.importance_sampled_nll(vae, x, k=30, batch_size=7, seed=3)  # chunks over samples too
    np.testing.assert_allclose(a, b, rtol=1e-5)
    assert a.shape == (10,) and np.all(np.isfinite(a))
    assert not np.allclose(a, ev.importance_sampled_nll(vae, x, k=30, seed=4))


def test_importance_sampled_nll_k1_is_negative_elbo_in_expectation(vae, digits):
    x = digits[2]
    nll_1 = ev.importance_sampled_nll(vae, x, k=1, seed=0)
    neg_elbo = -vae.elbo(x, samples=20, seed=1)
    diff = nll_1 - neg_elbo
    stderr = diff.std() / math.sqrt(len(diff))
    assert abs(diff.mean()) < 4 * stderr + 1e-3


def test_importance_sampled_nll_is_tighter_than_elbo(vae, digits):
    x = digits[2]
    nll_k = ev.importance_sampled_nll(vae, x, k=100, seed=0)
    neg_elbo = -vae.elbo(x, samples=20, seed=1)
    assert nll_k.mean() < neg_elbo.mean()


def test_importance_sampled_nll_refuses_non_vae_and_bad_k(vae):
    ae = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,))
    x = np.zeros((2, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="VariationalAutoencoder"):
        ev.importance_sampled_nll(ae, x, k=5)
    with pytest.raises(ValueError, match="k must"):
        ev.importance_sampled_nll(vae, x, k=0)


# --------------------------------------------------------- baseline and probe
def test_pca_baseline_equals_sklearn_reconstruction(digits):
    x_train, _, x_test, _ = digits
    result = ev.pca_baseline(x_train, x_test, 5)
    pca = PCA(5).fit(x_train.reshape(len(x_train), -1))
    flat = x_test.reshape(len(x_test), -1)
    x_hat = pca.inverse_transform(pca.transform(flat))
    assert result["mse_per_pixel"] == pytest.approx(np.mean((flat - x_hat) ** 2), rel=1e-6)
    assert result["squared_error_per_image"] == pytest.approx(np.mean(np.sum((flat - x_hat) ** 2, 1)), rel=1e-6)
    assert ev.pca_baseline(x_train, x_test, 20)["mse_per_pixel"] < result["mse_per_pixel"]
    with pytest.raises(ValueError, match="n_components"):
        ev.pca_baseline(x_train, x_test, 65)


def test_linear_probe_separable_and_random_labels():
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((4, 3)) * 10
    y_train, y_test = rng.integers(0, 4, 400), rng.integers(0, 4, 400)
    z_train = centers[y_train] + rng.standard_normal((400, 3))
    z_test = centers[y_test] + rng.standard_normal((400, 3))
    assert ev.linear_probe(z_train, y_train, z_test, y_test) > 0.99
    chance = ev.linear_probe(z_train, rng.integers(0, 4, 400), z_test, rng.integers(0, 4, 400))
    assert abs(chance - 0.25) < 0.1
    with pytest.raises(ValueError, match="same length"):
        ev.linear_probe(z_train, y_train[:10], z_test, y_test)


def test_knn_probe_sees_neighbours_a_straight_cut_cannot_split():
    """Two concentric rings in 2-d: no line separates them, every neighbourhood does."""
    rng = np.random.default_rng(0)

    def rings(n):
        y = rng.integers(0, 2, n)
        angle = rng.uniform(0, 2 * np.pi, n)
        radius = 1.0 + 2.0 * y + rng.normal(0, 0.1, n)
        return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), y

    (z_train, y_train), (z_test, y_test) = rings(400), rings(200)
    assert ev.knn_probe(z_train, y_train, z_test, y_test, n_neighbors=5) > 0.99
    assert ev.linear_probe(z_train, y_train, z_test, y_test) < 0.75
    with pytest.raises(ValueError, match=r"n_neighbors must be in \[1, 400\]"):
        ev.knn_probe(z_train, y_train, z_test, y_test, n_neighbors=0)
    with pytest.raises(ValueError, match="whole number"):
        ev.knn_probe(z_train, y_train, z_test, y_test, n_neighbors=2.7)
    with pytest.raises(ValueError, match="same length"):
        ev.knn_probe(z_train, y_train[:10], z_test, y_test)


# ------------------------------------------------------------------ evaluate
COMMON_KEYS = {"mse_per_pixel", "squared_error_per_image", "psnr", "ssim",
               "pca_mse_per_pixel", "pca_squared_error_per_image", "linear_probe_accuracy",
               "raw_pixel_probe_accuracy", "protocol"}


def test_evaluate_autoencoder_keys_and_protocol(digits):
    x_train, y_train, x_test, y_test = digits
    ae = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,))
    results = ev.evaluate(ae, x_test, x_train, y_train, y_test, max_examples=100)
    assert set(results) == COMMON_KEYS
    assert results["mse_per_pixel"] == pytest.approx(ev.mse_per_pixel(x_test[:100], ae.reconstruct(x_test[:100])))
    # the raw-pixel bar is the same probe on the pixels of the same examples
    assert results["raw_pixel_probe_accuracy"] == ev.linear_probe(x_train, y_train, x_test[:100], y_test[:100])
    assert results["raw_pixel_probe_accuracy"] > 0.6  # far above chance (0.1) even on binarised 8x8 digits
    protocol = results["protocol"]
    assert protocol["n_examples"] == 100 and protocol["split"] == "test"
    assert protocol["ssim_window"].startswith("7x7") and protocol["pca_components"] == 2
    assert protocol["nll_k"] is None and protocol["name"] == ev.PROTOCOL["name"]
    json.dumps(results)  # ready for metadata.json
    with pytest.raises(ValueError, match="VariationalAutoencoder"):
        ev.evaluate(ae, x_test, nll_samples=10)
    with pytest.raises(ValueError, match="linear probe"):
        ev.evaluate(ae, x_test, y_test=y_test)


def test_evaluate_vae_keys_and_values(vae, digits):
    x_train, y_train, x_test, y_test = digits
    results = ev.evaluate(vae, x_test, x_train, y_train, y_test, nll_samples=20, binarized=True, max_examples=50)
    assert set(results) == COMMON_KEYS | {"elbo", "nll_is"}
    assert results["nll_is"] < -results["elbo"] + 1.0
    protocol = results["protocol"]
    assert protocol["nll_k"] == 20 and protocol["binarized"] and protocol["n_examples"] == 50
    assert protocol["binarization"]["test_seed"] == ev.PROTOCOL["binarization"]["test_seed"]
    # data already binary: the protocol's binarisation leaves it as is
    assert results["elbo"] == pytest.approx(float(np.mean(vae.elbo(x_test[:50], seed=0))))
    minimal = ev.evaluate(vae, x_test[:20])
    assert set(minimal) == {"mse_per_pixel", "squared_error_per_image", "psnr", "ssim", "elbo", "protocol"}
    json.dumps(results)


def test_long_work_shows_progress_on_stderr_only_when_asked(monkeypatch, capsys):
    """IS-NLL reports progress on stderr (a terminal, or AEZOO_PROGRESS=1), never on stdout."""
    import aezoo
    from aezoo.evaluation.nll import importance_sampled_nll

    vae = aezoo.build("dense-vae", input_shape=(4,), latent_dim=2, hidden_units=(8,), seed=0)
    x = np.random.default_rng(0).uniform(size=(20, 4)).astype("float32")
    monkeypatch.setenv("AEZOO_PROGRESS", "0")
    quiet = importance_sampled_nll(vae, x, k=8, batch_size=16)
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""
    monkeypatch.setenv("AEZOO_PROGRESS", "1")
    shown = importance_sampled_nll(vae, x, k=8, batch_size=16)
    out = capsys.readouterr()
    assert "IS-NLL (k=8)" in out.err and "20/20 examples" in out.err and out.out == ""
    np.testing.assert_array_equal(quiet, shown)
