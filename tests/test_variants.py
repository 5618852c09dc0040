"""What makes each variant itself: its penalty, its corruption, its limits."""

import numpy as np
import pytest
import keras
from keras import ops
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

import aezoo
from aezoo.models.layers import (
    Corruption, bernoulli_kl_sparsity, dense_stack_jacobian_sq_norm,
    dense_stack_jacobian_sq_norm_estimate, gaussian_kl,
)


@pytest.fixture(scope="module")
def digits():
    return (load_digits().data / 16.0).astype("float32")


def test_gaussian_kl_matches_closed_form(rng):
    mean = rng.normal(size=(5, 3)).astype("float32")
    log_var = rng.normal(size=(5, 3)).astype("float32")
    var = np.exp(log_var)
    # KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2)/2 - 1/2, per dimension
    expected = np.sum(-0.5 * log_var + 0.5 * (var + mean**2) - 0.5, axis=-1)
    np.testing.assert_allclose(ops.convert_to_numpy(gaussian_kl(mean, log_var)), expected, rtol=1e-5)
    assert np.allclose(ops.convert_to_numpy(gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3)))), 0)


def test_vae_loss_is_likelihood_plus_kl():
    vae = aezoo.build("dense-vae", input_shape=(4,), latent_dim=2, hidden_units=(8,), seed=3)
    x = np.random.default_rng(1).uniform(size=(6, 4)).astype("float32")
    # a posterior with std e^-20 makes the sampled z equal its mean, so the loss is deterministic
    log_var_layer = vae.encoder.get_layer("encoder_z_log_var")
    kernel, bias = log_var_layer.get_weights()
    log_var_layer.set_weights([np.zeros_like(kernel), np.full_like(bias, -40.0)])
    vae(x, training=False)
    total = float(sum(ops.convert_to_numpy(l) for l in vae.losses))
    mean, log_var = vae.encode_distribution(x)
    nll = -ops.convert_to_numpy(vae.log_px_given_z(x, mean))
    kl = ops.convert_to_numpy(gaussian_kl(mean, log_var))
    np.testing.assert_allclose(total, np.mean(nll + kl), rtol=1e-4)


