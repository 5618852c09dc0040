"""Sequence models in use: scaling stored in the model, the tasks' protocols and metrics,
raw series from .npy/.csv files, per-step scores of a long series, and the CLI on series."""

import json

import numpy as np
import pytest
import keras

import aezoo
from aezoo.data.sequence_tasks import KDD_WINDOW, demo_examples, load_task
from aezoo.data.series import conform_series, read_series_file
from aezoo.evaluation.sequence_metrics import threshold_metrics, window_ranking
from aezoo.models.scaling import fit_scaling
from aezoo.uses.latent import AnomalyDetector, anomaly_score
from aezoo.uses.series import step_scores

SMALL = {"lstm-ae": dict(latent_dim=3, units=(6,)), "conv1d-ae": dict(latent_dim=3, filters=(4, 6), kernel_size=3)}


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def _series(n=16, steps=8, channels=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, steps, channels)).astype("float32")


# ------------------------------------------------------------------ scaling
@pytest.mark.parametrize("name", sorted(SMALL))
def test_codes_do_not_depend_on_the_units(name):
    """The same weights with scaling fitted on x and on 1000 x + 5 give the same codes, and
    reconstructions come back in the units they were given."""
    x = _series()
    a = aezoo.build(name, input_shape=(8, 2), **SMALL[name]).adapt_scaling(x)
    b = aezoo.build(name, input_shape=(8, 2), **SMALL[name])
    b.set_weights(a.get_weights())
    b.adapt_scaling(1000 * x + 5)
    np.testing.assert_allclose(a.encode(x), b.encode(1000 * x + 5), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(1000 * a.reconstruct(x) + 5, b.reconstruct(1000 * x + 5), rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(a.reconstruction_error(x), b.reconstruction_error(1000 * x + 5), rtol=1e-3)
    np.testing.assert_allclose(a.evaluate(x, verbose=0), b.evaluate(1000 * x + 5, verbose=0), rtol=1e-3)


def test_fit_fits_the_scaling_once_and_it_is_saved(tmp_path):
    x = _series() * [10.0, 0.1] + [50.0, -3.0]
    model = aezoo.build("conv1d-ae", input_shape=(8, 2), **SMALL["conv1d-ae"])
    assert model.scaling["count"] == 0
    model.fit(x, epochs=1, verbose=0)
    mean, std, count = fit_scaling(x)
    np.testing.assert_allclose(model.scaling["mean"], mean, rtol=1e-5)
    np.testing.assert_allclose(model.scaling["std"], std, rtol=1e-5)
    assert model.scaling["count"] == count == x.shape[0] * x.shape[1]
    model.fit(x * 3, epochs=1, verbose=0)  # fine-tuning keeps the statistics it was trained with
    np.testing.assert_allclose(model.scaling["mean"], mean, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.scaling == model.scaling
    np.testing.assert_allclose(loaded.reconstruct(x), model.reconstruct(x), atol=1e-4)


def test_scaling_leaves_padding_out():
    x = _series(steps=6)
    padded = np.concatenate([x, np.zeros((len(x), 4, 2), "float32")], axis=1)
    model = aezoo.build("lstm-ae", input_shape=(10, 2), masking=True, **SMALL["lstm-ae"]).adapt_scaling(padded)
    np.testing.assert_allclose(model.scaling["mean"], x.reshape(-1, 2).mean(0), rtol=1e-4, atol=1e-6)
    assert model.scaling["count"] == x.shape[0] * 6
    assert np.all(model.reconstruct(padded)[:, 6:] == 0.0)


def test_unscaled_model_and_bad_statistics_are_clear_errors():
    model = aezoo.build("conv1d-ae", input_shape=(8, 2), standardize=False, **SMALL["conv1d-ae"])
    assert model.scaling is None
    with pytest.raises(ValueError, match="standardize=False"):
        model.adapt_scaling(_series())
    with pytest.raises(ValueError, match="NaN"):
        fit_scaling(np.full((2, 8, 2), np.nan))


def test_anomaly_detector_tutorial_rule():
    model = aezoo.build("conv1d-ae", input_shape=(8, 2), **SMALL["conv1d-ae"]).adapt_scaling(_series())
    normal = _series(seed=1)
    scores = anomaly_score(model, normal)
    np.testing.assert_allclose(scores, model.reconstruction_error(normal))
    detector = AnomalyDetector(model, n_std=1).fit(normal)
    assert detector.threshold == pytest.approx(scores.mean() + scores.std(), rel=1e-6)
    assert detector.predict(normal * 50).all()


# ------------------------------------------------------------------ files and layouts
def test_conform_series_layouts():
    x = _series(n=3, steps=8, channels=1)
    np.testing.assert_array_equal(conform_series(x, (8, 1)), x)
    np.testing.assert_array_equal(conform_series(x[..., 0], (8, 1)), x)  # a CSV of one series per row
    long = np.arange(20, dtype="float32")
    windows = conform_series(long, (8, 1), stride=4)  # one long series -> windows
    assert windows.shape == (4, 8, 1) and windows[1, 0, 0] == 4
    assert conform_series(np.zeros((20, 3), "float32"), (8, 3)).shape == (13, 8, 3)
    short = conform_series(np.ones((2, 5, 3), "float32"), (8, 3), mask_value=0.0)  # padded for a masking model
    assert short.shape == (2, 8, 3) and np.all(short[:, 5:] == 0)
    with pytest.raises(ValueError, match=r"\(n, 140, 1\).*one series of 140 values per row"):
        conform_series(np.zeros((4, 141)), (140, 1))  # the tutorial's CSV keeps its label column
    with pytest.raises(ValueError, match="shorter than"):
        conform_series(np.zeros(5), (8, 1))


def test_read_series_file_csv_with_header_and_npy(tmp_path):
    table = np.arange(12, dtype="float32").reshape(3, 4)
    (tmp_path / "a.csv").write_text("t0,t1,t2,t3\n" + "\n".join(",".join(map(str, r)) for r in table) + "\n")
    np.testing.assert_array_equal(read_series_file(tmp_path / "a.csv"), table)
    np.save(tmp_path / "a.npy", table)
    np.testing.assert_array_equal(read_series_file(tmp_path / "a.npy"), table)
    (tmp_path / "bad.csv").write_text("1,2\n3,x\n")
    with pytest.raises(ValueError, match="comma-separated numbers"):
        read_series_file(tmp_path / "bad.csv")
    (tmp_path / "a.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match=".npy array or a .csv"):
        read_series_file(tmp_path / "a.txt")


def test_step_scores_put_windows_back_on_the_series():
    model = aezoo.build("conv1d-ae", input_shape=(8, 1), **SMALL["conv1d-ae"])
    series = np.sin(np.linspace(0, 12, 60)).astype("float32")
    model.adapt_scaling(conform_series(series, (8, 1)))
    recon, score = step_scores(model, series)
    assert recon.shape == (60, 1) and score.shape == (60,) and np.all(np.isfinite(score))
    windows = conform_series(series, (8, 1))
    first = model.reconstruct(windows[:1])[0, 0, 0]  # step 0 lies in window 0 only
    assert recon[0, 0] == pytest.approx(first, abs=1e-5)


# ------------------------------------------------------------------ tasks and metrics
def test_ecg_tutorial_protocol():
    x_train, y_train = load_task("ecg5000", "train")
    x_test, y_test = load_task("ecg5000", "test")
    assert x_test.shape == (1000, 140, 1) and not y_train.any()  # normal beats only train
    assert 2200 < len(x_train) < 2500  # ~58% of 4,000 are normal
    ucr_train, _ = load_task("ecg5000_ucr", "train")
    assert len(ucr_train) == 292 and load_task("ecg5000_ucr", "test")[0].shape == (4500, 140, 1)
    demo = demo_examples("ecg5000")
    assert len(demo) == 8


def test_kdd_windows_and_labels():
    x_train, _ = load_task("kdd_tsad_135", "train")
    x_test, overlaps = load_task("kdd_tsad_135", "test")
    assert x_train.shape == (1200 - KDD_WINDOW + 1, KDD_WINDOW, 1)
    assert x_test.shape == (7501 - KDD_WINDOW + 1, KDD_WINDOW, 1)
    assert overlaps.sum() == 12 + KDD_WINDOW - 1  # every window that touches steps 4187-4198


def test_window_ranking_and_threshold_metrics():
    scores = np.array([0.1, 0.9, 0.2, 0.8, 0.3])
    overlaps = np.array([0, 0, 1, 1, 0])
    ranking = window_ranking(scores, overlaps, np.arange(5) * 10, np.array([30, 31]), window=4)
    assert ranking["anomaly_rank"] == 2 and ranking["k"] == 2 and ranking["precision_at_k"] == 0.5
    assert ranking["top_window_centre"] == 12 and ranking["ucr_hit"] == 1.0  # within 100 steps
    out = threshold_metrics(np.array([1.0, 1.0, 3.0, 3.0]), np.array([1.0, 5.0, 5.0]), np.array([0, 1, 0]))
    assert out["threshold"] == 3.0  # mean 2 + std 1
    assert out["accuracy"] == pytest.approx(2 / 3) and out["precision"] == 1.0 and out["recall"] == 0.5


# ------------------------------------------------------------------ CLI on series files
@pytest.fixture(scope="module")
def series_preset(tmp_path_factory):
    """A tiny sequence preset folder, saved the way recipes save them."""
    from aezoo import presets

    keras.utils.set_random_seed(0)
    model = aezoo.build("conv1d-ae", input_shape=(8, 1), **SMALL["conv1d-ae"])
    model.compile()
    model.fit(_series(n=32, channels=1), epochs=1, verbose=0)
    folder = tmp_path_factory.mktemp("presets") / "tiny-series"
    presets.save_preset(model, folder, preset="tiny-series", demo_inputs=_series(n=4, channels=1),
                        metadata={"metrics": {"threshold": 1.5}, "dataset": "custom"})
    return folder


def test_cli_encode_eval_demo_on_csv(series_preset, tmp_path, capsys):
    from aezoo.cli import main

    rows = _series(n=5, channels=1)[..., 0]
    rows[2] *= 40  # one series far from the training data
    csv = tmp_path / "beats.csv"
    csv.write_text("\n".join(",".join(f"{v:.5f}" for v in r) for r in rows) + "\n")
    assert main(["encode", str(series_preset), str(csv), "-o", str(tmp_path / "codes.npy")]) == 0
    assert np.load(tmp_path / "codes.npy").shape == (5, 3)
    capsys.readouterr()
    assert main(["eval", str(series_preset), "--data", str(csv), "--scores", str(tmp_path / "s.csv")]) == 0
    report = json.loads(capsys.readouterr().out.split("\nwrote")[0])
    assert report["examples"] == 5 and report["most_anomalous"][0] == 2 and report["flagged"] >= 1
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "index,score,anomalous" and len(lines) == 6 and lines[3].endswith(",1")
    assert main(["demo", str(series_preset), "--input", str(csv), "-o", str(tmp_path / "d.png")]) == 0
    assert (tmp_path / "d.png").stat().st_size > 10_000
    assert main(["eval", str(series_preset), "--data", str(tmp_path)]) != 0  # a folder is not series


def test_series_preset_cards_give_raw_series_usage_and_the_data_terms():
    from aezoo import presets

    text = (presets.bundled_weights_dir() / "lstm-ae-ecg" / "README.md").read_text(encoding="utf-8")
    assert 'license_name: "no-license-stated"' in text and "x: raw series, float32 (n, 140, 1)" in text
    assert "in [0, 1]" not in text and "Dau H.A. et al. (2018)" in text and "aezoo train lstm-ae-ecg" in text
