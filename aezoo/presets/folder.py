"""The preset folder: write it atomically, verify its checksums, load it.

A preset folder (``weights/<preset>/`` and, file for file, a Hugging Face repo) is
Keras's own unzipped model layout plus a card and a checksum manifest::

    config.json        keras.saving.serialize_keras_object(model), without compile_config
    model.weights.h5   model.save_weights(...) of the model, without optimizer state
    metadata.json      versions, preset, recipe, dataset, metrics, parameters, and
                       "files": {name: {"sha256", "size"}} for every other file
    README.md          the model card (Hugging Face YAML header, library_name: keras)
    demo_inputs.npy    optional: a few float32 inputs for demos

Keras reads this layout directly: ``keras.saving.load_model(folder)`` and
``keras.saving.load_model("hf://org/<preset>")`` both work once ``aezoo`` is imported
(they need config.json and model.weights.h5; metadata.json, README.md and extra files
are ignored). ``load_preset_folder`` is the checked path: it verifies every sha256
first and loads nothing on a mismatch.

Example:
    >>> save_preset(model, "weights/dense-ae-mnist", preset="dense-ae-mnist",
    ...             metadata={"dataset": "mnist", "split": "test", "metrics": {...}})
    >>> model = load_preset_folder("weights/dense-ae-mnist")
"""

import datetime
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import keras

import aezoo.models  # noqa: F401  (registers the architectures deserialisation needs)
from aezoo.io import file_digest, staged_dir
from aezoo.models.base import shape_matches
from aezoo.presets.card import model_card
from aezoo.presets.catalog import PRESETS

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
CARD_FILE = "README.md"
DEMO_FILE = "demo_inputs.npy"
LATENT_PRIOR_FILE = "latent_prior.npz"
FORMAT = "aezoo-preset"
FORMAT_VERSION = 1
REQUIRED_FILES = (CONFIG_FILE, WEIGHTS_FILE)


class ChecksumError(ValueError):
    """A preset file is missing, truncated or altered; ``problems`` lists each one."""

    def __init__(self, folder, problems):
        self.folder, self.problems = Path(folder), list(problems)
        super().__init__(
            f"preset folder {self.folder} failed verification, nothing was loaded: {'; '.join(self.problems)}. "
            "Download it again (aezoo.presets.pull) or re-save it with aezoo.presets.save_preset."
        )


