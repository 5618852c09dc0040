"""Fine-tune a pretrained preset on your own images, and save the result as a new preset.

``finetune`` loads the parent (``aezoo.load``), brings the data to the parent's input
shape (resize, grayscale <-> RGB), optionally freezes the encoder, trains, measures the
reconstruction MSE on the fine-tuning data before and after, and with ``out_dir``
writes a preset folder (``aezoo.presets.save_preset``) whose metadata names the parent
and whose model card says it is a fine-tune of it, under the parent's licence terms:
weights derived from CelebA stay non-commercial research only, whatever data they are
fine-tuned on.

Example:
    >>> from aezoo.uses.finetune import finetune
    >>> model, report = finetune("conv-vae-faces", "my_photos/", epochs=5, out_dir="weights/my-faces")
    >>> report["mse_before"], report["mse_after"]
    >>> model = aezoo.load("weights/my-faces")
"""

import os
from pathlib import Path

import numpy as np

from aezoo.io import check_replaceable


def finetune(preset_or_model, data, *, epochs=5, batch_size=32, learning_rate=1e-4, freeze_encoder=False,
             out_dir=None, seed=0, validation_fraction=0.0, max_examples=None, verbose=0, force=False):
    """Fine-tune a preset (or a model) on ``data``; return ``(model, report)``.

    Args:
        preset_or_model: a preset name, ``"hf://org/repo"``, a preset folder, or an
            aezoo model (trained in place).
        data: an array of images (uint8 0-255 or float in [0, 1]; ``(n, h, w)`` is
            grayscale), a folder of images, a ``.npy`` file, or an ``aezoo.data``
            dataset name (its train split). Images are resized to the model's input
            and converted between grayscale and RGB as needed.
        epochs, batch_size, learning_rate: the training schedule (Adam).
        freeze_encoder: train the decoder only (``model.encoder.trainable = False``).
        out_dir: write a new preset folder here (its name is the new preset's name).
        seed: seeds Keras, the shuffle and the validation split.
        validation_fraction: hold out this fraction of ``data`` and report its MSE too.
        max_examples: use only the first ``max_examples`` examples.
        verbose: passed to ``fit``.
        force: let ``out_dir`` replace an existing folder that is not an aezoo preset.
            Checked before any training: a folder aezoo did not write, a file, or a folder
            holding ``data`` is refused in one line (``aezoo.io.NotOursError``).

    Returns:
        ``(model, report)``: the fine-tuned model and a dict with ``parent``, ``dataset``,
        ``examples``, the schedule, ``mse_before``/``mse_after`` (per pixel, on the
        fine-tuning examples; ``val_mse_before``/``val_mse_after`` with a validation
        split), ``loss`` (per epoch) and ``out_dir``.
    """
    import keras

    import aezoo
    from aezoo import data as aedata
    from aezoo import presets

    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    protect = (data,) if isinstance(data, (str, os.PathLike)) and os.path.exists(data) else ()
    if out_dir is not None:  # refuse before spending the training, not after
        check_replaceable(out_dir, presets.is_preset_folder, force, protect, what="aezoo preset")
    if isinstance(preset_or_model, (str, os.PathLike)):
        model = aezoo.load(preset_or_model, compile=False)
    else:
        model = preset_or_model
    parent_meta = dict(getattr(model, "preset_metadata", None) or {})
    named = isinstance(preset_or_model, (str, os.PathLike))
    parent = parent_meta.get("preset") or (os.fspath(preset_or_model) if named else model.name)

    x, dataset = load_inputs(data, model.data_shape,
                             model.mask_value if getattr(model, "masking", False) else None)
    if max_examples is not None:
        x = x[: int(max_examples)]
    x_val = None
    if validation_fraction:
        x, x_val = aedata.split_validation(x, validation_fraction=validation_fraction, seed=seed)
        if len(x_val) == 0:
            x_val = None
    if len(x) == 0:
        raise ValueError("no examples left to fine-tune on")

    keras.utils.set_random_seed(seed)
    before = reconstruction_mse(model, x)
    val_before = None if x_val is None else reconstruction_mse(model, x_val)
    model.encoder.trainable = not freeze_encoder
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate))  # recompile: new trainables
    history = model.fit(x, epochs=int(epochs), batch_size=int(batch_size), shuffle=True, verbose=verbose,
                        validation_data=None if x_val is None else (x_val,))
    model.encoder.trainable = True  # the saved/returned model is whole again; weights stay as trained
    report = {
        "parent": parent,
        "dataset": dataset,
        "examples": int(len(x)),
        "validation_examples": 0 if x_val is None else int(len(x_val)),
        "input_shape": [int(d) for d in x.shape[1:]],  # the data's (a fully convolutional model takes any)
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "learning_rate": float(learning_rate),
        "freeze_encoder": bool(freeze_encoder),
        "seed": seed,
        "mse_before": before,
        "mse_after": reconstruction_mse(model, x),
        "loss": [float(v) for v in history.history.get("loss", [])],
        "out_dir": None,
    }
    if x_val is not None:
        report["val_mse_before"], report["val_mse_after"] = val_before, reconstruction_mse(model, x_val)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate))  # again: all weights trainable
    if out_dir is not None:
        folder = save_finetuned(model, out_dir, report, parent_meta, data, force=force, protect=protect)
        report["out_dir"] = str(folder)
        model.preset_metadata = presets.read_metadata(folder)  # e.g. aezoo.export carries the new card's terms
    return model, report


