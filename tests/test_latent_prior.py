"""The fitted latent prior (ex-post density estimation) and the sample Fréchet distance."""

import tempfile
from pathlib import Path

import numpy as np
import pytest

import aezoo
from aezoo import presets
from aezoo.evaluation.samples import frechet_distance, sample_metrics
from aezoo.models.latent_prior import GaussianLatentPrior


@pytest.fixture
def correlated(rng):
    mixing = np.array([[2.0, 0.0, 0.0], [1.5, 0.5, 0.0], [0.0, -1.0, 0.3]])
    return rng.standard_normal((20_000, 3)) @ mixing.T + np.array([1.0, -2.0, 0.5]), mixing @ mixing.T


def test_fit_recovers_mean_and_covariance_and_samples_follow_them(correlated):
    codes, cov = correlated
    prior = GaussianLatentPrior.fit(codes)
    assert prior.examples == len(codes) and prior.latent_dim == 3
    np.testing.assert_allclose(prior.mean, [1.0, -2.0, 0.5], atol=0.05)
    np.testing.assert_allclose(prior.scale_tril @ prior.scale_tril.T, cov, atol=0.1)
    draws = prior.sample(20_000, seed=1)
    assert draws.dtype == np.float32 and draws.shape == (20_000, 3)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), cov, atol=0.15)
    np.testing.assert_allclose(np.cov(prior.sample(20_000, seed=1, temperature=0.5), rowvar=False), cov / 4,
                               atol=0.05)
    np.testing.assert_array_equal(prior.sample(4, seed=3), prior.sample(4, seed=3))


def test_log_density_is_the_gaussian_density(correlated):
    from scipy.stats import multivariate_normal

    prior = GaussianLatentPrior.fit(correlated[0])
    z = correlated[0][:50]
    expected = multivariate_normal(prior.mean, prior.scale_tril @ prior.scale_tril.T).logpdf(z)
    np.testing.assert_allclose(prior.log_density(z), expected, rtol=1e-9)
    with pytest.raises(ValueError, match=r"codes must have shape \(n, 3\)"):
        prior.log_density(z[:, :2])


def test_fewer_codes_than_dimensions_still_fit():
    prior = GaussianLatentPrior.fit(np.random.default_rng(0).standard_normal((5, 16)))  # rank 4: the ridge helps
    assert np.all(np.isfinite(prior.sample(3, seed=0)))


@pytest.mark.parametrize("codes, message", [
    (np.zeros((1, 4)), "n >= 2"), (np.zeros(8), "n >= 2"), (np.full((4, 2), np.nan), "NaN"),
])
def test_bad_codes_are_refused(codes, message):
    with pytest.raises(ValueError, match=message):
        GaussianLatentPrior.fit(codes)


def test_save_is_atomic_and_round_trips(correlated, tmp_path, monkeypatch):
    prior = GaussianLatentPrior.fit(correlated[0])
    back = GaussianLatentPrior.load(prior.save(tmp_path / "p.npz"))
    np.testing.assert_allclose(back.mean, prior.mean, rtol=1e-6)
    np.testing.assert_allclose(back.scale_tril, prior.scale_tril, rtol=1e-6, atol=1e-7)
    assert back.examples == prior.examples

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        prior.save(tmp_path / "q.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.npz"]  # no half-written file, no temp left


@pytest.fixture(scope="module")
def _vae_once():
    model = aezoo.build("dense-vae", input_shape=(6, 6, 1), latent_dim=3, hidden_units=(16,))
    x = np.random.default_rng(0).uniform(size=(64, 6, 6, 1)).astype("float32")
    return model, x


@pytest.fixture
def vae(_vae_once):
    """A small VAE shared by the module, with no fitted prior before and after each test."""
    _vae_once[0].latent_prior = None
    try:
        yield _vae_once
    finally:
        _vae_once[0].latent_prior = None


def test_sample_uses_the_fitted_prior_once_there_is_one(vae):
    model, x = vae
    model.latent_prior = None
    with pytest.raises(ValueError, match="fit_latent_prior"):
        model.sample(2, prior="fitted")
    np.testing.assert_array_equal(model.sample(4, seed=0), model.sample(4, seed=0, prior="standard"))
    prior = model.fit_latent_prior(x)
    np.testing.assert_allclose(prior.mean, model.encode(x).mean(0), rtol=1e-5, atol=1e-6)
    auto, fitted = model.sample(4, seed=0), model.sample(4, seed=0, prior="fitted")
    np.testing.assert_array_equal(auto, fitted)
    assert not np.allclose(fitted, model.sample(4, seed=0, prior="standard"))
    with pytest.raises(ValueError, match="prior must be"):
        model.sample(2, prior="gaussian")
    assert oct(prior.save(Path(tempfile.mkdtemp()) / "p.npz").stat().st_mode & 0o777) == "0o644"
    with pytest.raises(ValueError, match="positive integer"):
        model.sample(0)


