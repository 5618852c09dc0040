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


def test_a_second_training_on_the_same_checkpoint_folder_is_refused(tmp_path):
    """issue 22, item 3: the holder's pid is named; a dead holder's lock is taken over."""
    import os
    import subprocess
    import sys

    from aezoo.training.checkpoints import CheckpointError, checkpoint_lock

    folder = tmp_path / "ckpt"
    with checkpoint_lock(folder):
        with pytest.raises(CheckpointError, match=f"in use by another training \\(pid {os.getpid()}\\)"):
            train(_build, np.zeros((8, 4, 4, 1), "float32"), epochs=1, checkpoint_dir=folder, verbose=0)
    # a process that took the lock and was killed leaves it free
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]); "
                               "from aezoo.training.checkpoints import checkpoint_lock; "
                               "cm = checkpoint_lock(sys.argv[2]); cm.__enter__(); print('held', flush=True); "
                               "time.sleep(60)", os.getcwd(), str(folder)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(CheckpointError, match=f"pid {holder.pid}"):
        with checkpoint_lock(folder):
            pass
    holder.kill()
    holder.wait()
    with checkpoint_lock(folder):
        assert (folder / "lock").read_text().strip() == str(os.getpid())