# ---------------------------------------------------------------------- write
def is_preset_folder(folder):
    """True when ``folder`` holds an aezoo preset by its own metadata.json (what a save may replace)."""
    try:
        meta = json.loads((Path(folder) / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def save_preset(model, folder, *, preset, metadata=None, card_text=None, demo_inputs=None, overwrite=True,
                force=False, protect=(), extra_files=None):
    """Write a complete preset folder atomically and return its path.

    Everything is written to a temporary folder beside ``folder`` and renamed into
    place at the end, so a crash leaves either the old preset or the new one, never a
    half-written one (an interrupted run may leave a hidden ``.<name>.tmp-*`` folder,
    which nothing reads).

    Args:
        model: a built aezoo model (any registered, serialisable Keras model works).
        folder: the target folder, e.g. ``weights/<preset>``.
        preset: the preset name recorded in metadata and the card.
        metadata: extra fields for metadata.json, e.g. ``recipe``, ``recipe_git_sha``,
            ``dataset``, ``split``, ``metrics`` (name -> value), ``protocol``, ``license``,
            ``description``. ``files`` is always computed here.
        card_text: the README.md text, or a function of the complete metadata that returns
            it; by default ``model_card(metadata)``.
        extra_files: ``{name: path}`` copied into the folder and its manifest (a licence text).
        demo_inputs: optional float array ``(n, *input_shape)`` saved as demo_inputs.npy.
        overwrite: replace an existing preset folder (atomically). An existing folder
            that is not an aezoo preset (by its metadata.json) is refused unless it is
            empty or ``force=True``; a file, or a folder holding a ``protect`` path (the
            run's inputs), is always refused (``aezoo.io.NotOursError``).
    """
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise FileExistsError(f"{folder} exists; pass overwrite=True to replace it")
    meta = _base_metadata(model, preset, metadata or {})
    with staged_dir(folder, owned=is_preset_folder, force=force, protect=protect, what="aezoo preset") as tmp:
        config, copy = _inference_copy(model)
        _write_text(tmp / CONFIG_FILE, json.dumps(config, indent=2))
        copy.save_weights(tmp / WEIGHTS_FILE)
        if demo_inputs is not None:
            np.save(tmp / DEMO_FILE, _check_demo_inputs(model, demo_inputs), allow_pickle=False)
        if getattr(model, "latent_prior", None) is not None:  # VAEs: fit_latent_prior, sampled by default
            if model.latent_prior.latent_dim != model.latent_dim:
                raise ValueError(f"{model.name}: its latent prior is {model.latent_prior.latent_dim}-d, its codes "
                                 f"{model.latent_dim}-d: refit it with model.fit_latent_prior(x)")
            model.latent_prior.save(tmp / LATENT_PRIOR_FILE)
        for name, path in (extra_files or {}).items():
            shutil.copyfile(path, tmp / name)
        card = model_card if card_text is None else card_text if callable(card_text) else lambda _: card_text
        _write_text(tmp / CARD_FILE, card(meta))
        meta["files"] = {p.name: file_digest(p) for p in sorted(tmp.iterdir())}
        _write_text(tmp / METADATA_FILE, json.dumps(meta, indent=2))
    return folder


def _inference_copy(model):
    """Keras's config.json content for ``model`` minus its training-time compile config,
    and a fresh model built from it holding ``model``'s weights and no optimizer.

    Rebuilding from the config proves it deserialises (safe_mode on) before anything
    is published; ``save_weights`` on the copy leaves the optimizer slots out of the
    file (two thirds of it for Adam, and a warning on every load).
    """
    bad = [w.path for w in model.weights if not np.isfinite(keras.ops.convert_to_numpy(w)).all()]
    if bad:
        raise ValueError(f"{model.name}: refusing to save non-finite weights ({len(bad)} variable(s) hold NaN or "
                         f"inf, e.g. {bad[0]}): the training diverged")
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(model.get_weights())
    return config, copy


def _check_demo_inputs(model, x):
    x = np.asarray(x)
    shape = tuple(getattr(model, "data_shape", x.shape[1:]))
    if x.dtype.kind != "f" or x.ndim != len(shape) + 1 or not shape_matches(x.shape[1:], shape):
        raise ValueError(f"demo_inputs must be a float array of shape (n, {', '.join(map(str, shape))}), "
                         f"got {x.dtype} {x.shape}")
    return x.astype("float32")


def _write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text if text.endswith("\n") else text + "\n")


def _base_metadata(model, preset, extra):
    import aezoo

    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "preset": preset,
        "architecture": getattr(model, "architecture", type(model).__name__),
        "class_name": keras.saving.get_registered_name(type(model)),
        "input_shape": list(getattr(model, "data_shape", model.input_shape[1:])),
        "latent_dim": getattr(model, "latent_dim", None),
        "parameters": int(model.count_params()),
        "aezoo_version": aezoo.__version__,
        "keras_version": keras.__version__,
        "tensorflow_version": tensorflow_version(),
        "backend": keras.backend.backend(),
        "date_saved": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    meta.update(PRESETS[preset].metadata() if preset in PRESETS else {})  # license, repo, description
    meta.update({k: v for k, v in extra.items() if k != "files"})
    if meta.get("recipe") and "recipe_git_sha" not in meta:
        meta["recipe_git_sha"] = git_sha(meta["recipe"])
    return json.loads(json.dumps(meta, default=_json_default))  # plain JSON types only


def _json_default(obj):
    """numpy scalars/arrays, read-only mappings (evaluation.PROTOCOL) and paths -> JSON."""
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if hasattr(obj, "items"):
        return dict(obj.items())
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"metadata value of type {type(obj).__name__} is not JSON serialisable: {obj!r}")


