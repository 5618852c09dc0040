"""Bad input, end to end: every kind of wrong input a user can give gets one clear error.

``ROWS`` is the table README's "When something is wrong" section shows: what the user
does and the exact message they get ("..." stands for text that varies: paths, ports, long
lists). ``test_bad_input`` triggers each row through the public API or the CLI and checks
the error's type and message; a CLI row also checks exit code 2, the ``aezoo CMD: error:``
message on stderr, no traceback and nothing written. ``python tests/test_bad_input.py`` prints the README section.

Also here: ``import aezoo`` and loading a bundled preset import none of huggingface_hub's
HTTP machinery (it costs ~0.4 s), and a Hub download that fails mid-file is one
PresetNotFoundError.
"""

import contextlib
import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import aezoo
from aezoo import data as aedata
from aezoo import presets
from aezoo.cli import main as cli_main
from aezoo.data.catalog import DatasetNotFoundError

README_HEADING = "## When something is wrong"


# ------------------------------------------------------------------ the rows
class CommandFailed(Exception):
    """What a CLI row raises: the command's ``aezoo CMD: error: ...`` message (its exit
    code, its stdout and the files it left were checked already)."""


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    you_do: str  # markdown, for README
    action: object  # ctx -> anything; must raise
    error: type
    message: str  # the exact message; "..." matches any text
    short: str = None  # README's shorter form (must match too); None: the message
    readme: bool = True  # in README's table (False: a near-duplicate of a row that is)


def cli(*argv, prepare=None):
    """A CLI row's action: run ``aezoo ARGV`` in the row's folder (after ``prepare(ctx)``),
    check exit code 2, no traceback and nothing written, and raise its error line."""

    def action(ctx):
        if prepare is not None:
            prepare(ctx)
        before = sorted(ctx.tmp.rglob("*"))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(list(argv))
            except SystemExit as exit_:  # argparse's usage errors
                code = exit_.code
        text = err.getvalue()
        assert code == 2, (code, text)
        assert "Traceback" not in text and out.getvalue() == ""
        assert sorted(ctx.tmp.rglob("*")) == before, "the command wrote something"
        lines = text.strip().splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith(f"aezoo {argv[0]}: error: "))
        assert all(line.startswith(("usage:", " ")) for line in lines[:first]), text  # argparse's usage only
        raise CommandFailed("\n".join(lines[first:]))

    return action


def images(n=3, low=0.0, high=1.0, shape=(28, 28, 1)):
    """``n`` float32 images spanning exactly [low, high]."""
    x = np.random.default_rng(0).uniform(low, high, (n, *shape)).astype("float32")
    x.flat[0], x.flat[1] = low, high
    return x


def save(ctx, name, array):
    np.save(ctx.tmp / name, array)


def _user_folder(ctx):
    """x.npy beside a folder of the user's own files."""
    save(ctx, "x.npy", images())
    (ctx.tmp / "mine").mkdir()
    (ctx.tmp / "mine" / "notes.txt").write_text("mine\n")


def _unet_folder(ctx):
    (ctx.tmp / "unet").mkdir()
    (ctx.tmp / "unet" / "config.json").write_text('{"_class_name": "UNet2DConditionModel"}')
    (ctx.tmp / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"")


def image_folder(ctx):
    """A folder holding a good PNG, a corrupt JPEG and a text file."""
    import keras

    folder = ctx.tmp / "photos"
    folder.mkdir()
    keras.utils.save_img(folder / "good.png", np.zeros((28, 28, 1), "float32"), scale=True)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"not a jpeg" * 10)
    (folder / "notes.txt").write_text("shopping list\n")


def preset_copy(ctx, edit):
    """A copy of the bundled dense-ae-mnist with ``edit(folder)`` applied."""
    folder = Path(shutil.copytree(presets.bundled_weights_dir() / "dense-ae-mnist", ctx.tmp / "my-preset"))
    edit(folder)
    return folder


def flip_a_byte(folder):
    path = folder / presets.WEIGHTS_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def newer_format(folder):
    path = folder / presets.METADATA_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": presets.FORMAT_VERSION + 1}))


