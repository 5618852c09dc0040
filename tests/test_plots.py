"""Every figure writes a PNG of the expected size that is not blank."""

import numpy as np
import pytest
from PIL import Image

import aezoo
from aezoo.uses import latent, plots


def _check_png(path, min_size=(100, 60)):
    image = np.asarray(Image.open(path).convert("RGB"), dtype="float32")
    assert image.shape[1] >= min_size[0] and image.shape[0] >= min_size[1]
    assert image.std() > 5.0  # not a blank canvas
    return image


@pytest.fixture(scope="module")
def models():
    ae = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=3, hidden_units=(16,))
    vae = aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), seed=0)
    return ae, vae


def _x(n=16):
    return np.random.default_rng(0).uniform(size=(n, 8, 8, 1)).astype("float32")


def test_image_grid_layout():
    grid = plots.image_grid(np.zeros((10, 4, 5, 1)), columns=4, pad=1)
    assert grid.shape == (3 * 5 + 1, 4 * 6 + 1, 3)
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid(np.zeros((4, 4)))


def test_demo_and_grids(models, tmp_path):
    ae, vae = models
    x = _x()
    _check_png(plots.demo_figure(vae, tmp_path / "demo.png", x[:8], title="t"))
    _check_png(plots.demo_figure(ae, tmp_path / "demo_ae.png", x[:8]))
    _check_png(plots.reconstruction_grid(ae, x, tmp_path / "rec.png"))
    _check_png(plots.sample_grid(vae, tmp_path / "samples.png"))
    _check_png(plots.interpolation_strip(vae, x[0], x[1], tmp_path / "strip.png"))


def test_attribute_sweep(models, tmp_path):
    ae, _ = models
    x = _x()
    sweep = latent.apply_attribute(ae, x[:3], latent.attribute_vector(ae, x[:8], x[8:]), (-1, 0, 1))
    _check_png(plots.attribute_sweep(sweep, (-1, 0, 1), tmp_path / "sweep.png"))


def test_latent_maps(models, tmp_path):
    ae, vae = models
    x, y = _x(60), np.arange(60) % 3
    _check_png(plots.latent_map(vae, x, y, tmp_path / "map2d.png", grid=5), (600, 300))
    _check_png(plots.latent_map(ae, x, y, tmp_path / "map_pca.png"), (300, 300))


def test_attribute_map_and_demo_with_an_attribute_row(models, tmp_path):
    ae, vae = models
    x = _x(40)
    attrs = {"A": np.arange(40) % 2, "B": (np.arange(40) < 10).astype(int)}
    image = _check_png(plots.attribute_map(vae, x, attrs, tmp_path / "map.png", grid=4), (900, 300))
    assert image.shape[1] > 2.5 * image.shape[0]  # plane + two scatter panels side by side
    with pytest.raises(ValueError, match="needs a 2-d latent"):
        plots.attribute_map(ae, x, attrs, tmp_path / "no.png")
    with pytest.raises(ValueError, match="has 3 values for 40 examples"):
        plots.attribute_map(vae, x, {"A": [0, 1, 0]}, tmp_path / "no.png")
    plain = _check_png(plots.demo_figure(vae, tmp_path / "d0.png", x[:4]))
    vector = latent.attribute_vector(vae, x[:10], x[10:20])
    with_row = _check_png(plots.demo_figure(vae, tmp_path / "d1.png", x[:4], attribute=("A", vector)))
    assert with_row.shape[0] > plain.shape[0]  # one more panel
    assert not list(tmp_path.glob(".*tmp-*"))  # atomic writes leave no temp files


def test_training_curves(tmp_path):
    (tmp_path / "epochs.csv").write_text("epoch,loss\n0,3.0\n1,2.0\n2,1.5\n")
    _check_png(plots.training_curves(tmp_path / "epochs.csv", tmp_path / "curves.png"))
    (tmp_path / "empty.csv").write_text("epoch,loss\n")
    with pytest.raises(ValueError, match="no epochs"):
        plots.training_curves(tmp_path / "empty.csv", tmp_path / "x.png")


def test_masked_autoencoder_demo_shows_its_fill_in_task(tmp_path, monkeypatch):
    mae = aezoo.build("masked-ae", input_shape=(8, 8, 1), patch_size=2, embed_dim=8, depth=1, num_heads=2,
                      decoder_dim=8, decoder_depth=1, decoder_heads=2, seed=0)
    x = _x(4)
    _check_png(plots.demo_figure(mae, tmp_path / "mae.png", x))
    shown = {}
    monkeypatch.setattr(plots, "save_panels", lambda path, panels, title=None: shown.update(panels))
    plots.demo_figure(mae, tmp_path / "again.png", x)
    titles = list(shown)
    assert titles[0] == "inputs" and "75% of the patches hidden" in titles[1] and "predicted" in titles[2]
    assert len(titles) == 3  # no unmasked reconstruction or interpolation: the decoder never learned those