def tensorflow_version():
    try:
        import tensorflow as tf
    except ImportError:
        return None
    return tf.__version__


def git_sha(path="."):
    """HEAD commit of the git checkout holding ``path`` (a file or folder), with
    ``+dirty`` when tracked files under ``path`` have local changes; ``None`` outside one."""
    path = Path(path).resolve()
    where = path if path.is_dir() else path.parent
    git = ["git", "--no-optional-locks"]  # read-only: never touches the index
    try:
        sha = subprocess.run(git + ["rev-parse", "HEAD"], cwd=where, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no", "--", str(path)],
                               cwd=where, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "")


# --------------------------------------------------------------------- verify
def read_metadata(folder):
    """metadata.json of a preset folder, as a dict (no checksum verification)."""
    path = Path(folder) / METADATA_FILE
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise ChecksumError(folder, [f"{METADATA_FILE}: missing (not a preset folder?)"]) from None
    except (OSError, ValueError) as e:
        raise ChecksumError(folder, [f"{METADATA_FILE}: unreadable ({e})"]) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise ChecksumError(folder, [f"{METADATA_FILE}: has no 'files' manifest"])
    return meta


def manifest_sha256(folder):
    """sha256 of a preset's metadata.json: the manifest that lists every other file's sha256,
    so this one hash pins the whole folder (what ``aezoo/presets/pins.json`` records)."""
    path = Path(folder) / METADATA_FILE
    if not path.is_file():
        raise ChecksumError(folder, [f"{METADATA_FILE}: missing (not a preset folder?)"])
    return file_digest(path)["sha256"]


#: files a Hub snapshot may hold beside the preset's own (the Hub adds .gitattributes)
IGNORED_EXTRA_FILES = (".gitattributes",)


def verify_preset(folder, pinned=None):
    """Check the size and sha256 of every file metadata.json lists; return the metadata.

    Reads bytes only; nothing is deserialised. ``pinned`` is the sha256 of metadata.json
    that aezoo's catalog pins for a preset name (``PresetSpec.manifest_sha256``): with
    it, an edit to any file, even with metadata.json rehashed to match, is refused. Files
    the manifest does not list are refused too (dotfiles and ``.gitattributes`` aside).

    Raises:
        ChecksumError (a ValueError): naming each missing, truncated, altered or
            unexpected file with its expected and actual size and sha256.
    """
    folder = Path(folder)
    problems = []
    if pinned:
        got = manifest_sha256(folder)
        if got != pinned:
            raise ChecksumError(folder, [f"{METADATA_FILE}: sha256 {got} is not the {pinned} that aezoo pins for "
                                         "this preset (the folder was edited, or is another version)"])
    meta = read_metadata(folder)
    files = meta.get("files")
    if not isinstance(files, dict):
        raise ChecksumError(folder, [f"{METADATA_FILE}: has no 'files' manifest"])
    for name in REQUIRED_FILES:
        if name not in files:
            problems.append(f"{name}: not listed in {METADATA_FILE}")
    for name, want in sorted(files.items()):
        path = folder / name
        if not isinstance(want, dict) or Path(name).is_absolute() or ".." in Path(name).parts:
            problems.append(f"{name}: invalid entry in {METADATA_FILE}")
        elif not path.is_file():
            problems.append(f"{name}: missing (expected {want.get('size')} bytes, sha256 {want.get('sha256')})")
        else:
            got = file_digest(path)
            if got["size"] != want.get("size"):
                kind = "truncated" if got["size"] < (want.get("size") or 0) else "wrong size"
                problems.append(f"{name}: {kind}: expected {want.get('size')} bytes, got {got['size']}")
            elif got["sha256"] != want.get("sha256"):
                problems.append(f"{name}: sha256 mismatch: expected {want.get('sha256')}, got {got['sha256']}")
    for path in sorted(folder.iterdir()):
        if path.name in files or path.name == METADATA_FILE or path.name.startswith("."):
            continue
        if path.name not in IGNORED_EXTRA_FILES:
            problems.append(f"{path.name}: not listed in {METADATA_FILE} (an extra file does not belong in a preset)")
    if problems:
        raise ChecksumError(folder, problems)
    return meta


