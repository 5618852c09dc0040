"""Read a checkpoint file's tensors as numpy arrays: safetensors without torch, ``.pth`` with it.

Every failure (no such file, a truncated or corrupted file, torch missing for a ``.pth``)
is a one-line ``ConversionError`` that names the file.
"""

from pathlib import Path

import numpy as np

from aezoo.convert.ledger import ConversionError

SAFETENSORS_SUFFIXES = (".safetensors",)
TORCH_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")


def read_tensors(path):
    """``{name: float32 array}`` of every tensor in ``path`` (``.safetensors``, ``.pth``, ``.ckpt``, ``.bin``)."""
    path = Path(path)
    if not path.is_file():
        raise ConversionError(f"{path}: no such checkpoint file")
    if path.suffix in SAFETENSORS_SUFFIXES:
        tensors = _read_safetensors(path)
    elif path.suffix in TORCH_SUFFIXES:
        tensors = _read_torch(path)
    else:
        raise ConversionError(f"{path}: expected a {', '.join(SAFETENSORS_SUFFIXES + TORCH_SUFFIXES)} file, "
                              f"got suffix {path.suffix!r}")
    return {name: _as_float32(name, t, path) for name, t in tensors.items()}


def _read_safetensors(path):
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ConversionError(f"{path}: reading safetensors needs the 'safetensors' package "
                              "(pip install safetensors)") from None
    try:
        return load_file(str(path))
    except Exception as e:  # safetensors raises its own SafetensorError on truncation or a bad header
        raise ConversionError(f"{path}: not a readable safetensors file ({_first_line(e)}); "
                              "truncated or corrupted? download it again") from None


def _read_torch(path):
    try:
        import torch
    except ImportError:
        raise ConversionError(f"{path}: reading a PyTorch {path.suffix} checkpoint needs torch "
                              "(pip install torch); safetensors files need no torch") from None
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # zip errors, unpickling refusals, EOF on truncation
        raise ConversionError(f"{path}: not a readable PyTorch checkpoint ({_first_line(e)}); "
                              "truncated or corrupted? download it again") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # Lightning-style single-file checkpoints
    if not isinstance(state, dict):
        raise ConversionError(f"{path}: expected a state dict (name -> tensor), got a {type(state).__name__}")
    out = {}
    for name, t in state.items():
        if not hasattr(t, "detach"):
            continue  # non-tensor entries (step counters, versions) carry no weights
        out[name] = t.detach().to(torch.float32).numpy() if t.is_floating_point() else t.detach().numpy()
    return out


def _as_float32(name, array, path):
    array = np.asarray(array)
    if array.dtype.kind == "f" or array.dtype.name == "bfloat16":
        return array.astype("float32")
    if array.dtype.kind == "V":  # bfloat16 seen by numpy without ml_dtypes
        raise ConversionError(f"{path}: tensor {name!r} has dtype {array.dtype}; save it as float16/32")
    return array


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