def test_beta_scales_only_the_kl():
    beta = aezoo.build("beta-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), beta=4.0, seed=0)
    assert beta.beta == 4.0 and beta.get_layer("kl_divergence").beta == 4.0
    assert aezoo.build("beta-vae", input_shape=(8, 8, 1), filters=(4,)).beta == 4.0
    assert aezoo.build("conv-vae", input_shape=(8, 8, 1), filters=(4,)).beta == 1.0


def test_contractive_penalty_matches_sigmoid_closed_form(rng):
    model = aezoo.build("contractive-ae", input_shape=(10,), latent_dim=6)
    x = rng.uniform(size=(4, 10)).astype("float32")
    layer = model.encoder_dense_layers()[0]
    w, b = ops.convert_to_numpy(layer.kernel), ops.convert_to_numpy(layer.bias)  # w: (in, units)
    h = 1 / (1 + np.exp(-(x @ w + b)))
    expected = np.sum((h * (1 - h)) ** 2 * np.sum(w**2, axis=0), axis=-1)
    np.testing.assert_allclose(ops.convert_to_numpy(model.jacobian_penalty(x)), expected, rtol=1e-4)


def test_contractive_estimate_is_unbiased_for_deep_encoders(rng):
    x = rng.uniform(size=(3, 5)).astype("float32")
    kernels = [rng.normal(size=(5, 7)).astype("float32"), rng.normal(size=(7, 4)).astype("float32")]
    biases = [np.zeros(7, "float32"), np.zeros(4, "float32")]
    acts = ["tanh", "sigmoid"]
    exact = ops.convert_to_numpy(dense_stack_jacobian_sq_norm(x, kernels, biases, acts))
    # the exact value against a finite-difference Jacobian
    def f(v):
        return 1 / (1 + np.exp(-(np.tanh(v @ kernels[0]) @ kernels[1])))
    eps, fd = 1e-3, np.zeros(3)
    for i in range(5):
        d = np.zeros(5); d[i] = eps
        fd += np.sum(((f(x + d) - f(x - d)) / (2 * eps)) ** 2, axis=-1)
    np.testing.assert_allclose(exact, fd, rtol=1e-3)
    estimate = ops.convert_to_numpy(dense_stack_jacobian_sq_norm_estimate(
        x, kernels, biases, acts, probes=4000, seed=keras.random.SeedGenerator(0)))
    np.testing.assert_allclose(estimate, exact, rtol=0.1)


def test_contractive_training_lowers_the_jacobian(digits):
    keras.utils.set_random_seed(0)
    kw = dict(input_shape=(64,), latent_dim=16)
    weak = aezoo.build("contractive-ae", contractive_weight=0.0, **kw)
    strong = aezoo.build("contractive-ae", contractive_weight=1.0, **kw)
    for m in (weak, strong):
        m.fit(digits, epochs=20, batch_size=64, verbose=0)
    assert np.mean(ops.convert_to_numpy(strong.jacobian_penalty(digits))) < 0.5 * np.mean(
        ops.convert_to_numpy(weak.jacobian_penalty(digits)))


def test_kl_sparsity_is_zero_at_target():
    codes = np.full((10, 4), 0.05, "float32")
    assert abs(float(bernoulli_kl_sparsity(codes, 0.05))) < 1e-6
    assert float(bernoulli_kl_sparsity(np.full((10, 4), 0.5, "float32"), 0.05)) > 0.1


@pytest.mark.parametrize("sparsity", ["l1", "kl"])
def test_sparse_codes_are_sparser_than_unregularised(digits, sparsity):
    keras.utils.set_random_seed(0)
    code_activation = "relu" if sparsity == "l1" else "sigmoid"
    kw = dict(input_shape=(64,), latent_dim=32, hidden_units=(64,))
    plain = aezoo.build("dense-ae", code_activation=code_activation, **kw)
    sparse = aezoo.build("sparse-ae", sparsity=sparsity, sparsity_weight=0.01 if sparsity == "l1" else 0.5, **kw)
    for m in (plain, sparse):
        m.fit(digits, epochs=15, batch_size=64, verbose=0)
    if sparsity == "l1":
        def activity(m):
            return np.mean(m.encode(digits) > 1e-3)  # fraction of active units
    else:
        def activity(m):
            return np.mean(m.encode(digits))  # mean sigmoid activation
    assert activity(sparse) < 0.5 * activity(plain)
    if sparsity == "kl":
        assert abs(activity(sparse) - 0.05) < 0.05


def test_denoising_corrupts_only_in_training():
    model = aezoo.build("denoising-ae", input_shape=(6, 6, 1), latent_dim=4, hidden_units=(8,), seed=0)
    x = np.full((4, 6, 6, 1), 0.5, "float32")
    inference = ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(inference, model.decoder.predict(model.encoder.predict(x, verbose=0), verbose=0), atol=1e-6)
    corruption = model.get_layer("corruption")
    assert np.array_equal(ops.convert_to_numpy(corruption(x, training=False)), x)
    assert not np.allclose(ops.convert_to_numpy(corruption(x, training=True)), x)
    # the training target is the clean input
    y_pred = ops.convert_to_numpy(model(x, training=True))
    loss = float(model.compute_loss(x=x, y=None, y_pred=y_pred))
    np.testing.assert_allclose(loss, np.mean((x - y_pred) ** 2), rtol=1e-5)


@pytest.mark.parametrize("kind", Corruption.KINDS)
def test_corruption_kinds(kind):
    x = np.full((200, 50), 0.5, "float32")
    out = ops.convert_to_numpy(Corruption(kind, 0.3, seed=0).corrupt(x))
    assert out.min() >= 0 and out.max() <= 1
    changed = np.mean(out != x)
    if kind == "gaussian":
        assert changed > 0.9 and abs(np.std(out - x) - 0.3) < 0.05
    else:
        assert abs(changed - 0.3) < 0.05 if kind == "masking" else abs(changed - 0.3) < 0.05


def test_linear_autoencoder_reaches_pca_error(digits):
    """Baldi & Hornik: a linear AE trained with MSE attains PCA's error at the same size."""
    latent = 8
    pca = PCA(latent).fit(digits)
    pca_error = np.mean((pca.inverse_transform(pca.transform(digits)) - digits) ** 2)
    keras.utils.set_random_seed(0)
    model = aezoo.build("linear-ae", input_shape=(64,), latent_dim=latent)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(digits, epochs=120, batch_size=64, verbose=0)
    ratio = np.mean((model.reconstruct(digits) - digits) ** 2) / pca_error
    assert 0.999 < ratio < 1.02, ratio


def test_overcomplete_needs_a_regulariser():
    with pytest.raises(ValueError, match="overcomplete.*identity"):
        aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=64)
    with pytest.raises(ValueError, match="overcomplete"):
        aezoo.build("linear-ae", input_shape=(10,), latent_dim=12)
    for name in ("sparse-ae", "denoising-ae", "contractive-ae"):
        assert aezoo.build(name, input_shape=(10,), latent_dim=40).latent_dim == 40