# ----------------------------------------------------------------------- load
def load_preset_folder(folder, compile=True, pinned=None):
    """Verify, then build the model from config.json and load model.weights.h5.

    The model is rebuilt with ``keras.saving.deserialize_keras_object`` (safe_mode on),
    gets its weights, is compiled with the architecture's defaults (``compile=True``),
    and carries the preset's metadata as ``model.preset_metadata`` and the sha256 of its
    metadata.json (the manifest) as ``model.preset_manifest_sha256``.
    """
    folder = Path(folder)
    meta = verify_preset(folder, pinned=pinned)
    with open(folder / CONFIG_FILE, encoding="utf-8") as f:
        config = json.load(f)
    _check_architecture(folder, config)
    config.pop("compile_config", None)  # compile below, with defaults, after the weights
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    model.load_weights(folder / WEIGHTS_FILE)
    if (folder / LATENT_PRIOR_FILE).is_file():
        model.latent_prior = _load_latent_prior(model, folder / LATENT_PRIOR_FILE)
    if compile:
        model.compile()
    model.preset_metadata = meta
    model.preset_manifest_sha256 = manifest_sha256(folder)  # what a codec file names its model by
    return model


def _check_architecture(folder, config):
    """Refuse, before anything is deserialised, a config.json whose model is not a registered
    aezoo architecture: a downloaded folder must not make Keras rebuild a class aezoo never
    declared (safe mode stays on for the layers inside)."""
    from aezoo.models.registry import registered_classes

    known = {keras.saving.get_registered_name(cls): cls for cls in registered_classes()}
    name = config.get("registered_name") or config.get("class_name") if isinstance(config, dict) else None
    if name not in known:
        raise ValueError(f"{Path(folder) / CONFIG_FILE} describes a {name or type(config).__name__!r}, not an aezoo "
                         "architecture (aezoo.list_architectures() lists them): refusing to deserialise it")


def _load_latent_prior(model, path):
    from aezoo.models.latent_prior import GaussianLatentPrior

    prior = GaussianLatentPrior.load(path)
    if not getattr(model, "supports_latent_prior", False) or prior.latent_dim != model.latent_dim:
        raise ChecksumError(path.parent, [f"{LATENT_PRIOR_FILE}: a {prior.latent_dim}-d prior does not fit "
                                          f"{model.name} (latent_dim {getattr(model, 'latent_dim', None)})"])
    return prior


def load_demo_inputs(folder):
    """The preset's demo inputs (float32 array), or ``None`` when it has none."""
    path = Path(folder) / DEMO_FILE
    return np.load(path, allow_pickle=False) if path.is_file() else None


def rewrite_preset(folder, metadata=None, card_text=None):
    """Replace a preset's metadata (merged with ``metadata``) and model card in one atomic
    step: a full copy is written beside it and swapped in, so no reader ever sees a card
    that disagrees with its manifest. The weights and config are copied byte for byte."""
    folder = Path(folder)
    meta = verify_preset(folder)
    meta.update(metadata or {})
    with staged_dir(folder, owned=is_preset_folder, what="aezoo preset") as tmp:
        for path in folder.iterdir():
            if path.is_file() and path.name not in (CARD_FILE, METADATA_FILE):
                shutil.copy2(path, tmp / path.name)
        _write_text(tmp / CARD_FILE, model_card(meta) if card_text is None else card_text)
        meta["files"] = {p.name: file_digest(p) for p in sorted(tmp.iterdir()) if p.name != METADATA_FILE}
        _write_text(tmp / METADATA_FILE, json.dumps(meta, indent=2))
    return folder


def write_model_card(folder, card_text=None):
    """Rewrite a preset's README.md (from its metadata unless ``card_text`` is given) and
    its checksum in metadata.json, atomically (``rewrite_preset``); the weights are untouched."""
    rewrite_preset(folder, card_text=card_text)
    return Path(folder) / CARD_FILE