def reconstruction_mse(model, x, batch_size=256):
    """Mean squared error per pixel of ``model.reconstruct(x)`` (posterior means for VAEs);
    a series model's over real steps, in its standardised units."""
    if hasattr(model, "reconstruction_error"):
        return float(np.mean(model.reconstruction_error(x, batch_size=batch_size)))
    x_hat = model.reconstruct(x, batch_size=batch_size)
    return float(np.mean(np.square(x_hat.astype("float64") - x)))


# ------------------------------------------------------------------- data in
#: the side a folder's images are resized to for a model that takes any size (latent-diffusion
#: autoencoders); arrays keep their own height and width
FOLDER_SIZE = 256


def load_inputs(data, input_shape, mask_value=None):
    """``(x, dataset)``: ``data`` as float32 ``(n, *input_shape)`` in [0, 1], and its name
    for metadata (the dataset name, or ``"custom"`` for arrays, folders and files).
    A series model's ``(timesteps, channels)`` takes a ``.npy``/``.csv`` of raw series, an
    array, or a sequence task name (``conform_series`` layouts; ``mask_value`` pads
    shorter ones for a masking model)."""
    from aezoo import data as aedata

    if None in tuple(input_shape):  # fully convolutional: arrays keep their size, folders get a square
        if isinstance(data, (str, os.PathLike)) and not Path(data).expanduser().is_dir():
            data = np.load(Path(data).expanduser(), allow_pickle=False) if Path(data).expanduser().is_file() else data
        size = np.shape(data)[1:3] if not isinstance(data, (str, os.PathLike)) else (FOLDER_SIZE, FOLDER_SIZE)
        input_shape = tuple(s if d is None else d for d, s in zip(input_shape, (*size, None)))
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) == 2:  # (timesteps, channels): a series model
        return _load_series(data, input_shape, mask_value)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data).expanduser()
        if path.is_dir():
            if len(input_shape) != 3:
                raise ValueError(f"an image folder needs an image model; this one takes {input_shape}")
            h, w, c = input_shape
            channels = c if c in (1, 3) else 3
            return conform_images(aedata.load_directory_arrays(path, (h, w), channels=channels), input_shape), "custom"
        if path.suffix.lower() == ".npy" or path.is_file():
            if not path.is_file():
                raise FileNotFoundError(f"no such file: {str(path)!r}")
            return conform_images(np.load(path, allow_pickle=False), input_shape), "custom"
        info = aedata.get_info(os.fspath(data))  # unknown names: ValueError with close matches
        size = None
        if len(input_shape) == 3 and (info.image_sizes is None or input_shape[0] in info.image_sizes):
            size = input_shape[0]
        return conform_images(aedata.load_arrays(info.name, "train", size), input_shape), info.name
    return conform_images(data, input_shape), "custom"