def no_datasets(ctx):
    """No local copy of any dataset: every search root is one empty folder."""
    roots = lambda: [ctx.tmp / "data"]  # noqa: E731
    ctx.monkeypatch.setattr("aezoo.data.search.data_roots", roots)
    ctx.monkeypatch.setattr("aezoo.data.arrays.data_roots", roots)
    ctx.monkeypatch.setenv("AEZOO_CACHE", str(ctx.tmp / "cache"))


def load_from_failing_hub(ctx):
    """``aezoo.load("hf://org/tiny")`` while the loopback Hub drops the weights' download after
    1 KiB, then every resume before its first byte: huggingface_hub retries 5 times (1 s
    apart) and gives up with the HTTP client's own error (httpx2's, not an OSError)."""
    hub = ctx.hub()
    hub.faults[presets.WEIGHTS_FILE] = [("cut", 1024)] + [("cut", 0)] * 6
    aezoo.load("hf://org/tiny")


BATCH = "(batch, 28, 28, 1)"
ROWS = [
    # ---------------------------------------------------------------- arrays
    Row("wrong shape", "`model.encode(x)` with `x.shape == (2, 32, 32, 1)` (the model takes 28x28x1)",
        lambda c: c.ae.encode(np.zeros((2, 32, 32, 1), "float32")), ValueError,
        f"dense_ae: x must have shape {BATCH}, got (2, 32, 32, 1)"),
    Row("wrong rank", "`model.reconstruct(x.reshape(2, 784))`: flattened images",
        lambda c: c.ae.reconstruct(images(2).reshape(2, 784)), ValueError,
        f"dense_ae: x must have shape {BATCH}, got (2, 784)", readme=False),
    Row("single example to predict", "`model.predict(x[0])`: one image without the batch axis",
        lambda c: c.ae.predict(images(1)[0]), ValueError,
        f"dense_ae: x must have shape {BATCH}, got (28, 28, 1) (a single example? add a batch axis: x[None])"),
    Row("uint8 images", "`model.encode(x)` with `x.dtype == uint8` (0-255)",
        lambda c: c.ae.encode((images() * 255).astype("uint8")), ValueError,
        f"dense_ae: x must be a float array of shape {BATCH} with values in [0, 1], got dtype uint8 "
        "(images as uint8? divide by 255.0)"),
    Row("a folder name as x", "`model.encode(\"photos/\")`",
        lambda c: c.ae.encode("photos/"), ValueError,
        f"dense_ae: x must be a float array of shape {BATCH} with values in [0, 1], got dtype <U7 "
        "(a folder of images? use aezoo.uses.latent.extract_features(model, folder) or "
        "`aezoo encode PRESET FOLDER`)", readme=False),
    Row("out of range for Bernoulli", "`vae.encode(x * 255)` on a Bernoulli VAE (`dense-vae-mnist`)",
        lambda c: c.vae.encode(images() * 255), ValueError,
        "dense_vae: x must lie in [0, 1] for a Bernoulli likelihood, got range [0, 255]"),
    Row("NaN", "`model.reconstruct(x)` with a NaN (or inf) in `x`",
        lambda c: c.ae.reconstruct(np.where(images() > 0.5, np.nan, images())), ValueError,
        "dense_ae: x contains NaN or infinite values"),
    Row("inf in fit", "`model.fit(x)` with an inf in `x`",
        lambda c: c.ae.fit(np.where(images() > 0.5, np.inf, images()), epochs=1, verbose=0), ValueError,
        "dense_ae: x contains NaN or infinite values", readme=False),
    Row("empty batch", "`model.encode(x[:0])`: no examples",
        lambda c: c.ae.encode(images()[:0]), ValueError,
        "dense_ae: x is an empty batch, shape (0, 28, 28, 1): pass at least one example"),
    Row("wrong latent size", "`model.decode(z)` with `z.shape == (2, 3)` (the model's codes have 30 numbers)",
        lambda c: c.ae.decode(np.zeros((2, 3), "float32")), ValueError,
        "dense_ae: z must have shape (batch, 30), got (2, 3)"),
    Row("integer codes", "`model.decode(np.zeros((2, 30), int))`",
        lambda c: c.ae.decode(np.zeros((2, 30), "int64")), ValueError,
        "dense_ae: z must be a float array of shape (batch, 30) (latent codes), got dtype int64", readme=False),
    # ---------------------------------------------------------------- names
    Row("unknown preset", "`aezoo.load(\"conv-vae-face\")`: a typo",
        lambda c: aezoo.load("conv-vae-face"), ValueError,
        "Unknown preset 'conv-vae-face'. Did you mean: conv-vae-faces, ...? Known presets: ...\n"
        "(For a Hub repo pass 'hf://org/name'; for a preset folder, an existing path.)"),
    Row("no such folder", "`aezoo.load(\"./my-presets/dense\")`: a folder that is not there",
        lambda c: aezoo.load("./my-presets/dense"), FileNotFoundError,
        "No preset folder at my-presets/dense (a preset name has no '/': aezoo.list_presets() lists them)"),
    Row("repo without hf://", "`aezoo.load(\"aezoo/conv-vae-faces\")`: a Hub repo without `hf://`",
        lambda c: aezoo.load("aezoo/conv-vae-faces"), FileNotFoundError,
        "No preset folder at aezoo/conv-vae-faces (a preset name has no '/': aezoo.list_presets() lists them; "
        "for the Hub repo 'aezoo/conv-vae-faces' pass 'hf://aezoo/conv-vae-faces')", readme=False),
    Row("malformed hf URI", "`aezoo.load(\"hf://conv vae faces\")`",
        lambda c: aezoo.load("hf://conv vae faces"), ValueError,
        "Malformed Hub URI 'hf://conv vae faces': expected 'hf://org/name' or 'hf://org/name@revision' "
        "(letters, digits, '-', '_' and '.' in each part)"),
    Row("unknown architecture", "`aezoo.build(\"conv-vea\", ...)`",
        lambda c: aezoo.build("conv-vea", input_shape=(28, 28, 1), latent_dim=8), ValueError,
        "Unknown architecture 'conv-vea'. Did you mean: conv-vae, ...? Known architectures: ..."),
    Row("unknown dataset", "`data.load_arrays(\"fashon_mnist\")` (`from aezoo import data`)",
        lambda c: aedata.load_arrays("fashon_mnist"), ValueError,
        "Unknown dataset 'fashon_mnist'. Did you mean: fashion_mnist...? Known datasets: ..."),
    Row("missing dataset", "`data.load_arrays(\"utkface\")` with no copy of UTKFace on this machine",
        lambda c: (no_datasets(c), aedata.load_arrays("utkface")), DatasetNotFoundError,
        "Dataset 'utkface' was not found. Looked, in order, at:\n  - ...utkface_crop_part1_32x32.npz...\n"
        "To get it: UTKFace is non-commercial research only: download 'crop_part1' from "
        "https://susanqq.github.io/UTKFace/ and extract it to $AEZOO_DATA/utkface_crop_part1/crop_part1/.\n"
        "Or put the files in a folder of your own as $AEZOO_DATA/utkface_crop_part1/... and set AEZOO_DATA "
        "to that folder.",
        short="Dataset 'utkface' was not found. Looked, in order, at:\n...\n"
        "To get it: UTKFace is non-commercial research only: download 'crop_part1' from "
        "https://susanqq.github.io/UTKFace/ and extract it to $AEZOO_DATA/utkface_crop_part1/crop_part1/.\n..."),
    # ---------------------------------------------------------- build arguments
    Row("latent_dim=0", "`aezoo.build(\"dense-ae\", input_shape=(28, 28, 1), latent_dim=0)`",
        lambda c: aezoo.build("dense-ae", input_shape=(28, 28, 1), latent_dim=0), ValueError,
        "dense-ae: latent_dim must be a positive integer, got 0"),
    Row("overcomplete code", "`aezoo.build(\"dense-ae\", input_shape=(28, 28, 1), latent_dim=1000)`",
        lambda c: aezoo.build("dense-ae", input_shape=(28, 28, 1), latent_dim=1000), ValueError,
        "dense-ae: latent_dim=1000 >= input size 784 makes an overcomplete autoencoder, which without a "
        "regulariser can learn the identity map and nothing useful. Use 'sparse-ae', 'denoising-ae' or "
        "'contractive-ae' for overcomplete codes, or a latent_dim below 784.", readme=False),
    Row("size not divisible", "`aezoo.build(\"conv-ae\", input_shape=(30, 30, 1), latent_dim=16)`",
        lambda c: aezoo.build("conv-ae", input_shape=(30, 30, 1), latent_dim=16), ValueError,
        "conv-ae: height 30 is not divisible by 2**2=4 (2 stride-2 stages); resize or pad inputs to 28 or 32..."),
    Row("batch axis in input_shape", "`aezoo.build(\"dense-ae\", input_shape=(None, 28, 28, 1), latent_dim=8)`",
        lambda c: aezoo.build("dense-ae", input_shape=(None, 28, 28, 1), latent_dim=8), ValueError,
        "dense-ae: input_shape must be a tuple of positive ints, got (None, 28, 28, 1)", readme=False),
    # ---------------------------------------------------------- preset folders
    Row("tampered preset", "`aezoo.load(folder)` after one byte of its model.weights.h5 changed",
        lambda c: aezoo.load(preset_copy(c, flip_a_byte)), presets.ChecksumError,
        "preset folder .../my-preset failed verification, nothing was loaded: model.weights.h5: sha256 mismatch: "
        "expected ..., got .... Download it again (aezoo.presets.pull) or re-save it with "
        "aezoo.presets.save_preset.",
        short="preset folder .../my-preset failed verification, nothing was loaded: model.weights.h5: sha256 mismatch: "
        "expected ..., got .... Download it again ..."),
    Row("partial preset", "`aezoo.load(folder)` with model.weights.h5 missing (an interrupted copy)",
        lambda c: aezoo.load(preset_copy(c, lambda f: (f / presets.WEIGHTS_FILE).unlink())), presets.ChecksumError,
        "preset folder .../my-preset failed verification, nothing was loaded: model.weights.h5: missing (expected ... "
        "bytes, sha256 ...). Download it again (aezoo.presets.pull) or re-save it with aezoo.presets.save_preset.",
        short="preset folder .../my-preset failed verification, nothing was loaded: model.weights.h5: missing "
        "(expected ... bytes, sha256 ...). Download it again ..."),
    Row("not a preset", "`aezoo.load(folder)` on a folder that is not a preset",
        lambda c: aezoo.load(preset_copy(c, lambda f: (f / presets.METADATA_FILE).unlink())), presets.ChecksumError,
        "preset folder .../my-preset failed verification, nothing was loaded: metadata.json: missing (not a preset "
        "folder?). Download it again (aezoo.presets.pull) or re-save it with aezoo.presets.save_preset.", readme=False),
    Row("newer format", "`aezoo.load(folder)` on a preset saved by a newer aezoo (format version 2)",
        lambda c: aezoo.load(preset_copy(c, newer_format)), ValueError,
        f"preset folder .../my-preset is format version 2; aezoo {aezoo.__version__} reads version 1 at most: "
        "upgrade aezoo (pip install -U aezoo)"),
    Row("Hub fails mid-download", "`aezoo.load(\"hf://org/tiny\")` and the connection drops during the download",
        load_from_failing_hub, presets.PresetNotFoundError,
        "Could not find the weights of 'org/tiny@main'. Tried, in order:\n"
        "  1. Hugging Face cache: ... (org/tiny@main: not cached)\n"
        "  2. Hugging Face Hub: Could not download 'org/tiny' at revision 'main' from http://127.0.0.1:...: "
        "RemoteProtocolError: peer closed connection without sending complete message body (...). "
        "Check the network (and HF_ENDPOINT), then load again: the files already downloaded stay "
        "in ... and only the rest is fetched.\n"
        "Where there is a network, run aezoo.presets.pull('hf://org/tiny') (or `aezoo pull org/tiny`) once to "
        "cache them; or copy a preset folder here and pass its path to aezoo.load.",
        short="Could not find the weights of 'org/tiny@main'. Tried, in order:\n"
        "  1. Hugging Face cache: ... (org/tiny@main: not cached)\n"
        "  2. Hugging Face Hub: Could not download 'org/tiny' at revision 'main' from http://...: "
        "RemoteProtocolError: peer closed connection without sending complete message body (...). "
        "Check the network (and HF_ENDPOINT), then load again: ...\n"
        "Where there is a network, run aezoo.presets.pull('hf://org/tiny') ..."),
    # ---------------------------------------------------------------- the CLI
    Row("encode: missing file", "`aezoo encode dense-ae-mnist scans.npy` and scans.npy is not there",
        cli("encode", "dense-ae-mnist", "scans.npy"), CommandFailed,
        "aezoo encode: error: no such file: 'scans.npy'"),
    Row("encode: missing argument", "`aezoo encode dense-ae-mnist` (no input)",
        cli("encode", "dense-ae-mnist"), CommandFailed,
        "aezoo encode: error: the following arguments are required: input"),
    Row("encode: corrupt image", "`aezoo encode dense-ae-mnist photos/` and one JPEG in photos/ is corrupt "
        "(files other than .jpg, .jpeg and .png are skipped)",
        cli("encode", "dense-ae-mnist", "photos", prepare=image_folder), CommandFailed,
        "aezoo encode: error: photos/broken.jpg: not a readable image (...). Remove it from 'photos' or save "
        "it again as JPEG or PNG."),
    Row("encode: 0-255 floats", "`aezoo encode dense-vae-mnist x.npy` with float values 0-255",
        cli("encode", "dense-vae-mnist", "x.npy", prepare=lambda c: save(c, "x.npy", images() * 255)),
        CommandFailed,
        "aezoo encode: error: float data must lie in [0, 1], got range [0, 255] (images in 0-255? divide by "
        "255.0, or pass them as uint8)"),
    Row("encode: NaN", "`aezoo encode dense-ae-mnist x.npy` with a NaN in x.npy",
        cli("encode", "dense-ae-mnist", "x.npy",
            prepare=lambda c: save(c, "x.npy", np.where(images() > 0.5, np.nan, images()))),
        CommandFailed, "aezoo encode: error: data contains NaN or infinite values", readme=False),
    Row("encode: empty array", "`aezoo encode dense-ae-mnist x.npy` with no examples in x.npy",
        cli("encode", "dense-ae-mnist", "x.npy", prepare=lambda c: save(c, "x.npy", images()[:0])),
        CommandFailed,
        "aezoo encode: error: dense_ae: x is an empty batch, shape (0, 28, 28, 1): pass at least one example",
        readme=False),
    Row("encode: no output folder", "`aezoo encode dense-ae-mnist x.npy -o out/codes.npy` and out/ is not there",
        cli("encode", "dense-ae-mnist", "x.npy", "-o", "out/codes.npy",
            prepare=lambda c: save(c, "x.npy", images())),
        CommandFailed, "aezoo encode: error: cannot write 'out/codes.npy': folder '.../out' does not exist"),
    Row("show: unknown preset", "`aezoo show conv-vae-face`",
        cli("show", "conv-vae-face"), CommandFailed,
        "aezoo show: error: Unknown preset 'conv-vae-face'. Did you mean: conv-vae-faces, ...? Known presets: ...\n"
        "(For a Hub repo pass 'hf://org/name'; for a preset folder, an existing path.)", readme=False),
    Row("pull: malformed repo", "`aezoo pull my/org/model`",
        cli("pull", "my/org/model"), CommandFailed,
        "aezoo pull: error: Malformed Hub repo 'my/org/model': expected 'org/name' (letters, digits, '-', '_' and "
        "'.' in each part)", readme=False),
    Row("finetune: a folder that is not a preset", "`aezoo finetune dense-ae-mnist --data x.npy --out mine/` and "
        "mine/ holds your files",
        cli("finetune", "dense-ae-mnist", "--data", "x.npy", "--out", "mine", prepare=_user_folder), CommandFailed,
        "aezoo finetune: error: mine exists and is not an aezoo preset (it holds notes.txt): refusing to replace it; "
        "choose a new or empty folder, or pass --force (force=True) to replace it"),
    Row("convert: not an autoencoder", "`aezoo convert unet/ -o out/` on a diffusers UNet folder",
        cli("convert", "unet", "-o", "out", prepare=_unet_folder), CommandFailed,
        "aezoo convert: error: unet: a diffusers UNet2DConditionModel, not an autoencoder aezoo converts "
        "(AutoencoderKL, AutoencoderTiny)"),
    Row("spatial: size", "`taef2.encode(x)` with `x.shape == (1, 30, 32, 3)` (its factor is 8)",
        lambda c: aezoo.load("taef2", compile=False).encode(np.zeros((1, 30, 32, 3), "float32")), ValueError,
        "tiny_ae: x's height and width must divide by 8, got 30x32: crop or resize to 24x32 (or pad to 32x32)"),
    Row("spatial: diffusers range", "`taef2.encode(x)` with images in [-1, 1] (diffusers' convention)",
        lambda c: aezoo.load("taef2", compile=False).encode(images(1, -1.0, 1.0, (16, 16, 3))), ValueError,
        "tiny_ae: x must hold images with values in [0, 1], got range [-1, 1] (images in [-1, 1], diffusers' "
        "convention? pass (x + 1) / 2)"),
    Row("eval: bad number", "`aezoo eval dense-ae-mnist --examples ten`",
        cli("eval", "dense-ae-mnist", "--examples", "ten"), CommandFailed,
        "aezoo eval: error: argument --examples: invalid int value: 'ten'", readme=False),
]