def test_conv_shape_error_names_working_sizes():
    with pytest.raises(ValueError, match=r"height 30 is not divisible by 2\*\*2=4.*28 or 32"):
        aezoo.build("conv-ae", input_shape=(30, 32, 1), filters=(8, 16))
    with pytest.raises(ValueError, match=r"\(height, width, channels\)"):
        aezoo.build("conv-vae", input_shape=(784,))


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 8, 8, 1), "uint8"), r"float array.*uint8.*divide by 255"),
    (np.zeros((2, 8, 8), "float32"), r"shape \(batch, 8, 8, 1\), got \(2, 8, 8\)"),
    (np.full((2, 8, 8, 1), np.nan, "float32"), "NaN"),
    (np.full((2, 8, 8, 1), 3.0, "float32"), r"\[0, 1\] for a Bernoulli"),
])
def test_bad_input_gets_a_clear_error(bad, message):
    vae = aezoo.build("dense-vae", input_shape=(8, 8, 1), latent_dim=2, hidden_units=(8,))
    for call in (vae.encode, vae.reconstruct, vae.fit, vae.predict):
        with pytest.raises(ValueError, match=message):
            call(bad)


def test_bad_latent_codes_and_sizes():
    ae = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=3, hidden_units=(8,))
    with pytest.raises(ValueError, match=r"z must have shape \(batch, 3\)"):
        ae.decode(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="positive"):
        aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=0)
    with pytest.raises(ValueError, match="input_shape"):
        aezoo.build("dense-ae", input_shape=(8, -1))


def test_vae_sampling_and_elbo():
    vae = aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), seed=0)
    a, b = vae.sample(4, seed=1), vae.sample(4, seed=1)
    assert a.shape == (4, 8, 8, 1) and np.array_equal(a, b) and 0 <= a.min() and a.max() <= 1
    x = np.random.default_rng(0).uniform(size=(5, 8, 8, 1)).astype("float32")
    elbo = vae.elbo(x, samples=2, seed=0)
    assert elbo.shape == (5,) and np.all(elbo < 0)
    assert not np.array_equal(vae.encode(x, sample=True, seed=0), vae.encode(x))


def test_interpolation_endpoints_and_slerp():
    ae = aezoo.build("dense-ae", input_shape=(6,), latent_dim=2, hidden_units=(8,))
    x = np.random.default_rng(0).uniform(size=(2, 6)).astype("float32")
    path = ae.interpolate(x[0], x[1], steps=4)
    np.testing.assert_allclose(path[0], ae.reconstruct(x[:1])[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], ae.reconstruct(x[1:])[0], atol=1e-5)
    from aezoo.models.base import interpolate_codes
    za, zb = np.array([[1.0, 0.0]], "float32"), np.array([[0.0, 1.0]], "float32")
    mid = interpolate_codes(za, zb, 3, "slerp")[0, 1]
    np.testing.assert_allclose(np.linalg.norm(mid), 1.0, rtol=1e-5)


