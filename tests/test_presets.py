"""The preset table and the recipes agree, and every recipe runs end to end (smoke mode)."""

import numpy as np
import pytest

import aezoo
from aezoo import data, presets
from aezoo.uses import latent
from aezoo.presets import PRESETS
from aezoo.training.recipe import list_recipes, load_recipe, run_recipe


def test_every_preset_has_a_recipe_with_the_same_model():
    recipes = list_recipes()
    for name, spec in PRESETS.items():
        recipe = load_recipe(name)
        assert recipe.preset == name and recipe.architecture == spec.architecture
        assert recipe.dataset == spec.dataset
        config = {k: v for k, v in recipe.config.items() if k != "input_shape"}
        assert config == dict(spec.config), name
        assert tuple(recipe.config["input_shape"]) == spec.image_shape
    assert {s.replace("_", "-") for s in recipes} == set(PRESETS)


def test_list_presets_wildcards():
    assert aezoo.list_presets("*faces*") == ["beta-vae-faces", "conv-vae-faces", "conv-vae-faces-2d"]
    assert "conv-vae-fashion-2d" in aezoo.list_presets("*2d")
    with pytest.raises(ValueError, match="Did you mean"):
        aezoo.get_preset("conv-vae-face")


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_recipe_smoke(preset, tmp_path):
    """Each recipe trains 2 steps, evaluates on 64 images and writes a loadable preset."""
    report = run_recipe(preset, smoke=True, out_dir=tmp_path, verbose=0)
    assert report["training"]["smoke"] and np.isfinite(report["training"]["final_loss"])
    assert np.isfinite(report["metrics"]["mse_per_pixel"])
    model = aezoo.load(str(tmp_path / preset))
    assert model.compiled and model.latent_dim == PRESETS[preset].config["latent_dim"]
    recipe = load_recipe(preset)
    for name in recipe.attribute_vectors:  # face presets carry their attribute directions
        assert latent.preset_attribute_vector(model, name).shape == (model.latent_dim,)
        assert 0 < model.preset_metadata["attribute_vectors"][name]["examples_each"] <= recipe.attribute_examples
    if recipe.demo_inputs == "faces":  # demos start from redistributable faces, never CelebA
        np.testing.assert_array_equal(presets.load_demo_inputs(tmp_path / preset),
                                      data.demo_faces(model.data_shape[0])[0])
    training = model.preset_metadata["training"]
    assert {"backend", "device", "command", "keras"} <= set(training) and training["seconds"] >= 0
