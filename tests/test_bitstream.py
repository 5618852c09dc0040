"""The codecs' real bitstream: integer tables stored with the weights, constriction's range
coder, the versioned file format and its refusals (aezoo.uses.bitstream)."""

import zlib

import h5py
import numpy as np
import pytest

import aezoo
from aezoo.models import coding_tables
from aezoo.uses import bitstream
from aezoo.uses.entropy_coder import Decoder, Encoder
from test_codecs import smooth_images

pytest.importorskip("constriction")

ANY_SIZE = {"factorized-codec": dict(input_shape=(None, None, 3), filters=8, latent_dim=6, lmbda=0.01, seed=0),
            "hyperprior-codec": dict(input_shape=(None, None, 3), filters=6, latent_dim=6, lmbda=0.01, seed=0)}


def updated(name):
    model = aezoo.build(name, **ANY_SIZE[name])
    model.update()
    return model


def test_quantized_pmf_sums_exactly_keeps_every_symbol_and_follows_the_masses():
    pmf = np.array([0.5, 0.25, 0.125, 0.125 - 1e-9, 1e-12, 0.0])
    freq = coding_tables.quantize_pmf(pmf)
    assert freq.sum() == 1 << coding_tables.PRECISION and freq.min() == 1
    np.testing.assert_allclose(freq[:4] / freq.sum(), pmf[:4], atol=3 / 65536)
    flat = coding_tables.quantize_pmf(np.ones(65536))
    assert (flat == 1).all()
    with pytest.raises(ValueError, match="finite non-negative"):
        coding_tables.quantize_pmf([0.5, -0.1])


def test_coder_round_trips_escapes_and_costs_near_the_ideal_length():
    cdf, lengths, offsets = coding_tables.gaussian_tables([0.11, 1.0, 5.0, 40.0], 1e-9)
    rng = np.random.default_rng(0)
    scales = np.array([0.11, 1.0, 5.0, 40.0])
    index = rng.integers(0, 4, 4000)
    symbols = np.round(rng.normal(0, scales[index])).astype(np.int64)
    ideal = -np.sum(np.log2(np.diff(cdf[index], axis=1)[np.arange(4000), symbols - offsets[index]] / 65536.0))
    encoder = Encoder()
    encoder.encode(symbols, index, (cdf, lengths, offsets))
    data = encoder.to_bytes()
    assert ideal / 8 <= len(data) <= ideal / 8 * 1.01 + 8
    outliers = symbols.copy()
    outliers[:4] = [10 ** 5, -7 * 10 ** 6, 2 ** 31 - 1, -(2 ** 31)]
    encoder = Encoder()
    encoder.encode(outliers, index, (cdf, lengths, offsets))
    np.testing.assert_array_equal(Decoder(encoder.to_bytes()).decode(index, (cdf, lengths, offsets)), outliers)


def test_the_bitstream_of_fixed_tables_is_fixed():
    """A constriction release that codes the same tables differently would make old files
    unreadable: these bytes are format version 1's."""
    cdf = np.array([[0, 1000, 60000, 65535, 65536]], np.int32)
    encoder = Encoder()
    encoder.encode(np.array([0, 1, 1, 2, -1, 7, 1]), np.zeros(7, int), (cdf, np.array([4]), np.array([-1])))
    assert encoder.to_bytes().hex() == GOLDEN


GOLDEN = "ea5f017706cefde9"  # constriction 0.5.0


@pytest.mark.parametrize("name", sorted(ANY_SIZE))
def test_round_trip_any_size_matches_reconstruct_and_the_ideal_rate(name):
    model = updated(name)
    x = smooth_images(2, 80)[:, :70, :75]  # padded to 80 x 80 (factorized) or 128 x 128
    files = model.compress(x)
    assert [f[:5] for f in files] == [b"AEZC\x01"] * 2
    images = model.decompress(files)
    padded = bitstream.pad(x, model.size_multiple)
    expected = model.reconstruct(padded)[:, :70, :75]
    for image, want in zip(images, expected):
        assert image.shape == (70, 75, 3)
        np.testing.assert_allclose(image, want, atol=1e-5)
    ideal_bytes = model.bits_per_pixel(padded) * padded.shape[1] * padded.shape[2] / 8
    for data, ideal in zip(files, ideal_bytes):
        header = bitstream.read_header(data)
        assert header.payload_length <= ideal * 1.02 + 8  # coder overhead: a few bytes