def matches(actual, expected):
    """``expected`` with "..." standing for any text (possibly empty), against the whole message."""
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def models():
    return aezoo.load("dense-ae-mnist", compile=False), aezoo.load("dense-vae-mnist", compile=False)


@pytest.fixture
def ctx(models, tmp_path, monkeypatch, request):
    """What a row's action gets: the two presets, its own folder (also the working
    directory), ``monkeypatch``, and ``hub()`` to start the loopback Hub."""
    monkeypatch.chdir(tmp_path)
    ae, vae = models
    return types.SimpleNamespace(ae=ae, vae=vae, tmp=tmp_path, monkeypatch=monkeypatch,
                                 hub=lambda: request.getfixturevalue("fake_hub"))


@pytest.fixture
def fake_hub(loopback_only, monkeypatch, tmp_path):
    """The loopback Hub of tests/loopback_hub.py holding ``org/tiny`` (a small preset), with
    huggingface_hub pointed at it and at a private, empty cache."""
    from huggingface_hub import constants
    from huggingface_hub.utils import _detect_agent, disable_progress_bars, enable_progress_bars

    from loopback_hub import LoopbackHub, serve

    home = tmp_path / "hf-home"
    for name, value in {"HF_HOME": home, "HF_HUB_CACHE": tmp_path / "hf-cache", "HF_TOKEN_PATH": home / "token",
                        "AGENT_HARNESSES_PATH": home / "agents.json"}.items():
        monkeypatch.setenv(name, str(value))
        monkeypatch.setattr(constants, name, str(value))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(_detect_agent, "_registry", _detect_agent._EMPTY_REGISTRY)
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 1024)  # a small file drops mid-way as a large one does
    disable_progress_bars()
    server = LoopbackHub()
    stop = serve(server)
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        server.url + "/{repo_id}/resolve/{revision}/{filename}")
    model = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,))
    server.publish("org/tiny", presets.save_preset(model, tmp_path / "hub-tiny", preset="tiny"))
    try:
        yield server
    finally:
        stop()
        enable_progress_bars()
    assert server.unexpected == []


