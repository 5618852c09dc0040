"""Bjøntegaard-delta rate on cases whose answer is known in closed form, and the byte
accounting of the rate-distortion comparison (every byte of every file)."""

import numpy as np
import pytest

import aezoo
from aezoo.evaluation import image_formats
from aezoo.evaluation.bd_rate import bd_rate
from aezoo.evaluation.codec_comparison import codec_point
from test_codecs import smooth_images


def _cubic(psnr):
    return 0.002 * (psnr - 30) ** 3 - 0.01 * (psnr - 30) ** 2 + 0.15 * psnr - 5.0  # log rate


def test_bd_rate_of_a_constant_rate_ratio_is_that_ratio():
    psnr = np.array([28.0, 31.0, 34.0, 37.0])
    rates = np.exp(_cubic(psnr))
    assert bd_rate(rates, psnr, 0.8 * rates, psnr) == pytest.approx(-20.0, abs=1e-9)
    other = np.array([30.0, 32.5, 35.0, 38.0, 40.0])  # other PSNRs: the fit still recovers it
    assert bd_rate(rates, psnr, 1.25 * np.exp(_cubic(other)), other) == pytest.approx(25.0, abs=1e-9)


def test_bd_rate_averages_over_the_shared_psnr_range_only():
    """log ratio a (P - 33): its mean over the overlap [30, 37] is a * 0.5."""
    a = 0.04
    anchor, test = np.array([26.0, 29.0, 33.0, 37.0]), np.array([30.0, 32.0, 35.0, 39.0, 41.0])
    rates_test = np.exp(_cubic(test) + a * (test - 33.0))
    assert bd_rate(np.exp(_cubic(anchor)), anchor, rates_test, test) == pytest.approx(
        (np.exp(a * 0.5) - 1) * 100, abs=1e-9)
    with pytest.raises(ValueError, match="share no PSNR range"):
        bd_rate(np.exp(_cubic(anchor)), anchor, np.ones(4), np.array([40.0, 41, 42, 43]))
    with pytest.raises(ValueError, match="at least 4"):
        bd_rate([1, 2, 3], [30, 31, 32], [1, 2, 3], [30, 31, 32])


def test_every_format_counts_its_whole_file_and_knows_its_overhead():
    images = smooth_images(2, 64)
    for fmt in image_formats.FORMATS:
        data = image_formats.encode(images[0], fmt, 50)
        payload = image_formats.payload_bytes(data, fmt)
        assert 0 < payload < len(data)
        if fmt == "webp":
            assert len(data) - payload == 20  # RIFF header and VP8 chunk header
        point = image_formats.curve(images[:1], fmt, [50])[0]
        assert point["bpp"] == 8 * len(data) / (64 * 64) and point["psnr"] > 20


def test_a_codec_point_counts_every_byte_of_its_files():
    pytest.importorskip("constriction")
    model = aezoo.build("factorized-codec", input_shape=(None, None, 3), filters=8, latent_dim=6, seed=0)
    model.update()
    images = smooth_images(2, 32)
    files = model.compress(images)
    point = codec_point(model, images)
    assert point["bpp"] == pytest.approx(8 * np.mean([len(f) for f in files]) / (32 * 32))
    # magic, version, flags, name length, digest, size, payload length (1 byte), CRC
    assert point["overhead_bytes"] == 4 + 1 + 1 + 1 + 8 + 4 + 1 + 4
