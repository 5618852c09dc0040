"""Export a model's encoder and decoder, separately, for serving without aezoo.

TensorFlow only: this module writes TensorFlow SavedModels (for TF Serving,
``tf.saved_model.load`` or TensorFlow.js converters), TensorFlow Lite (LiteRT)
flatbuffers (for phones and microcontrollers) and ONNX graphs (for ONNX Runtime and
the runtimes that read ONNX; converted by ``tf2onnx``, ``pip install "aezoo[export]"``),
so it needs ``KERAS_BACKEND=tensorflow`` (the default). Everything else in aezoo runs
on every Keras backend.

What is written, atomically (a temporary folder renamed into place at the end):

``format="savedmodel"``::

    out_dir/encoder/      SavedModel, signature "serving_default": x -> outputs below
    out_dir/decoder/      SavedModel, signature "serving_default": z -> {"x_hat"}
    out_dir/export.json   shapes, signature names, preset, license, versions

``format="tflite"`` / ``format="onnx"``::

    out_dir/encoder.tflite, out_dir/decoder.tflite, out_dir/export.json
    out_dir/encoder.onnx,   out_dir/decoder.onnx,   out_dir/export.json
    (same input and output names as the SavedModels)

Signatures (float32; the batch axis is dynamic):

- encoder, input ``x``, ``(batch, *input_shape)`` in [0, 1]. Outputs: ``z`` (the code)
  for deterministic autoencoders; ``z_mean`` and ``z_log_var`` (the Gaussian posterior
  q(z|x)) for VAEs, so ``z_mean`` equals ``model.encode(x)``.
- decoder, input ``z``, ``(batch, latent_dim)``. Output ``x_hat`` in data space, equal
  to ``model.decode(z)``: for Bernoulli VAEs the sigmoid of the logits is in the graph.
- latent-diffusion autoencoders (``model.latent_kind == "spatial"``, e.g. ``taef2``):
  the encoder takes ``x`` ``(batch, H, W, 3)`` and returns ``z`` ``(batch, H/f, W/f, C)``,
  the decoder takes ``z`` and returns ``x_hat`` clamped to [0, 1] as ``model.decode``
  does; H and W are dynamic in all three formats (multiples of ``f``, the
  ``downsampling_factor`` in export.json). A TFLite signature runner resizes its input
  itself; a bare ``Interpreter`` needs ``resize_tensor_input`` and ``allocate_tensors``.

Example:
    >>> from aezoo.uses.export import export
    >>> export("taef2", "served/taef2", format="onnx")
    >>> import onnxruntime
    >>> decoder = onnxruntime.InferenceSession("served/taef2/decoder.onnx")
    >>> images = decoder.run(["x_hat"], {"z": z})[0]      # == aezoo.load("taef2").decode(z)
"""

import json
import os
import tempfile
from pathlib import Path

import keras
import numpy as np
from keras import ops