# --------------------------------------------------------------------------
# Options the time-to-quality recipes use
# --------------------------------------------------------------------------
def test_learned_sigma_nll_matches_the_gaussian_density_and_tracks_the_error():
    """-log N(x | mean, sigma^2) summed over pixels, checked against scipy; training moves
    the learned sigma toward the reconstruction RMSE (the sigma-VAE optimum)."""
    from scipy.stats import norm

    model = aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), likelihood="gaussian",
                        learn_sigma=True, observation_sigma=0.5, seed=0)
    x = np.random.default_rng(0).uniform(0, 1, (64, 8, 8, 1)).astype("float32")
    mean = np.random.default_rng(1).uniform(0, 1, x.shape).astype("float32")
    nll = keras.ops.convert_to_numpy(model.likelihood_loss.negative_log_likelihood(x, keras.ops.convert_to_tensor(mean)))
    expected = -norm.logpdf(x, loc=mean, scale=0.5).reshape(64, -1).sum(axis=1)
    np.testing.assert_allclose(nll, expected, rtol=1e-5)

    model.compile(optimizer=keras.optimizers.Adam(0.05))
    model.fit(x, epochs=30, batch_size=32, verbose=0)
    rmse = float(np.sqrt(np.mean((model.reconstruct(x) - x) ** 2)))
    sigma = model.likelihood_loss.current_sigma()
    assert abs(np.log(sigma) - np.log(rmse)) < abs(np.log(0.5) - np.log(rmse)) / 2, (sigma, rmse)


def test_learn_sigma_needs_a_gaussian():
    with pytest.raises(ValueError, match="learn_sigma=True needs likelihood='gaussian'"):
        aezoo.build("dense-vae", input_shape=(4,), latent_dim=2, learn_sigma=True)


def test_residual_blocks_start_as_identity():
    from aezoo.models.blocks import residual_block

    inp = keras.Input((8, 8, 16))
    block = keras.Model(inp, residual_block(inp, "relu", name="r"))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    np.testing.assert_allclose(block.predict(x, verbose=0), x, atol=1e-6)
    with pytest.raises(ValueError, match="residual_blocks must be >= 0"):
        aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), residual_blocks=-1)


def test_reconstruction_loss_is_config_and_compiles_by_default():
    model = aezoo.build("dense-ae", input_shape=(4,), latent_dim=2, hidden_units=(8,), reconstruction_loss="bce")
    model.compile()
    assert model.loss.kind == "bce"
    clone = type(model).from_config(model.get_config())
    clone.compile()
    assert clone.loss.kind == "bce"
    with pytest.raises(ValueError, match="reconstruction_loss must be 'mse' or 'bce'"):
        aezoo.build("dense-ae", input_shape=(4,), latent_dim=2, reconstruction_loss="l1")
    with pytest.raises(ValueError, match="applies to deterministic autoencoders"):
        aezoo.build("dense-vae", input_shape=(4,), latent_dim=2, reconstruction_loss="bce")


def test_bernoulli_nll_matches_an_independent_formula():
    """-log p(x|logits) summed over pixels, against float64 numpy written from the
    definition (log sigmoid and log(1 - sigmoid)), not against the function the model uses."""
    from aezoo.models.losses import bernoulli_nll

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, (16, 6, 6, 1))
    for x in (rng.integers(0, 2, logits.shape).astype("float64"), rng.uniform(0, 1, logits.shape)):
        p = 1.0 / (1.0 + np.exp(-logits))
        expected = -(x * np.log(p) + (1 - x) * np.log1p(-p)).reshape(16, -1).sum(axis=1)
        got = ops.convert_to_numpy(bernoulli_nll(x.astype("float32"), logits.astype("float32")))
        np.testing.assert_allclose(got, expected, rtol=1e-4)
    # saturated logits stay finite and exact where the naive formula would give inf
    big = np.array([[80.0, -80.0]], "float32")
    np.testing.assert_allclose(ops.convert_to_numpy(bernoulli_nll(np.array([[0.0, 1.0]], "float32"), big)), [160.0])