# --------------------------------------------------------------------- tests
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input(row, ctx):
    with pytest.raises(row.error) as info:
        row.action(ctx)
    message = str(info.value)
    assert matches(message, row.message), f"\n got: {message!r}\nwant: {row.message!r}"
    assert row.short is None or matches(message, row.short), f"\n got: {message!r}\nwant: {row.short!r}"
    # aezoo's own line, not a chain of library errors
    assert info.value.__cause__ is None and "Traceback" not in message


def test_failed_hub_download_is_one_error_and_loading_again_resumes(ctx):
    """The row above, then the network comes back: loading again fetches only what was not
    downloaded yet (the weights; the finished files stay in the cache), as the message says."""
    with pytest.raises(presets.PresetNotFoundError) as info:
        load_from_failing_hub(ctx)
    assert info.value.__suppress_context__ and info.value.__cause__ is None
    hub = ctx.hub()
    weights = [d for d in hub.downloads if d["path"] == presets.WEIGHTS_FILE]
    assert weights[0]["sent"] == 1024 and all(d["sent"] == 0 for d in weights[1:])  # failed mid-file
    hub.faults.clear()
    before = len(hub.downloads)
    model = aezoo.load("hf://org/tiny")
    assert model.latent_dim == 4
    assert {d["path"] for d in hub.downloads[before:]} == {presets.WEIGHTS_FILE}


