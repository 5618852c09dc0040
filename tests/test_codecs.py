"""What makes the learned codecs codecs: the objective is R + lambda * 255^2 * D with R
from the entropy models, quantisation is rounding (around the medians for the factorized
prior), any image size whose sides divide by the total stride works, and training lowers
the objective. The harness (tests/harness.py) covers shapes, config and saving."""

import numpy as np
import pytest
from keras import ops

import aezoo
from aezoo.models import inference
from aezoo.models.rate_distortion import DISTORTION_SCALE, QUALITY_LAMBDAS
from aezoo.training.recipe import load_recipe

SMALL = {"factorized-codec": dict(input_shape=(32, 32, 3), filters=8, latent_dim=6, lmbda=0.01, seed=0),
         "hyperprior-codec": dict(input_shape=(64, 64, 3), filters=6, latent_dim=6, lmbda=0.01, seed=0)}


def smooth_images(n, size, seed=0):
    """Smooth colour fields (compressible, unlike uniform noise): low-frequency sinusoids."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, size, dtype="float32")
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    images = []
    for _ in range(n):
        f = rng.uniform(0.5, 2.0, (3, 2))
        phase = rng.uniform(0, 2 * np.pi, 3)
        images.append(np.stack([0.5 + 0.4 * np.sin(2 * np.pi * (f[c, 0] * xx + f[c, 1] * yy) + phase[c])
                                for c in range(3)], -1))
    return np.asarray(images, "float32")


@pytest.mark.parametrize("name", sorted(SMALL))
def test_evaluated_loss_is_rate_plus_weighted_distortion(name):
    """``evaluate`` (rounding, no noise, no quantile loss) is mean bpp + lambda * 255^2 * MSE,
    with the rate that ``bits_per_pixel`` reports and the unclipped synthesis output."""
    model = aezoo.build(name, **SMALL[name])
    x = smooth_images(8, SMALL[name]["input_shape"][0])
    model.fit(x, epochs=1, batch_size=8, verbose=0)  # move the quantiles off their start
    loss = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    bpp = model.bits_per_pixel(x)
    x_hat = inference.run(model.decoder, model.encode(x))
    mse = float(np.mean((x - x_hat) ** 2))
    assert loss["bpp"] == pytest.approx(float(bpp.mean()), rel=1e-4)
    assert loss["loss"] == pytest.approx(float(bpp.mean()) + model.lmbda * DISTORTION_SCALE * mse, rel=1e-4)
    assert loss["rate_distortion"] == pytest.approx(loss["loss"], rel=1e-6)


def test_quantisation_rounds_around_the_medians_or_to_integers():
    factorized = aezoo.build("factorized-codec", **SMALL["factorized-codec"])
    layer = factorized.entropy_bottleneck
    layer.quantiles.assign(ops.convert_to_numpy(layer.quantiles) + np.array([0.0, 0.3, 0.0], "float32"))
    y_hat = factorized.encode(smooth_images(2, 32))
    np.testing.assert_allclose(y_hat - 0.3, np.round(y_hat - 0.3), atol=1e-5)
    hyper = aezoo.build("hyperprior-codec", **SMALL["hyperprior-codec"])
    y_hat = hyper.encode(smooth_images(2, 64))
    np.testing.assert_array_equal(y_hat, np.round(y_hat))


def test_any_size_that_divides_by_the_stride():
    model = aezoo.build("hyperprior-codec", **SMALL["hyperprior-codec"])
    x = smooth_images(2, 192)[:, :128]  # 128 x 192, trained size 64 x 64
    y = model.encode(x)
    assert y.shape == (2, 8, 12, 6)
    assert model.decode(y).shape == x.shape and model.reconstruct(x).shape == x.shape
    assert model.bits_per_pixel(x).shape == (2,)
    out = model.reconstruct(x)
    assert out.min() >= 0.0 and out.max() <= 1.0
    with pytest.raises(ValueError, match="height 100 is not a multiple of 64; pad or resize to 64 or 128"):
        model.encode(np.zeros((1, 100, 64, 3), "float32"))
    with pytest.raises(ValueError, match=r"must have shape \(batch, 64, 64, 3\)"):
        model.fit(x)  # fit trains on the declared size
    anywhere = aezoo.build("factorized-codec", input_shape=(None, None, 3), filters=4, latent_dim=4)
    assert anywhere.latent_shape == (None, None, 4)
    assert anywhere.predict(smooth_images(2, 48), verbose=0).shape == (2, 48, 48, 3)


@pytest.mark.parametrize("config, message", [
    (dict(input_shape=(60, 64, 3)), "height 60 is not a multiple of 16; use 48 or 64"),
    (dict(input_shape=(64, 64)), r"input_shape must be \(height, width, channels\)"),
    (dict(filters=0), "filters must be a positive integer"),
    (dict(lmbda=0.0), "lmbda must be > 0"),
])
def test_bad_configs_get_one_line_errors(config, message):
    with pytest.raises(ValueError, match=message):
        aezoo.build("factorized-codec", **{**SMALL["factorized-codec"], **config})


def test_training_lowers_the_rate_distortion_objective():
    model = aezoo.build("factorized-codec", **{**SMALL["factorized-codec"], "lmbda": 0.05})
    x = smooth_images(64, 32)
    before = model.evaluate(x, verbose=0, return_dict=True)["rate_distortion"]
    history = model.fit(x, epochs=6, batch_size=16, verbose=0).history
    after = model.evaluate(x, verbose=0, return_dict=True)["rate_distortion"]
    assert after < 0.7 * before, (before, after, history["rate_distortion"])


def test_codec_recipes_are_families_of_rates():
    recipe = load_recipe("hyperprior-codec-faces-q3")
    assert (recipe.architecture, recipe.dataset, recipe.image_size) == ("hyperprior-codec", "faces", 64)
    assert recipe.config["lmbda"] == QUALITY_LAMBDAS[3]
    lambdas = [load_recipe(f"factorized-codec-faces-q{q}").config["lmbda"] for q in (1, 3, 5, 7)]
    assert lambdas == sorted(lambdas) and len(set(lambdas)) == 4
    path = recipe.path
    assert load_recipe(f"{path}::hyperprior-codec-faces-q5").config["lmbda"] == QUALITY_LAMBDAS[5]
    with pytest.raises(ValueError, match="declares the presets hyperprior-codec-faces-q1, .*: name one"):
        load_recipe("hyperprior-codec-faces")
    with pytest.raises(ValueError, match="declares no preset 'hyperprior-codec-faces-q2'"):
        load_recipe("hyperprior-codec-faces-q2")
