"""What autoencoders are used for, one call each: latent arithmetic, anomaly detection,
compression and feature extraction. Works with every aezoo model (numpy in, numpy out).
"""

import os
import struct

import numpy as np

from aezoo.models.base import interpolate_codes

__all__ = [
    "AnomalyDetector", "anomaly_score", "apply_attribute", "attribute_vector", "auroc", "compress",
    "decompress", "extract_features", "interpolate_codes", "preset_attribute_vector",
]


# ------------------------------------------------------------- latent arithmetic
def attribute_vector(model, x_with, x_without):
    """Mean code of examples with an attribute minus the mean code of those without.

    The "smile vector" of the VAE literature: about 20 examples each way is enough for a
    visible direction. Add it to any code (``apply_attribute``) to add the attribute.
    """
    if np.size(x_with) == 0 or np.size(x_without) == 0:  # before encode, whose empty-batch error says less here
        raise ValueError("attribute_vector needs at least one example with and one without the attribute")
    z_with, z_without = model.encode(x_with), model.encode(x_without)
    return (z_with.mean(axis=0) - z_without.mean(axis=0)).astype("float32")


def preset_attribute_vector(model, name):
    """An attribute vector stored with a pretrained preset (``aezoo.load``), e.g. ``"Smiling"``.

    The face presets store CelebA attribute directions computed by their recipe (mean
    code of 20 training faces with the attribute minus 20 without), so they can be
    applied to any face without the training data.
    """
    from aezoo.models.registry import unknown_name_error

    stored = (getattr(model, "preset_metadata", None) or {}).get("attribute_vectors") or {}
    if name not in stored:
        if not stored:
            raise ValueError(f"{model.name} has no stored attribute vectors (only the face presets do); "
                             "compute one with attribute_vector(model, x_with, x_without)")
        raise unknown_name_error("attribute vector", name, sorted(stored))
    vector = np.asarray(stored[name]["vector"], "float32")
    if vector.shape != (model.latent_dim,):
        raise ValueError(f"stored {name!r} vector has shape {vector.shape}, the model's codes ({model.latent_dim},)")
    return vector


def apply_attribute(model, x, vector, strengths=(-2.0, -1.0, 0.0, 1.0, 2.0)):
    """Decode ``code(x) + s * vector`` for each strength s: shape ``(n, len(strengths), *input)``."""
    vector = np.asarray(vector, "float32")
    if vector.shape != (model.latent_dim,):
        raise ValueError(f"vector must have shape ({model.latent_dim},), got {vector.shape}")
    z = model.encode(x)
    strengths = np.asarray(strengths, "float32")
    moved = z[:, None, :] + strengths[None, :, None] * vector[None, None, :]
    out = model.decode(moved.reshape(-1, model.latent_dim))
    return out.reshape((len(z), len(strengths)) + out.shape[1:])


# ------------------------------------------------------------- anomalies
def anomaly_score(model, x, batch_size=256):
    """Per-example anomaly score: the negative ELBO for VAEs, the reconstruction MSE over
    real steps in standardised units for series models, else the reconstruction MSE.

    Higher means less like the training data.
    """
    if hasattr(model, "elbo"):
        return -model.elbo(x, seed=0, batch_size=batch_size)
    if hasattr(model, "reconstruction_error"):
        return model.reconstruction_error(np.asarray(x, "float32"), batch_size=batch_size)
    x = np.asarray(x, "float32")
    x_hat = model.reconstruct(x, batch_size=batch_size)
    return np.mean(np.square(x_hat - x).reshape(len(x), -1), axis=-1)


class AnomalyDetector:
    """A threshold on ``anomaly_score`` fitted on the scores of normal data: their
    ``quantile``, or with ``n_std`` their mean + ``n_std`` standard deviations (the rule of
    TensorFlow's autoencoder tutorial is ``n_std=1``).

    Example:
        >>> detector = AnomalyDetector(model, quantile=0.99).fit(x_normal)
        >>> flags = detector.predict(x_new)      # True = anomalous
        >>> AnomalyDetector(aezoo.load("lstm-ae-ecg"), n_std=1).fit(normal_beats).predict(beats)
    """

    def __init__(self, model, quantile=0.99, n_std=None):
        if n_std is None and not 0.0 < quantile < 1.0:
            raise ValueError(f"quantile must be in (0, 1), got {quantile}")
        if n_std is not None and not np.isfinite(n_std):
            raise ValueError(f"n_std must be a finite number, got {n_std}")
        self.model, self.quantile, self.n_std, self.threshold = model, float(quantile), n_std, None

    def fit(self, x_normal):
        scores = anomaly_score(self.model, x_normal)
        if self.n_std is not None:
            self.threshold = float(np.mean(scores) + self.n_std * np.std(scores))
        else:
            self.threshold = float(np.quantile(scores, self.quantile))
        return self

    def score(self, x):
        return anomaly_score(self.model, x)

    def predict(self, x):
        if self.threshold is None:
            raise ValueError("call fit(x_normal) before predict")
        return self.score(x) > self.threshold


def auroc(scores_normal, scores_anomalous):
    """Area under the ROC curve of scores separating anomalies (positives) from normal data."""
    from sklearn.metrics import roc_auc_score

    y = np.concatenate([np.zeros(len(scores_normal)), np.ones(len(scores_anomalous))])
    return float(roc_auc_score(y, np.concatenate([scores_normal, scores_anomalous])))