def test_the_messages_match_nothing_else():
    """A row's message pattern is not so loose that it would pass any message."""
    for row in ROWS:
        for pattern in filter(None, (row.message, row.short)):
            assert not matches("something else entirely", pattern), row.id
            assert len(pattern.replace("...", "")) > 20, row.id


# --------------------------------------------------- huggingface_hub stays out
HUB_MODULES = ("huggingface_hub.", "httpx", "httpcore")  # httpx2 and httpcore2 too


def test_import_and_bundled_load_import_no_hub_client():
    """huggingface_hub's API and HTTP client cost ~0.4 s to import: aezoo imports them only
    when a Hub operation runs. (Keras imports the bare ``huggingface_hub`` package, a lazy
    stub of under a millisecond, itself; that one is allowed.)"""
    code = (
        "import sys, json\n"
        "hub = lambda: sorted(m for m in sys.modules if m.startswith(%r))\n"
        "import aezoo\n"
        "after_import = hub()\n"
        "aezoo.load('dense-ae-mnist').encode(__import__('numpy').zeros((1, 28, 28, 1), 'float32'))\n"
        "print(json.dumps([after_import, hub()]))\n" % (HUB_MODULES,)
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(aezoo.__file__).parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    after_import, after_load = json.loads(done.stdout.strip().splitlines()[-1])
    assert after_import == [] and after_load == []


# -------------------------------------------------------------------- README
def markdown_section():
    """README's section, from ``ROWS``: the messages as the tests assert them."""
    lines = [
        README_HEADING,
        "",
        "aezoo checks what you give it before Keras or TensorFlow sees it, and its error says what it expected. "
        "The CLI prints that message after `aezoo COMMAND: error:`, exits with code 2 and writes nothing "
        "(`aezoo --debug COMMAND ...` shows the traceback). Each row is a test in `tests/test_bad_input.py`; "
        "`...` stands for text that varies (paths, lists, ports).",
        "",
        "| you do | you get |",
        "| --- | --- |",
    ]
    for row in ROWS:
        if row.readme:
            kind = "" if row.error is CommandFailed else f"{row.error.__name__}: "
            lines.append(f"| {_cell(row.you_do)} | {_code(kind + (row.short or row.message))} |")
    return "\n".join(lines) + "\n"


def _cell(text):
    return text.replace("|", "\\|")


def _code(text):
    """``text`` as one inline code span of a table cell (double backticks when it holds one)."""
    text = _cell(re.sub(r"\s+", " ", text))
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def test_readme_section_is_generated_from_these_rows():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    if README_HEADING not in readme:
        pytest.skip(f"README has no {README_HEADING!r} section yet (python tests/test_bad_input.py prints it)")
    assert markdown_section().strip() in readme


if __name__ == "__main__":
    sys.stdout.write(markdown_section())