def test_vae_evaluate_reports_the_sampled_elbo():
    """evaluate() is the negative ELBO with a sampled z (not z = mean, which is no bound)."""
    vae = aezoo.build("dense-vae", input_shape=(6, 6, 1), latent_dim=2, hidden_units=(8,), seed=0)
    x = np.random.default_rng(0).integers(0, 2, (256, 6, 6, 1)).astype("float32")
    vae.compile()
    loss = vae.evaluate(x, batch_size=256, verbose=0)
    elbo = vae.elbo(x, samples=50, seed=1).mean()
    assert abs(loss - (-elbo)) < 0.5, (loss, -elbo)  # one sample vs fifty: close, unbiased


# ----------------------------------------------------------------- iwae
def _small_iwae(k=5):
    return aezoo.build("iwae", input_shape=(8, 8, 1), latent_dim=3, hidden_units=(32,), k=k, seed=0)


def test_iwae_log_weights_match_an_independent_formula():
    from aezoo.models.iwae import importance_log_weights

    model = _small_iwae()
    x = (np.random.default_rng(0).uniform(size=(4, 8, 8, 1)) > 0.5).astype("float32")
    mean, log_var = (ops.convert_to_numpy(t) for t in model.encoder(x))
    eps = np.random.default_rng(7).standard_normal((3, 4, 3)).astype("float32")
    log_w, params = importance_log_weights(model.decoder, model.likelihood_loss, x, mean, log_var, 3, None, eps=eps)
    log_w, logits = ops.convert_to_numpy(log_w), ops.convert_to_numpy(params).reshape(3, 4, -1)
    z = mean[None] + np.exp(0.5 * log_var)[None] * eps
    flat_x = x.reshape(1, 4, -1)
    log_px = np.sum(flat_x * -np.logaddexp(0, -logits) + (1 - flat_x) * -np.logaddexp(0, logits), axis=-1)
    log_pz = np.sum(-0.5 * z**2 - 0.5 * np.log(2 * np.pi), axis=-1)
    log_qz = np.sum(-0.5 * eps**2 - 0.5 * log_var[None] - 0.5 * np.log(2 * np.pi), axis=-1)
    np.testing.assert_allclose(log_w, log_px + log_pz - log_qz, rtol=1e-4, atol=1e-3)


def test_iwae_k1_is_the_elbo_and_the_bound_rises_with_k(digits):
    model = aezoo.build("iwae", input_shape=(64,), latent_dim=4, hidden_units=(32,), k=1, seed=0)
    x = digits[:300]
    model.fit(x, epochs=3, batch_size=64, verbose=0)  # a model with some structure
    l1 = np.mean([model.bound(x, k=1, seed=s).mean() for s in range(20)])
    elbo = np.mean([model.elbo(x, seed=s).mean() for s in range(20)])
    assert abs(l1 - elbo) < 0.05 * abs(elbo)  # L_1 is the ELBO (MC KL vs analytic KL)
    l5, l50 = model.bound(x, k=5, seed=0).mean(), model.bound(x, k=50, seed=0).mean()
    assert l1 <= l5 + 0.05 and l5 <= l50 + 0.05


def test_iwae_training_loss_is_the_k_sample_bound():
    model = _small_iwae(k=4)
    x = np.random.default_rng(1).uniform(size=(16, 8, 8, 1)).astype("float32")
    model(x)
    assert len(model.losses) == 1
    with pytest.raises(ValueError, match="k .* positive integer"):
        aezoo.build("iwae", input_shape=(8, 8, 1), k=0)


def test_conv_vae_hidden_units_sit_on_both_sides_of_the_code():
    vae = aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), hidden_units=(12, 6), seed=0)
    encoder_dense = [l.units for l in vae.encoder.layers if l.name.startswith("encoder_hidden")]
    decoder_dense = [l.units for l in vae.decoder.layers if l.name.startswith("decoder_hidden")]
    assert encoder_dense == [12, 6] and decoder_dense == [6, 12]
    assert vae.get_config()["hidden_units"] == [12, 6]
    with pytest.raises(ValueError, match="hidden_units must be positive"):
        aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), hidden_units=(0,))