def _load_series(data, input_shape, mask_value):
    from aezoo.data.sequence_tasks import TASKS, load_task
    from aezoo.data.series import conform_series, read_series_file

    if isinstance(data, (str, os.PathLike)):
        if str(data) in TASKS:
            return load_task(str(data), "train")[0], str(data)
        path = Path(data).expanduser()
        if path.is_dir():
            raise ValueError(f"a folder ({str(path)!r}) holds images; this model takes series of shape "
                             f"{input_shape}: give a .npy or .csv file of series")
        return conform_series(read_series_file(path), input_shape, mask_value), "custom"
    return conform_series(data, input_shape, mask_value), "custom"


def conform_images(x, input_shape):
    """Images -> float32 ``(n, *input_shape)`` in [0, 1].

    uint8 is divided by 255; floats must lie in [0, 1]; ``(n, h, w)`` gets a channel
    axis; 1 <-> 3 channels by repeating / averaging; height and width are resized
    (bilinear, antialiased, clipped to [0, 1]). Non-image models need the exact shape.
    """
    from aezoo.data.pipelines import _normalise_array

    input_shape = tuple(int(d) for d in input_shape)
    x = np.asarray(x)
    if x.ndim == 3 and len(input_shape) == 3:
        x = x[..., None]
    x, scale = _normalise_array(x)  # checks dtype, NaN and range
    x = x.astype("float32") / np.float32(scale) if scale else x.astype("float32", copy=False)
    if tuple(x.shape[1:]) == input_shape:
        return x
    expected = "(n, " + ", ".join(map(str, input_shape)) + ")"
    if len(input_shape) != 3 or x.ndim != 4:
        raise ValueError(f"data must have shape {expected}, got {x.shape}")
    h, w, c = input_shape
    have = x.shape[-1]
    if have != c:
        if have == 1:
            x = np.repeat(x, c, axis=-1)
        elif c == 1:
            x = x.mean(axis=-1, keepdims=True)
        else:
            raise ValueError(f"cannot convert {have}-channel images to {c} channels (only 1 <-> N)")
    if x.shape[1:3] != (h, w):
        import tensorflow as tf

        out = []
        for start in range(0, len(x), 512):
            b = tf.image.resize(x[start : start + 512], (h, w), antialias=True)
            out.append(np.clip(b.numpy(), 0.0, 1.0))
        x = np.concatenate(out) if out else np.zeros((0, h, w, c), "float32")
    return x.astype("float32", copy=False)


# ------------------------------------------------------------------ save
def save_finetuned(model, out_dir, report, parent_meta, data=None, force=False, protect=()):
    """Write ``model`` as a preset folder naming its parent; return the folder."""
    import keras

    import aezoo
    from aezoo import presets

    out_dir = Path(out_dir)
    parent = report["parent"]
    metrics = {"mse_per_pixel_before_finetune": report["mse_before"],
               "mse_per_pixel_after_finetune": report["mse_after"]}
    if "val_mse_after" in report:
        metrics.update({"val_mse_per_pixel_before_finetune": report["val_mse_before"],
                        "val_mse_per_pixel_after_finetune": report["val_mse_after"]})
    parent_terms = _parent_terms(parent_meta)
    data_terms = _dataset_terms(report["dataset"])
    terms = "; ".join(t for t in (parent_terms, data_terms) if t) or None
    license_ = parent_meta.get("license")
    if data_terms or (parent_terms and not license_):
        license_ = "other"
    meta = {
        "parent": parent,
        "parent_dataset": parent_meta.get("dataset"),
        "parent_license": parent_meta.get("license"),
        "parent_hf_repo": parent_meta.get("hf_repo"),
        "dataset": report["dataset"],
        "split": "fine-tuning data",
        "description": f"A fine-tune of `{parent}` on {_data_phrase(report)}.",
        "metrics": metrics,
        "finetune": {k: v for k, v in report.items() if k not in ("out_dir", "parent", "dataset")},
        "license": license_,
        "terms": terms,
    }
    if license_ == "other":
        restricted = parent_meta.get("dataset") if parent_terms else report["dataset"]
        meta["license_name"] = parent_meta.get("license_name") or f"{restricted}-research-only"
    if isinstance(data, (str, os.PathLike)) or report["dataset"] != "custom":
        # names, not absolute paths: the card travels (push) and must not publish a local layout
        source = report["dataset"] if report["dataset"] != "custom" else Path(data).name
        meta["reproduce"] = (f"aezoo finetune {parent} --data {source} --epochs {report['epochs']} "
                             f"--batch-size {report['batch_size']} --learning-rate {report['learning_rate']:g} "
                             f"--seed {report['seed']}" + (" --freeze-encoder" if report["freeze_encoder"] else "")
                             + f" --out {out_dir.name}")
    meta = {k: v for k, v in meta.items() if v is not None}
    card_meta = {**meta, "preset": out_dir.name, "architecture": getattr(model, "architecture", type(model).__name__),
                 "input_shape": list(model.data_shape), "latent_dim": model.latent_dim,
                 "parameters": int(model.count_params()), "aezoo_version": aezoo.__version__,
                 "keras_version": keras.__version__, "tensorflow_version": presets.tensorflow_version()}
    return presets.save_preset(model, out_dir, preset=out_dir.name, metadata=meta, force=force, protect=protect,
                              card_text=finetune_card(card_meta, parent_meta, parent_terms))