def test_tables_save_with_the_weights_and_files_name_the_preset(tmp_path):
    model = updated("hyperprior-codec")
    folder = aezoo.presets.save_preset(model, tmp_path / "hp-test", preset="hp-test")
    a, b = aezoo.presets.load_preset_folder(folder), aezoo.presets.load_preset_folder(folder)
    for layer in ("entropy_bottleneck", "gaussian_conditional"):
        for mine, theirs in zip(getattr(model, layer).tables(), getattr(a, layer).tables()):
            np.testing.assert_array_equal(mine, theirs)
    data = a.compress(smooth_images(1, 64))[0]
    header = bitstream.read_header(data)
    assert header.preset == "hp-test" and header.digest == bytes.fromhex(a.preset_manifest_sha256)[:8]
    assert b.decompress(data).shape == (64, 64, 3)
    with pytest.raises(bitstream.BitstreamError, match="made by preset hp-test .* not by an unsaved model"):
        model.decompress(data)


def test_weights_saved_before_the_tables_existed_still_load(tmp_path):
    model = updated("hyperprior-codec")
    path = tmp_path / "old.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:  # the layout before coding tables: learned variables only
        for i in (15, 16, 17):
            del f[f"layers/entropy_bottleneck/vars/{i}"]
        for i in (0, 1, 2):
            del f[f"layers/gaussian_conditional/vars/{i}"]
    old = aezoo.build("hyperprior-codec", **ANY_SIZE["hyperprior-codec"])
    old.load_weights(path)
    np.testing.assert_array_equal(np.asarray(old.entropy_bottleneck.quantiles),
                                  np.asarray(model.entropy_bottleneck.quantiles))
    assert not old.has_coding_tables
    with pytest.raises(ValueError, match="no coding tables yet: call model.update"):
        old.compress(smooth_images(1, 64))


def _refit(data, **changes):
    """``data`` with header fields changed and its checksum made valid again."""
    header = bitstream.read_header(data)
    fields = dict(codec=header.codec, preset=header.preset, digest=header.digest, height=header.height,
                  width=header.width, payload=bitstream.payload(data, header), index_checksum=header.index_checksum)
    fields.update(changes)
    return bitstream.pack(**fields)


def test_every_damaged_or_foreign_file_is_refused_in_one_line():
    model = updated("hyperprior-codec")
    other = updated("factorized-codec")
    data = model.compress(smooth_images(1, 64))[0]
    payload_at = bitstream.read_header(data).header_length
    version = bytearray(data)
    version[4] = 2
    header_bit = bytearray(data)
    header_bit[payload_at - 6] ^= 1  # inside the index checksum
    payload_bit = bytearray(data)
    payload_bit[-1] ^= 0x40
    cases = {
        "not an aezoo codec file": b"\x89PNG" + data[4:],
        "format version 2 is newer than this aezoo reads": bytes(version),
        "truncated aezoo codec file": data[:-3],
        "ends inside the header|header does not parse": data[:9],
        "bytes after its end": data + b"\0",
        "CRC-32 does not match": bytes(header_bit),
        "CRC-32 does not match ": bytes(payload_bit),
        "made by an unsaved model .* not by an unsaved model": other.compress(smooth_images(1, 32))[0],
        "predicts other scale indexes": _refit(data, index_checksum=(bitstream.read_header(data).index_checksum + 1)
                                               % 2 ** 32),
    }
    for message, damaged in cases.items():
        with pytest.raises(bitstream.BitstreamError, match=message.strip()) as info:
            model.decompress(damaged)
        assert "\n" not in str(info.value)
    another = aezoo.build("hyperprior-codec", **{**ANY_SIZE["hyperprior-codec"], "seed": 5})
    another.update()
    with pytest.raises(bitstream.BitstreamError, match="made by an unsaved model"):
        another.decompress(data)


def test_bad_images_are_refused():
    model = updated("factorized-codec")
    with pytest.raises(ValueError, match="finite float images"):
        model.compress(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="images \\(height, width, 3\\)"):
        model.compress(np.zeros((16, 16), np.float32))
    one = model.compress(np.full((1, 1, 3), 0.5, np.float32))[0]  # a single pixel still codes
    assert model.decompress(one).shape == (1, 1, 3)


def test_crc_covers_header_and_payload():
    model = updated("factorized-codec")
    data = model.compress(smooth_images(1, 32))[0]
    header = bitstream.read_header(data)
    crc = int.from_bytes(data[header.header_length - 4:header.header_length], "big")
    assert crc == zlib.crc32(data[header.header_length:], zlib.crc32(data[:header.header_length - 4]))