# ------------------------------------------------------------- compression
_MAGIC = b"AEZ1"
_HEADER = struct.Struct("<4sHBIff")  # magic, latent_dim, bits, count, low, high


def compress(model, x, bits=8, clip=4.0):
    """Encode ``x`` to a compact byte string: codes uniformly quantised to ``bits`` bits.

    The range is [-clip, clip] for VAEs (codes live under a N(0, 1) prior) and the
    batch's own min/max otherwise; both are stored in a 19-byte header.
    Bytes per image ~ ``latent_dim * bits / 8``.
    """
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16, got {bits}")
    z = model.encode(x)
    if hasattr(model, "sample"):
        low, high = -float(clip), float(clip)
    else:
        low, high = float(z.min()), float(z.max())
        if high <= low:
            high = low + 1e-6
    levels = (1 << bits) - 1
    q = np.round((np.clip(z, low, high) - low) / (high - low) * levels).astype(np.uint16)
    header = _HEADER.pack(_MAGIC, model.latent_dim, bits, len(z), low, high)
    return header + _pack_bits(q.ravel(), bits)


def decompress(model, blob):
    """Decode a byte string from ``compress`` back to data space."""
    if len(blob) < _HEADER.size or blob[:4] != _MAGIC:
        raise ValueError("not an aezoo compressed blob (bad magic or too short)")
    _, latent_dim, bits, count, low, high = _HEADER.unpack(blob[: _HEADER.size])
    if latent_dim != model.latent_dim:
        raise ValueError(f"blob holds {latent_dim}-d codes, this model has latent_dim={model.latent_dim}")
    q = _unpack_bits(blob[_HEADER.size:], bits, count * latent_dim)
    z = low + q.astype("float32") / ((1 << bits) - 1) * (high - low)
    return model.decode(z.reshape(count, latent_dim).astype("float32"))


def _pack_bits(values, bits):
    as_bits = ((values[:, None] >> np.arange(bits, dtype=np.uint16)) & 1).astype(np.uint8)
    return np.packbits(as_bits.ravel(), bitorder="little").tobytes()


def _unpack_bits(data, bits, n):
    flat = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
    if flat.size < n * bits:
        raise ValueError(f"blob is truncated: {flat.size // bits} of {n} codes present")
    as_bits = flat[: n * bits].reshape(n, bits).astype(np.uint16)
    return (as_bits << np.arange(bits, dtype=np.uint16)).sum(axis=1)


# ------------------------------------------------------------- features
def extract_features(model, x, out_path=None):
    """Codes of ``x`` (an array, an image folder resized to the model's input, or a series
    model's ``.npy``/``.csv`` of series) as a
    ``(n, latent_dim)`` array; with ``out_path``, also saved as ``.npy`` (atomically).
    Bad input (a corrupt image, a missing output folder) fails before anything is written."""
    if out_path is not None:
        parent = os.path.dirname(os.path.abspath(os.fspath(out_path)))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"cannot write {os.fspath(out_path)!r}: folder {parent!r} does not exist")
    if isinstance(x, (str, os.PathLike)) and len(model.data_shape) == 2:  # a .npy/.csv of series
        from aezoo.uses.finetune import load_inputs

        x = load_inputs(x, model.data_shape, model.mask_value if getattr(model, "masking", False) else None)[0]
    elif isinstance(x, (str, os.PathLike)):
        x = _folder_arrays(model, x)
    features = model.encode(x)
    if out_path is not None:
        tmp = f"{out_path}.tmp-{os.getpid()}.npy"
        np.save(tmp, features, allow_pickle=False)
        os.replace(tmp, out_path)
    return features


def _folder_arrays(model, folder):
    """A folder's images resized to the model's input; an image that does not decode is
    named in one ValueError (the backend's own error is a tf.data graph message)."""
    from aezoo.data import load_directory_arrays

    if len(model.data_shape) != 3:
        raise ValueError(f"{model.name} takes inputs of shape {tuple(model.data_shape)}, not images: "
                         "pass an array, not a folder")
    h, w, c = model.data_shape
    try:
        return load_directory_arrays(folder, (h, w), channels=c)
    except (ValueError, OSError):  # aezoo's own errors (no such folder, no images in it): clear already
        raise
    except Exception as error:  # noqa: BLE001 - tf.errors.InvalidArgumentError, without importing TF here
        raise ValueError(_undecodable(folder, c, error)) from None


def _undecodable(folder, channels, error):
    """The message naming the first image of ``folder`` that does not decode, as
    ``load_directory_arrays`` decodes it."""
    import tensorflow as tf  # load_directory_arrays already imported it

    from aezoo.data import image_files

    for path in image_files(folder):
        try:
            tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
        except Exception as bad:  # noqa: BLE001
            return (f"{path}: not a readable image ({_first_line(bad)}). Remove it from {os.fspath(folder)!r} "
                    "or save it again as JPEG or PNG.")
    return f"could not read the images in {os.fspath(folder)!r}: {type(error).__name__}: {_first_line(error)}"


def _first_line(error):
    """An error's first line, less TensorFlow's ``{{function_node ...}}`` prefix and ``[Op:...]`` suffix."""
    line = (str(error).strip().splitlines() or [""])[0]
    line = line.split("}}")[-1].split(" [Op:")[0].strip()
    return line.rstrip(".") or type(error).__name__