FORMATS = ("savedmodel", "tflite", "onnx")
#: what latent layouts export understands (``model.latent_kind``)
LATENT_KINDS = ("vector", "spatial")
ONNX_PACKAGES = ("tf2onnx", "onnx")
ONNX_INSTALL = 'pip install "aezoo[export]"  (tf2onnx, onnx, onnxruntime)'
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
        format: ``"savedmodel"``, ``"tflite"`` or ``"onnx"`` (needs ``tf2onnx`` and ``onnx``).
        overwrite: replace an existing ``out_dir`` (atomically); otherwise refuse. Only an
            empty folder or an earlier aezoo export is replaced, unless ``force=True``.

    Returns:
        ``out_dir`` as a ``Path``.

    Raises:
        ValueError: an unknown format, a model without ``encoder``/``decoder``, or a latent
            layout export does not know (the entropy codecs' quantised grids).
        RuntimeError: a Keras backend other than TensorFlow.
        ImportError: ``format="onnx"`` without ``tf2onnx``/``onnx`` installed.
        FileExistsError: ``out_dir`` exists and ``overwrite`` is False.
    """
    fmt = str(format).lower().replace("_", "").replace("-", "")
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, got {format!r}")
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"aezoo.export writes TensorFlow SavedModel/TFLite/ONNX files and needs KERAS_BACKEND=tensorflow; "
            f"this process runs Keras on {keras.backend.backend()!r}"
        )
    if fmt == "onnx":  # before loading anything, so a missing package costs nothing
        _require_onnx()
    model = _as_model(model_or_preset)
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} exists; pass overwrite=True to replace it")
    from aezoo.io import staged_dir

    extra = {}
    with staged_dir(out_dir, owned=is_export_folder, force=force, what="aezoo export") as tmp:
        with tempfile.TemporaryDirectory(prefix="aezoo-export-") as scratch:
            where = tmp if fmt == "savedmodel" else Path(scratch)
            for part, submodel, fn, spec in _endpoints(model):
                if fmt == "onnx":
                    extra["onnx_opset"] = _write_onnx(fn, spec, tmp / f"{part}.onnx")
                    continue
                _write_saved_model(submodel, fn, spec, where / part)
                if fmt == "tflite":
                    (tmp / f"{part}.tflite").write_bytes(_to_tflite(where / part))
        _write_json(tmp / EXPORT_FILE, {**_description(model, fmt), **extra})
    return out_dir


def _require_onnx():
    """One line naming the pip command, rather than tf2onnx's import traceback."""
    import importlib.util

    missing = [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(f"ONNX export needs {' and '.join(ONNX_PACKAGES)} (missing: {', '.join(missing)}): "
                          f"{ONNX_INSTALL}")


def _as_model(model_or_preset):
    if isinstance(model_or_preset, (str, os.PathLike)):
        import aezoo

        model = aezoo.load(model_or_preset, compile=False)
    else:
        model = model_or_preset
    if not all(hasattr(model, a) for a in ("encoder", "decoder", "latent_dim", "data_shape", "latent_kind")):
        raise ValueError(
            f"export needs an aezoo model (with encoder, decoder, latent_dim, data_shape, latent_kind), "
            f"got {type(model).__name__}"
        )
    if model.latent_kind not in LATENT_KINDS:
        raise ValueError(
            f"export handles {' and '.join(LATENT_KINDS)} latents; {getattr(model, 'architecture', model.name)!r} "
            f"declares latent_kind {model.latent_kind!r}, whose quantised code has no serving signature here"
        )
    return model


def is_variational(model):
    """True for models whose encoder returns (z_mean, z_log_var)."""
    return hasattr(model, "likelihood_loss")


def is_spatial(model):
    """True for latent-diffusion autoencoders: any H x W in, latents ``(H/f, W/f, C)``."""
    return model.latent_kind == "spatial"


def _endpoints(model):
    """``(part, submodel, fn, input TensorSpec)`` for the encoder and the decoder."""
    import tensorflow as tf

    spatial = is_spatial(model)
    encoder, decoder = model.encoder, model.decoder
    if spatial:  # dynamic H and W: the upsampling must keep its channels static for TFLite
        encoder, decoder = _with_static_channels(encoder), _with_static_channels(decoder)

    def to_data_space(decoded):
        x_hat = model.likelihood_loss.to_data_space(decoded) if is_variational(model) else decoded
        return tf.clip_by_value(x_hat, 0.0, 1.0) if spatial else x_hat  # as SpatialAutoencoder.decode

    if is_variational(model):
        def encode(x):
            z_mean, z_log_var = encoder(x, training=False)
            return {"z_mean": z_mean, "z_log_var": z_log_var}
    else:
        def encode(x):
            return {"z": encoder(x, training=False)}

    def decode(z):
        return {"x_hat": to_data_space(decoder(z, training=False))}

    x_spec = tf.TensorSpec((None, *model.data_shape), tf.float32, name="x")
    z_shape = tuple(model.latent_shape) if spatial else (model.latent_dim,)
    z_spec = tf.TensorSpec((None, *z_shape), tf.float32, name="z")
    return [("encoder", encoder, encode, x_spec), ("decoder", decoder, decode, z_spec)]


def _with_static_channels(submodel):
    """``submodel``, or a twin sharing its layers (and weights) whose nearest-neighbour
    upsampling keeps a static channel count.

    Keras's UpSampling2D repeats rows and columns with a reshape whose channels become
    unknown once H and W are dynamic; the TFLite converter then cannot lower the next
    Conv2D to a builtin op. The twin computes the same values (a pure copy of pixels).
    """
    if not any(_is_nearest_upsampling(layer) for layer in _all_layers(submodel)):
        return submodel

    def twin(layer):
        return StaticChannelsUpSampling(layer.size, name=layer.name) if _is_nearest_upsampling(layer) else layer

    return keras.models.clone_model(submodel, clone_function=twin, recursive=True)


def _all_layers(layer):
    for child in getattr(layer, "layers", ()):
        yield child
        yield from _all_layers(child)


def _is_nearest_upsampling(layer):
    return (isinstance(layer, keras.layers.UpSampling2D) and layer.interpolation == "nearest"
            and layer.data_format == "channels_last")


class StaticChannelsUpSampling(keras.layers.Layer):
    """Nearest-neighbour upsampling by repetition, ending in a reshape to a static channel count."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = tuple(int(s) for s in size)

    def call(self, x):
        (fh, fw), shape = self.size, ops.shape(x)
        up = ops.repeat(ops.repeat(x, fh, axis=1), fw, axis=2)
        return ops.reshape(up, (-1, shape[1] * fh, shape[2] * fw, x.shape[-1]))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        fh, fw = self.size
        return (n, None if h is None else h * fh, None if w is None else w * fw, c)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def _write_saved_model(submodel, fn, spec, path):
    archive = keras.export.ExportArchive()
    archive.track(submodel)
    archive.add_endpoint(SIGNATURE, fn, input_signature=[spec])
    archive.write_out(str(path), verbose=False)


def _to_tflite(saved_model_dir):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir), signature_keys=[SIGNATURE])
    return converter.convert()


def _write_onnx(fn, spec, path):
    """Convert the endpoint's TensorFlow graph with tf2onnx (what Keras's own ONNX export calls on
    TensorFlow), naming the dynamic axes; returns the ONNX opset written."""
    import tensorflow as tf
    import tf2onnx

    proto, _ = tf2onnx.convert.from_function(tf.function(fn, input_signature=[spec]), input_signature=[spec])
    _name_dynamic_axes(proto)
    path.write_bytes(proto.SerializeToString())
    return max(int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def _name_dynamic_axes(proto):
    """tf2onnx calls unknown sizes ``unk__123``; name them ``batch``, ``x_height``, ``z_width``...
    so that a runtime's shape listing says what they are."""
    names = {}
    for value in [*proto.graph.input, *proto.graph.output]:
        dims = value.type.tensor_type.shape.dim
        axes = ["height", "width"] if len(dims) == 4 else [f"dim{i}" for i in range(1, len(dims))]
        for dim, name in zip(dims, ["batch", *(f"{value.name}_{axis}" for axis in axes)]):
            if dim.dim_param:
                names.setdefault(dim.dim_param, name)
    for value in [*proto.graph.input, *proto.graph.output, *proto.graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param in names:
                dim.dim_param = names[dim.dim_param]


def _description(model, fmt):
    import tensorflow as tf

    import aezoo

    meta = getattr(model, "preset_metadata", None) or {}
    spatial = is_spatial(model)
    shape = [None if d is None else int(d) for d in model.data_shape]
    latent = [None if d is None else int(d) for d in model.latent_shape] if spatial else [int(model.latent_dim)]
    names = ("z_mean", "z_log_var") if is_variational(model) else ("z",)
    files = {part: f"{part}/" if fmt == "savedmodel" else f"{part}.{fmt}" for part in ("encoder", "decoder")}
    if spatial:
        x_hat = "images in [0, 1], clamped, as model.decode"
    elif getattr(model, "likelihood", None) == "bernoulli":
        x_hat = "Bernoulli means (sigmoid of the decoder logits), in [0, 1]"
    else:
        x_hat = "data space, as model.decode"
    description = {
        "format": fmt,
        "signature": SIGNATURE,
        "files": files,
        "latent_kind": model.latent_kind,
        "encoder": {"inputs": {"x": [None, *shape]}, "outputs": {name: [None, *latent] for name in names}},
        "decoder": {"inputs": {"z": [None, *latent]}, "outputs": {"x_hat": [None, *shape]}},
        "x_hat": x_hat,
    }
    if spatial:  # what a caller needs to size inputs and to talk to a diffusion model
        description.update(downsampling_factor=int(model.downsampling_factor),
                           scaling_factor=float(model.scaling_factor), shift_factor=float(model.shift_factor),
                           dynamic_size="H and W: any multiples of downsampling_factor")
    return {
        **description,
        "architecture": getattr(model, "architecture", type(model).__name__),
        "preset": meta.get("preset"),
        "parent": meta.get("parent"),
        "license": meta.get("license"),
        "dataset": meta.get("dataset"),
        "terms": _terms(meta),
        "aezoo_version": aezoo.__version__,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        **({"tf2onnx_version": _version("tf2onnx"), "onnx_version": _version("onnx")} if fmt == "onnx" else {}),
    }


def _version(package):
    from importlib.metadata import version

    return version(package)


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
