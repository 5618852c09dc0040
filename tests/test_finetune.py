"""Fine-tuning a preset on new data: the error drops, the new preset names its parent and keeps its terms."""

import json

import numpy as np
import pytest
from PIL import Image

import aezoo
from aezoo import data, presets
from aezoo.uses.finetune import conform_images, finetune, load_inputs

PARENT = "conv-vae-faces"


def _bundled(name):
    root = presets.bundled_weights_dir()
    return root is not None and (root / name / presets.METADATA_FILE).is_file()


@pytest.fixture(scope="module")
def olivetti():
    try:
        return data.load_arrays("olivetti")[:40]  # 40 grayscale 64x64 faces (5 subjects)
    except FileNotFoundError as e:
        pytest.skip(f"Olivetti faces not available: {e}")


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    """The bundled conv-vae-faces preset; before it is trained, a tiny stand-in saved under its name."""
    if _bundled(PARENT):
        return PARENT
    import keras

    keras.utils.set_random_seed(0)
    model = aezoo.build("conv-vae", input_shape=(64, 64, 3), latent_dim=8, filters=(8, 16), seed=0)
    return presets.save_preset(model, tmp_path_factory.mktemp("weights") / PARENT, preset=PARENT)


def test_finetune_on_olivetti_lowers_their_error(parent, olivetti, tmp_path):
    model, report = finetune(parent, olivetti, epochs=3, batch_size=8, learning_rate=1e-4,
                             out_dir=tmp_path / "conv-vae-olivetti")
    assert report["parent"] == PARENT and report["dataset"] == "custom" and report["examples"] == 40
    assert report["mse_after"] < report["mse_before"], report
    assert len(report["loss"]) == 3 and np.all(np.isfinite(report["loss"]))

    folder = tmp_path / "conv-vae-olivetti"
    meta = presets.verify_preset(folder)
    assert meta["preset"] == "conv-vae-olivetti" and meta["parent"] == PARENT and meta["dataset"] == "custom"
    assert meta["metrics"]["mse_per_pixel_after_finetune"] == pytest.approx(report["mse_after"])
    assert meta["metrics"]["mse_per_pixel_before_finetune"] == pytest.approx(report["mse_before"])
    assert meta["license"] == "other" and "non-commercial" in meta["terms"]  # CelebA-derived stays so
    card = (folder / presets.CARD_FILE).read_text()
    assert f"fine-tune of `{PARENT}`" in card and "non-commercial research only" in card
    assert 'license: "other"' in card

    faces, _ = load_inputs(olivetti[:4], (64, 64, 3))  # grayscale -> the preset's RGB
    np.testing.assert_allclose(aezoo.load(folder).reconstruct(faces), model.reconstruct(faces), atol=1e-5)


def test_freeze_encoder_trains_only_the_decoder(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    model = aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), seed=0)
    parent = presets.save_preset(model, tmp_path / "tiny", preset="tiny",
                                metadata={"dataset": "mnist", "license": "cc-by-sa-3.0"})
    images = tmp_path / "photos"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):  # RGB 16x16 photos for a grayscale 8x8 model
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(images / f"{i}.png")
    encoder_before = [w.copy() for w in model.encoder.get_weights()]
    decoder_before = [w.copy() for w in model.decoder.get_weights()]

    tuned, report = finetune(parent, images, epochs=2, batch_size=4, learning_rate=1e-2, freeze_encoder=True,
                             out_dir=tmp_path / "tiny-ft", validation_fraction=0.25)
    for a, b in zip(encoder_before, tuned.encoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(decoder_before, tuned.decoder.get_weights()))
    assert tuned.encoder.trainable  # whole again after fine-tuning
    assert report["freeze_encoder"] and report["examples"] == 9 and report["validation_examples"] == 3
    assert {"val_mse_before", "val_mse_after"} <= set(report)
    meta = presets.read_metadata(tmp_path / "tiny-ft")
    assert meta["license"] == "cc-by-sa-3.0" and "terms" not in meta  # the parent's licence, unrestricted
    assert "--freeze-encoder" in meta["reproduce"] and f"--data {images.name} " in meta["reproduce"]
    assert str(tmp_path) not in json.dumps(meta)  # no local path published with the card (issue 22, item 14)
    assert tuned.preset_metadata["preset"] == "tiny-ft"


def test_a_dataset_name_and_a_model_object(tmp_path):
    model = aezoo.build("dense-ae", input_shape=(16, 16, 1), latent_dim=4, hidden_units=(16,))
    try:
        tuned, report = finetune(model, "olivetti", epochs=1, batch_size=16, max_examples=16,
                                 out_dir=tmp_path / "dense-ae-olivetti")
    except FileNotFoundError as e:
        pytest.skip(f"Olivetti faces not available: {e}")
    assert tuned is model and report["dataset"] == "olivetti" and report["examples"] == 16
    meta = presets.read_metadata(tmp_path / "dense-ae-olivetti")
    assert meta["parent"] == model.name and meta["dataset"] == "olivetti"
    assert meta["license"] == "other" and "olivetti" in meta["terms"]  # the fine-tuning data's own terms


def test_conform_images_converts_channels_size_and_dtype(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.uniform(size=(3, 8, 8, 1)).astype("float32")
    rgb = conform_images(gray, (8, 8, 3))
    assert rgb.shape == (3, 8, 8, 3) and np.array_equal(rgb[..., 0], rgb[..., 2])
    np.testing.assert_allclose(conform_images(rgb, (8, 8, 1)), gray, atol=1e-6)
    small = conform_images((gray[..., 0] * 255).astype(np.uint8), (4, 4, 3))  # (n, h, w) uint8
    assert small.shape == (3, 4, 4, 3) and small.dtype == np.float32 and 0 <= small.min() <= small.max() <= 1
    np.save(tmp_path / "x.npy", gray)
    x, name = load_inputs(tmp_path / "x.npy", (8, 8, 1))
    assert name == "custom" and np.array_equal(x, gray)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        conform_images(gray * 255, (8, 8, 1))
    with pytest.raises(ValueError, match="channels"):
        conform_images(rng.uniform(size=(2, 8, 8, 2)).astype("float32"), (8, 8, 3))
    with pytest.raises(ValueError, match=r"shape \(n, 64\)"):
        conform_images(gray, (64,))


def test_bad_arguments_are_refused_before_training():
    model = aezoo.build("dense-ae", input_shape=(4,), latent_dim=2, hidden_units=())
    x = np.full((4, 4), 0.5, "float32")
    with pytest.raises(ValueError, match="epochs"):
        finetune(model, x, epochs=0)
    with pytest.raises(ValueError, match="learning_rate"):
        finetune(model, x, learning_rate=0)
    with pytest.raises(ValueError, match="Unknown dataset 'mnits'.*mnist"):
        finetune(model, "mnits")
