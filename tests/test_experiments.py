"""The experiment scripts' own logic (recipes/experiments/), on tiny synthetic data."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "recipes" / "experiments"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rotate_turns_each_image_by_its_own_quarter_turns(rng):
    one_class = _script("one_class_anomaly")
    x = rng.uniform(size=(8, 5, 5, 1)).astype("float32")
    turns = np.array([0, 1, 2, 3, 3, 2, 1, 0])
    out = one_class.rotate(x, turns)
    for i, k in enumerate(turns):
        np.testing.assert_array_equal(out[i], np.rot90(x[i], k, axes=(0, 1)))


@pytest.mark.parametrize("rotations", [False, True])
def test_one_class_scores_separate_an_obvious_anomaly(rng, rotations):
    """Normal: a bright bar along the top rows; anomalous: a checkerboard."""
    one_class = _script("one_class_anomaly")
    checker = (np.indices((8, 8)).sum(0) % 2)[..., None]

    def images(n, normal):
        x = rng.uniform(0, 0.05, size=(n, 8, 8, 1)).astype("float32")
        if normal:
            x[:, :2] += 0.9
        else:
            x += 0.9 * checker
        return x

    x_train, y_train = np.concatenate([images(256, True), images(256, False)]), np.repeat([0, 1], 256)
    x_test, y_test = np.concatenate([images(64, True), images(64, False)]), np.repeat([0, 1], 64)
    args = SimpleNamespace(seed=0, latent_dim=4, filters=(4, 8), batch_size=32, epochs=3, rotations=rotations)
    aurocs, seconds = one_class.one_class(x_train, y_train, x_test, y_test, 0, args)
    assert set(aurocs) == set(one_class.SCORES) and seconds > 0
    assert aurocs["combined"] > 0.9, aurocs


def test_vq_side_by_side_bundled_row_remeasures_the_recorded_metrics():
    """--bundled's row 3 is measured again from the bundled weights, not copied from metadata."""
    import aezoo
    from aezoo import data

    side_by_side = _script("vq_side_by_side")
    x_test = data.load_arrays("mnist", "test")[:500]
    row = side_by_side._bundled_row(x_test)
    reconstruction = aezoo.load("vq-vae-mnist").reconstruct(x_test)
    assert row["mse_per_pixel"] == pytest.approx(float(np.mean((x_test - reconstruction) ** 2)), rel=1e-5)
    assert 0.0 < row["codebook_usage"] <= 1.0 and 1.0 <= row["perplexity"] <= 256
    assert row["config"] == {} and {} in side_by_side.SETTINGS.values()  # the recipe row is the one replaced


def test_feature_comparison_rows_and_mixed_datasets():
    comparison = _script("feature_comparison")
    with pytest.raises(ValueError, match="share a dataset"):
        comparison.compare(["conv-ae-fashion", "dense-ae-mnist"])
    dataset, rows = comparison.compare(["conv-ae-fashion"], probe_train=300, examples=200)
    assert dataset == "fashion_mnist" and list(rows) == ["raw pixels", "conv-ae-fashion"]
    row = rows["conv-ae-fashion"]
    assert set(row) == {"architecture", "linear_probe_accuracy", "finetuned_accuracy", "from_scratch_accuracy"}
    assert all(0.0 <= row[k] <= 1.0 for k in row if k.endswith("accuracy"))
    assert row["linear_probe_accuracy"] > 0.5  # pretrained codes of 10 classes: far above chance


def test_code_classifiers_reports_the_linear_probe_and_each_knn():
    """Two classes in interleaved stripes: neighbours agree, a straight cut cannot split them."""
    code_classifiers = _script("code_classifiers")
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 8, size=(600, 2))
    y = (np.floor(z[:, 0] / 2) % 2).astype(int)  # four stripes, two wide each
    out = code_classifiers.code_classifiers(z[:400], y[:400], z[400:], y[400:], neighbors=(1, 5))
    assert list(out) == ["linear_probe_accuracy", "knn_1_accuracy", "knn_5_accuracy"]
    assert out["knn_5_accuracy"] > 0.9 > 0.7 > out["linear_probe_accuracy"]


def test_checkpoint_nll_is_a_tighter_bound_than_the_elbo(rng):
    """The k-sample estimate of a (barely trained) VAE lies below its negative ELBO, in nats."""
    import aezoo

    checkpoint_nll = _script("checkpoint_nll")
    model = aezoo.build("dense-vae", input_shape=(6, 6, 1), latent_dim=2, hidden_units=(16,), seed=0)
    x = (rng.uniform(size=(64, 6, 6, 1)) < 0.3).astype("float32")
    model.fit(x, epochs=2, batch_size=16, verbose=0)
    out = checkpoint_nll.checkpoint_nll(model, x[:16], k=50)
    assert set(out) == {"nll_is", "negative_elbo"}
    assert 0 < out["nll_is"] < out["negative_elbo"]


def test_latent_map_script_draws_a_bundled_presets_test_codes(tmp_path, capsys):
    """The README's latent-map figure command, on 200 test images of the preset's own dataset."""
    latent_map = _script("latent_map")
    out = tmp_path / "map.png"
    latent_map.main(["conv-vae-fashion-2d", "--examples", "200", "-o", str(out)])
    assert f"wrote {out}" in capsys.readouterr().out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