def _data_phrase(report):
    n = report["examples"] + report.get("validation_examples", 0)
    where = "custom data" if report["dataset"] == "custom" else f"`{report['dataset']}`"
    return f"{n} examples of {where} ({report['epochs']} epochs" + (
        ", encoder frozen)" if report["freeze_encoder"] else ")")


def _dataset_terms(name):
    """``"non-commercial research only: ..."`` for a restricted aezoo dataset, else None."""
    from aezoo import data

    try:
        info = data.get_info(name) if name and name != "custom" else None
    except ValueError:
        return None
    if info is None or info.commercial_use:
        return None
    return f"non-commercial research only: weights derived from {info.name} ({info.license})"


def _parent_terms(parent_meta):
    """The parent's restrictions, which a fine-tune inherits (None when unrestricted)."""
    return parent_meta.get("terms") or _dataset_terms(parent_meta.get("dataset"))


def finetune_card(meta, parent_meta, parent_terms=None):
    """The fine-tune's model card: the standard card, saying whose fine-tune it is and
    carrying the parent's licence terms."""
    from aezoo import presets

    parent, name = meta["parent"], meta["preset"]
    lines = []
    for line in presets.model_card(meta).splitlines():
        if line.startswith(f'model = aezoo.load("{name}")'):  # a fine-tune is a folder, not a table name
            line = f'model = aezoo.load("path/to/{name}")  # this folder'
        elif line.startswith("Plain Keras works too"):
            line = f'Plain Keras works too, once aezoo is imported: `keras.saving.load_model("path/to/{name}")`.'
        elif line == 'datasets: ["custom"]':
            continue
        lines.append(line)
    card = "\n".join(lines) + "\n"
    f = meta.get("finetune", {})
    hf = parent_meta.get("hf_repo")
    section = [
        "## Fine-tuning\n",
        f"This model is a fine-tune of `{parent}`" + (f" (`hf://{hf}`)" if hf else "")
        + f", trained further on {_data_phrase({**f, 'dataset': meta.get('dataset')})} with Adam at learning rate "
        f"{f.get('learning_rate', 0):g}, batch size {f.get('batch_size')}, seed {f.get('seed')}. "
        f"Reconstruction MSE per pixel on the fine-tuning data: {f.get('mse_before', float('nan')):.5g} before, "
        f"{f.get('mse_after', float('nan')):.5g} after.\n",
        f"Parent training data: `{parent_meta.get('dataset') or 'unknown'}`; parent licence: "
        f"`{parent_meta.get('license') or 'unknown'}`. The parent's licence terms apply to these weights.\n",
    ]
    if parent_terms and "non-commercial" in parent_terms:
        section += [f"## Terms of use inherited from {parent}: non-commercial research only\n",
                    f"These weights are a fine-tune of `{parent}`, whose terms are: {parent_terms}. "
                    "Those terms allow non-commercial research use only, so use these weights, and anything made "
                    "with them, for non-commercial research only, whatever data they were fine-tuned on.\n"]
    marker = "## How to reproduce"
    text = "\n".join(section)
    return card.replace(marker, text + "\n" + marker, 1) if marker in card else card + "\n" + text