def test_a_preset_folder_carries_the_prior(vae, tmp_path):
    model, x = vae
    model.fit_latent_prior(x)
    folder = presets.save_preset(model, tmp_path / "p", preset="tiny-vae")
    assert presets.LATENT_PRIOR_FILE in presets.read_metadata(folder)["files"]
    loaded = presets.load_preset_folder(folder)
    np.testing.assert_allclose(loaded.sample(3, seed=1), model.sample(3, seed=1), atol=1e-5)

    other = aezoo.build("dense-vae", input_shape=(6, 6, 1), latent_dim=2, hidden_units=(16,))
    other.latent_prior = GaussianLatentPrior.fit(np.random.default_rng(0).standard_normal((10, 3)))
    with pytest.raises(ValueError, match="latent prior is 3-d, its codes 2-d"):
        presets.save_preset(other, tmp_path / "bad", preset="bad")
    assert not (tmp_path / "bad").exists()


def test_frechet_distance_of_gaussians(rng):
    a = rng.standard_normal((5000, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # same covariance, means 2 apart along every axis: ||mu_a - mu_b||^2 = 16
    assert frechet_distance(a, a + 2.0) == pytest.approx(16.0, rel=1e-6)
    # N(0, I) against N(0, 4I) in 4-d: tr(I + 4I - 2 * 2I) = 4
    assert frechet_distance(a, 2.0 * rng.standard_normal((5000, 4))) == pytest.approx(4.0, rel=0.1)
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(a, a[:, :3])


def test_sample_metrics_report_every_reference(vae):
    model, x = vae
    x_train = np.random.default_rng(1).uniform(size=(40, 6, 6, 1)).astype("float32")
    out = sample_metrics(model, x_train, x[:20], components=8)
    assert set(out) == {"sample_fd_standard", "reconstruction_fd", "train_test_fd"}
    model.fit_latent_prior(x_train)
    assert "sample_fd_fitted" in sample_metrics(model, x_train, x[:20], components=8)
    with pytest.raises(ValueError, match="training images"):
        sample_metrics(model, x_train[:10], x[:20], components=8)
    with pytest.raises(ValueError, match="more than 8 test images"):
        sample_metrics(model, x_train, x[:8], components=8)


def test_bundled_face_vae_samples_are_closer_to_faces_with_its_fitted_prior():
    """The reason the prior ships: N(0, I) draws of conv-vae-faces are far from faces."""
    meta = presets.read_metadata(presets.bundled_weights_dir() / "conv-vae-faces")
    assert presets.LATENT_PRIOR_FILE in meta["files"]
    metrics = meta["metrics"]
    assert metrics["sample_fd_fitted"] < metrics["sample_fd_standard"] / 5
    assert aezoo.load("conv-vae-faces").latent_prior.latent_dim == 128


def test_fine_tuning_refits_the_prior_to_the_new_data(vae):
    model, x = vae
    model.compile()
    model.fit_latent_prior(x)
    before = model.latent_prior.mean.copy()
    model.fit(x, epochs=2, batch_size=16, verbose=0)
    np.testing.assert_allclose(model.latent_prior.mean, model.encode(x).mean(0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(model.latent_prior.mean, before)

    def batches():  # not an array: nothing to refit on
        for start in range(0, len(x), 16):
            yield x[start:start + 16], x[start:start + 16]

    with pytest.warns(UserWarning, match="fit_latent_prior"):
        model.fit(batches(), epochs=1, verbose=0)


def test_a_conditional_vae_has_no_fitted_prior_and_recipes_say_so_before_training():
    from aezoo.training.recipe import Recipe
    from aezoo.training.runner import run_recipe

    cvae = aezoo.build("conditional-vae", input_shape=(6, 6, 1), num_classes=2, latent_dim=2, hidden_units=(8,))
    with pytest.raises(NotImplementedError, match="N\\(0, I\\)"):
        cvae.fit_latent_prior(np.zeros((4, 6, 6, 1), "float32"))
    recipe = Recipe(preset="tiny-ae", architecture="dense-ae", dataset="mnist", epochs=1,
                    config=dict(input_shape=(28, 28, 1), latent_dim=2, hidden_units=(8,)), fit_latent_prior=True)
    with pytest.raises(ValueError, match="fit_latent_prior=True needs a VAE"):
        run_recipe(recipe, smoke=True, save=False, verbose=0)
