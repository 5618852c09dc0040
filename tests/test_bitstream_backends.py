"""A codec file encoded on one Keras backend decodes on every other: exactly the encoder's
quantised latents (so the same image, up to the synthesis transform's float rounding), and
for the hyperprior with the same scale indexes. Every backend pair, one child process per
backend and phase (aezoo.benchmark.bitstream_backends)."""

import importlib.util

import numpy as np
import pytest

import aezoo
from aezoo.benchmark.bitstream_backends import cross_backend
from test_codecs import smooth_images

pytest.importorskip("constriction")

BACKENDS = tuple(b for b, module in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch"))
                 if importlib.util.find_spec(module) is not None)


@pytest.mark.full
@pytest.mark.skipif(len(BACKENDS) < 2, reason="needs two of tensorflow, jax, torch")
def test_every_backend_pair_decodes_the_encoders_latents(tmp_path):
    presets = []
    for name, config in (("factorized-codec", dict(filters=8, latent_dim=6)), ("hyperprior-codec", dict(filters=6, latent_dim=6))):
        model = aezoo.build(name, input_shape=(None, None, 3), seed=0, **config)
        model.fit(smooth_images(4, 64), epochs=1, batch_size=4, verbose=0)  # fit ends with update()
        presets.append(str(aezoo.presets.save_preset(model, tmp_path / f"tiny-{name}", preset=f"tiny-{name}")))
    images = smooth_images(3, 48, seed=3)[:, :40, :36]  # padded on the right and bottom
    report = cross_backend(presets, images, BACKENDS, workdir=tmp_path / "work")
    for preset, result in report.items():
        assert len(result["pairs"]) == len(BACKENDS) ** 2
        for pair, counts in result["pairs"].items():
            assert counts["refused"] == 0 and counts["exact_latents"] == 3, (preset, pair, counts)
            assert counts.get("differing_indexes", 0) == 0, (preset, pair, counts)
        images_by_decoder = {b: np.load(f"{result['workdir']}/dec-{b}/enc-{BACKENDS[0]}.npz")["image_0"]
                             for b in BACKENDS}
        for image in images_by_decoder.values():  # same latents: the same image up to float rounding
            np.testing.assert_allclose(image, images_by_decoder[BACKENDS[0]], atol=1e-4)
