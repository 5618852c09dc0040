"""Recognise a checkpoint's layout and convert it: diffusers folders and TAESD ``.pth`` pairs.

``convert_folder(path)`` returns a ready aezoo model from

- a diffusers model folder: ``config.json`` (with ``_class_name``) and
  ``diffusion_pytorch_model.safetensors`` (or ``.bin``) of an ``AutoencoderTiny`` or ``AutoencoderKL``;
- a folder, or an ``*_encoder.pth`` file, of an original TAESD pair (``taef2_encoder.pth``
  + ``taef2_decoder.pth``).

Anything else is a one-line ``ConversionError`` saying what was expected.
"""

import json
from pathlib import Path

from aezoo.convert.diffusers_kl import kl_vae_from_diffusers
from aezoo.convert.ledger import ConversionError
from aezoo.convert.taesd import from_taesd_files, tiny_from_diffusers
from aezoo.convert.tensors import read_tensors

DIFFUSERS_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")

#: diffusers ``_class_name`` -> converter ``(config, tensors, source) -> model``
DIFFUSERS_CONVERTERS = {"AutoencoderTiny": tiny_from_diffusers, "AutoencoderKL": kl_vae_from_diffusers}


def register_diffusers_converter(class_name, converter):
    """Make ``convert_folder`` handle diffusers folders of ``class_name``."""
    DIFFUSERS_CONVERTERS[class_name] = converter


def layout(path):
    """``"diffusers"``, ``"taesd"`` or ``None``: which converter ``path`` is for."""
    path = Path(path)
    if path.is_file():
        return "taesd" if path.name.endswith("_encoder.pth") else None
    if (path / "config.json").is_file() and any((path / w).is_file() for w in DIFFUSERS_WEIGHTS):
        return "diffusers"
    if list(path.glob("*_encoder.pth")):
        return "taesd"
    return None


def convert_folder(path):
    """A ready aezoo model from a diffusers folder or a TAESD ``.pth`` pair (see the module docstring)."""
    path = Path(path)
    kind = layout(path)
    if kind == "taesd":
        encoders = [path] if path.is_file() else sorted(path.glob("*_encoder.pth"))
        if len(encoders) != 1:
            raise ConversionError(f"{path}: holds {len(encoders)} TAESD encoders ({', '.join(e.name for e in encoders)}); "
                                  "pass the one *_encoder.pth file to convert")
        return from_taesd_files(encoders[0])
    if kind == "diffusers":
        return _from_diffusers(path)
    raise ConversionError(f"{path}: not a convertible checkpoint; expected a diffusers model folder (config.json + "
                          f"{DIFFUSERS_WEIGHTS[0]}) of {', '.join(sorted(DIFFUSERS_CONVERTERS))}, or a TAESD "
                          "<variant>_encoder.pth + _decoder.pth pair")


def _from_diffusers(path):
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConversionError(f"{path / 'config.json'}: not readable JSON ({e})") from None
    class_name = config.get("_class_name") if isinstance(config, dict) else None
    if class_name not in DIFFUSERS_CONVERTERS:
        raise ConversionError(f"{path}: a diffusers {class_name or 'model without _class_name'}, not an autoencoder "
                              f"aezoo converts ({', '.join(sorted(DIFFUSERS_CONVERTERS))})")
    weights = next(path / w for w in DIFFUSERS_WEIGHTS if (path / w).is_file())
    return DIFFUSERS_CONVERTERS[class_name](config, read_tensors(weights), source=str(weights))
