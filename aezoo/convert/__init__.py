"""Converters: checkpoints trained elsewhere (TAESD ``.pth``, diffusers folders, single-file
Stable Diffusion checkpoints) into ordinary aezoo models and preset folders.

A converter is a pure function from the source's tensors to a model's weights: a name
map, layout transposes (NCHW -> NHWC, OIHW -> HWIO) and a ``Ledger`` that proves every
source tensor was used exactly once and every Keras weight filled.
"""

from aezoo.convert.ledger import ConversionError, Ledger
from aezoo.convert.sources import convert_folder, layout, register_diffusers_converter

__all__ = ["ConversionError", "Ledger", "convert_folder", "layout", "register_diffusers_converter"]
