"""One checker for every registered architecture (keras-hub's run_backbone_test idea).

A new architecture gets the whole harness by adding one entry to SMALL_CONFIGS.
"""

import os

import numpy as np
import keras

# Small configurations, so the whole harness runs in seconds on a CPU.
SMALL_CONFIGS = {
    "linear-ae": dict(input_shape=(8, 8, 1), latent_dim=4),
    "dense-ae": dict(input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,), reconstruction_loss="bce"),
    "conv-ae": dict(input_shape=(8, 8, 1), latent_dim=4, filters=(4, 8)),
    "sparse-ae": dict(input_shape=(8, 8, 1), latent_dim=80, hidden_units=(16,)),
    "denoising-ae": dict(input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,), seed=1),
    "contractive-ae": dict(input_shape=(8, 8, 1), latent_dim=6),
    "dense-vae": dict(input_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,), seed=1),
    "conv-vae": dict(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), seed=1, residual_blocks=1,
                     likelihood="gaussian", learn_sigma=True),
    "beta-vae": dict(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), seed=1, hidden_units=(6,)),
    "iwae": dict(input_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,), seed=1, k=3),
    "conditional-vae": dict(input_shape=(8, 8, 1), num_classes=3, latent_dim=2, hidden_units=(16,), seed=1),
    "vq-vae": dict(input_shape=(8, 8, 1), latent_dim=3, num_embeddings=8, filters=(4, 8), restart_after=2, seed=1,
                   ema=True),
    "lstm-ae": dict(input_shape=(8, 2), latent_dim=3, units=(6,), masking=True, teacher_forcing=True),
    "conv1d-ae": dict(input_shape=(8, 2), latent_dim=3, filters=(4, 6), kernel_size=3, dropout=0.1),
    "masked-ae": dict(input_shape=(8, 8, 1), patch_size=2, embed_dim=8, depth=1, num_heads=2, decoder_dim=8,
                      decoder_depth=1, decoder_heads=2, seed=1),
    "tiny-ae": dict(latent_channels=4, midblock_norm=True),
    "kl-vae": dict(block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4, latent_channels=4),
    "factorized-codec": dict(input_shape=(32, 32, 3), filters=6, latent_dim=5, lmbda=0.01, seed=1),
    "hyperprior-codec": dict(input_shape=(64, 64, 3), filters=4, latent_dim=5, lmbda=0.01, seed=1),
}

# fully convolutional models take any size; the harness feeds them these
DATA_SHAPES = {"tiny-ae": (16, 24, 3), "kl-vae": (16, 16, 3)}


def small_data(shape, n=32, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, *shape)).astype("float32")


def run_architecture_test(name, tmp_path):
    import aezoo

    config = SMALL_CONFIGS[name]
    model = aezoo.build(name, **config)
    x = small_data(DATA_SHAPES.get(name) or config["input_shape"])

    # a conditional model takes each example's label beside it, in every call
    conditional = hasattr(model, "num_classes")
    y = np.arange(len(x)) % model.num_classes if conditional else None
    with_y = {"labels": y} if conditional else {}
    fit_args = (x, y) if conditional else (x,)

    # output shape, and the shared API
    assert model.predict(x, verbose=0, **with_y).shape == x.shape
    codes = model.encode(x, **with_y)
    # masked-ae: its pooled feature width; the latent-diffusion family: channels of the grid
    latent_dim = config.get("latent_dim", config.get("embed_dim", config.get("latent_channels")))
    assert codes.shape == (len(x), *model.code_shape(x.shape[1:]))
    # a masked autoencoder's code is pooled features; it decodes its token grid
    decodable = model.encode(x, tokens=True) if hasattr(model, "token_shape") else codes
    assert model.decode(decodable, **with_y).shape == x.shape
    assert model.reconstruct(x, **with_y).shape == x.shape
    if not conditional:
        assert model.interpolate(x[0], x[1], steps=5).shape == (5, *x.shape[1:])
    assert model.latent_dim == latent_dim

    # config: exactly the constructor arguments, and a JSON round trip
    config_out = model.get_config()
    assert set(config_out) - {"name", "trainable"} == set(model.config_keys)
    for key, value in config.items():
        expected = list(value) if isinstance(value, tuple) else value
        assert config_out[key] == expected, key
    rebuilt = type(model).from_config(keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(config_out)))
    assert rebuilt.count_params() == model.count_params()

    # predict works on numpy and on tf.data (TensorFlow backend only has tf.data natively)
    if keras.backend.backend() == "tensorflow" and not conditional:
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices(x).batch(8)
        assert model.predict(ds, verbose=0).shape == x.shape

    # one training step changes the weights with a finite loss
    before = [np.array(w) for w in model.trainable_weights]
    history = model.fit(*fit_args, epochs=1, batch_size=len(x), verbose=0)
    loss = history.history["loss"][-1]
    assert np.isfinite(loss)
    after = [np.array(w) for w in model.trainable_weights]
    assert any(not np.allclose(b, a) for b, a in zip(before, after))

    # .keras save/load (safe mode) gives allclose outputs and stays trainable
    path = os.path.join(str(tmp_path), f"{name}.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    # (a VAE's forward pass samples z, so compare the deterministic reconstruct)
    np.testing.assert_allclose(restored.reconstruct(x, **with_y), model.reconstruct(x, **with_y), atol=1e-5)
    np.testing.assert_allclose(restored.encode(x, **with_y), model.encode(x, **with_y), atol=1e-5)
    assert np.isfinite(restored.fit(*fit_args, epochs=1, verbose=0).history["loss"][-1])
    return model
