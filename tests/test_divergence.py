"""A diverging run stops before it commits anything (issue 22, item 2)."""

import json

import numpy as np
import pytest

import aezoo
from aezoo.presets import save_preset
from aezoo.training import train
from aezoo.training.checkpoints import NonFiniteLossError


def _build():
    model = aezoo.build("dense-ae", input_shape=(4, 4, 1), latent_dim=2, hidden_units=(8,))
    return model


def test_a_nan_epoch_stops_the_run_and_keeps_the_last_finite_checkpoint(tmp_path):
    x = np.random.default_rng(0).uniform(0, 1, (64, 4, 4, 1)).astype("float32")
    train(_build, x, epochs=2, batch_size=32, checkpoint_dir=tmp_path / "ckpt", verbose=0)
    good = json.loads((tmp_path / "ckpt" / "state.json").read_text())
    assert good["epoch"] == 2
    poisoned = x.copy()
    poisoned[5] = np.nan  # bypasses fit's input check: it goes through the training pipeline
    with pytest.raises(NonFiniteLossError, match="after epoch 3.*last finite checkpoint \\(epoch 2\\) is kept"):
        train(_build, poisoned, epochs=4, batch_size=32, checkpoint_dir=tmp_path / "ckpt", verbose=0)
    assert json.loads((tmp_path / "ckpt" / "state.json").read_text()) == good


def test_non_finite_weights_are_never_saved(tmp_path):
    model = _build()
    weights = model.get_weights()
    weights[0][0, 0] = np.inf
    model.set_weights(weights)
    with pytest.raises(ValueError, match="refusing to save non-finite weights"):
        save_preset(model, tmp_path / "p", preset="p")
    assert not (tmp_path / "p").exists()
