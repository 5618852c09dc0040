"""Export a model's encoder and decoder, separately, for serving without aezoo.

TensorFlow only: this module writes TensorFlow SavedModels (for TF Serving,
``tf.saved_model.load`` or TensorFlow.js converters) and TensorFlow Lite flatbuffers
(for phones and microcontrollers), so it needs ``KERAS_BACKEND=tensorflow`` (the
default). Everything else in aezoo runs on every Keras backend.

What is written, atomically (a temporary folder renamed into place at the end):

``format="savedmodel"``::

    out_dir/encoder/      SavedModel, signature "serving_default": x -> outputs below
    out_dir/decoder/      SavedModel, signature "serving_default": z -> {"x_hat"}
    out_dir/export.json   shapes, signature names, preset, license, versions

``format="tflite"``::

    out_dir/encoder.tflite, out_dir/decoder.tflite, out_dir/export.json
    (same signature, input and output names as the SavedModels)

Signatures (float32; the batch axis is dynamic):

- encoder, input ``x``, ``(batch, *input_shape)`` in [0, 1]. Outputs: ``z`` (the code)
  for deterministic autoencoders; ``z_mean`` and ``z_log_var`` (the Gaussian posterior
  q(z|x)) for VAEs, so ``z_mean`` equals ``model.encode(x)``.
- decoder, input ``z``, ``(batch, latent_dim)``. Output ``x_hat`` in data space, equal
  to ``model.decode(z)``: for Bernoulli VAEs the sigmoid of the logits is in the graph.

Example:
    >>> from aezoo.uses.export import export
    >>> export("conv-vae-faces", "served/conv-vae-faces", format="savedmodel")
    >>> import tensorflow as tf
    >>> encoder = tf.saved_model.load("served/conv-vae-faces/encoder")
    >>> z_mean = encoder.signatures["serving_default"](x=tf.constant(x))["z_mean"]
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

FORMATS = ("savedmodel", "tflite")
SIGNATURE = "serving_default"
EXPORT_FILE = "export.json"


def is_export_folder(folder):
    """True when ``folder`` holds an aezoo export by its own export.json (what an export may replace)."""
    try:
        description = json.loads((Path(folder) / EXPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(description, dict) and description.get("signature") == SIGNATURE and "files" in description


def export(model_or_preset, out_dir, format="savedmodel", overwrite=True, force=False):
    """Write the encoder and the decoder of a model as two servable artefacts.

    Args:
        model_or_preset: an aezoo model, or anything ``aezoo.load`` accepts (a preset
            name, ``"hf://org/repo"`` or a preset folder).
        out_dir: the folder to create (see the module docstring for its layout).
        format: ``"savedmodel"`` or ``"tflite"``.
        overwrite: replace an existing ``out_dir`` (atomically); otherwise refuse. Only an
            empty folder or an earlier aezoo export is replaced, unless ``force=True``.

    Returns:
        ``out_dir`` as a ``Path``.

    Raises:
        ValueError: an unknown format, or a model without ``encoder``/``decoder``.
        RuntimeError: a Keras backend other than TensorFlow.
        FileExistsError: ``out_dir`` exists and ``overwrite`` is False.
    """
    fmt = str(format).lower().replace("_", "").replace("-", "")
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, got {format!r}")
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"aezoo.export writes TensorFlow SavedModel/TFLite files and needs KERAS_BACKEND=tensorflow; "
            f"this process runs Keras on {keras.backend.backend()!r}"
        )
    model = _as_model(model_or_preset)
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} exists; pass overwrite=True to replace it")
    from aezoo.io import staged_dir

    with staged_dir(out_dir, owned=is_export_folder, force=force, what="aezoo export") as tmp:
        with tempfile.TemporaryDirectory(prefix="aezoo-export-") as scratch:
            where = tmp if fmt == "savedmodel" else Path(scratch)
            for part, fn, spec in _endpoints(model):
                _write_saved_model(getattr(model, part), fn, spec, where / part)
                if fmt == "tflite":
                    (tmp / f"{part}.tflite").write_bytes(_to_tflite(where / part))
        _write_json(tmp / EXPORT_FILE, _description(model, fmt))
    return out_dir



def _as_model(model_or_preset):
    if isinstance(model_or_preset, (str, os.PathLike)):
        import aezoo

        return aezoo.load(model_or_preset, compile=False)
    model = model_or_preset
    if not all(hasattr(model, a) for a in ("encoder", "decoder", "latent_dim", "data_shape")):
        raise ValueError(
            f"export needs an aezoo model (with encoder, decoder, latent_dim, data_shape), "
            f"got {type(model).__name__}"
        )
    return model


def is_variational(model):
    """True for models whose encoder returns (z_mean, z_log_var)."""
    return hasattr(model, "likelihood_loss")


def _endpoints(model):
    """``(part, fn, input TensorSpec)`` for the encoder and the decoder."""
    import tensorflow as tf

    encoder, decoder = model.encoder, model.decoder
    if is_variational(model):
        def encode(x):
            z_mean, z_log_var = encoder(x, training=False)
            return {"z_mean": z_mean, "z_log_var": z_log_var}

        def decode(z):
            return {"x_hat": model.likelihood_loss.to_data_space(decoder(z, training=False))}
    else:
        def encode(x):
            return {"z": encoder(x, training=False)}

        def decode(z):
            return {"x_hat": decoder(z, training=False)}

    x_spec = tf.TensorSpec((None, *model.data_shape), tf.float32, name="x")
    z_spec = tf.TensorSpec((None, model.latent_dim), tf.float32, name="z")
    return [("encoder", encode, x_spec), ("decoder", decode, z_spec)]


def _write_saved_model(submodel, fn, spec, path):
    import keras

    archive = keras.export.ExportArchive()
    archive.track(submodel)
    archive.add_endpoint(SIGNATURE, fn, input_signature=[spec])
    archive.write_out(str(path), verbose=False)


def _to_tflite(saved_model_dir):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir), signature_keys=[SIGNATURE])
    return converter.convert()


def _description(model, fmt):
    import keras
    import tensorflow as tf

    import aezoo

    meta = getattr(model, "preset_metadata", None) or {}
    shape, latent = [int(d) for d in model.data_shape], int(model.latent_dim)
    enc_out = ({"z_mean": [None, latent], "z_log_var": [None, latent]} if is_variational(model)
               else {"z": [None, latent]})
    files = ({"encoder": "encoder/", "decoder": "decoder/"} if fmt == "savedmodel"
             else {"encoder": "encoder.tflite", "decoder": "decoder.tflite"})
    return {
        "format": fmt,
        "signature": SIGNATURE,
        "files": files,
        "encoder": {"inputs": {"x": [None, *shape]}, "outputs": enc_out},
        "decoder": {"inputs": {"z": [None, latent]}, "outputs": {"x_hat": [None, *shape]}},
        "x_hat": ("Bernoulli means (sigmoid of the decoder logits), in [0, 1]"
                  if getattr(model, "likelihood", None) == "bernoulli" else "data space, as model.decode"),
        "architecture": getattr(model, "architecture", type(model).__name__),
        "preset": meta.get("preset"),
        "parent": meta.get("parent"),
        "license": meta.get("license"),
        "dataset": meta.get("dataset"),
        "terms": _terms(meta),
        "aezoo_version": aezoo.__version__,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }


def _terms(meta):
    """The data's terms of use that travel with the weights (None when unrestricted or unknown)."""
    from aezoo import data

    for name in (meta.get("dataset"), meta.get("parent_dataset")):
        try:
            info = data.get_info(name) if name else None
        except ValueError:
            continue
        if info is not None and not info.commercial_use:
            return f"non-commercial research only: weights derived from {info.name} ({info.license})"
    return meta.get("terms")


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, indent=2, default=lambda o: o.tolist() if isinstance(o, np.generic) else str(o))
        f.write("\n")
