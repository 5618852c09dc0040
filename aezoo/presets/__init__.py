"""Pretrained presets: the catalog that declares them, the folder format that stores
them, ``load`` that finds and checks them, and the Hugging Face Hub that hosts them.

The modules, one job each: ``catalog`` (one ``PresetSpec`` per preset: add a preset
there), ``folder`` (write, verify and read a preset folder), ``card`` (its model card),
``loader`` (``load``: bundled -> Hugging Face cache -> Hub, then verify), ``hub`` (push, pull, sync)
and ``table`` (README's preset table).

Example:
    >>> from aezoo import presets
    >>> presets.list_presets("*vae*")
    >>> model = presets.load("conv-vae-faces")
"""

from aezoo.presets.catalog import HF_ORG, PRESETS, PresetSpec, get_preset, list_presets
from aezoo.presets.folder import (CARD_FILE, CONFIG_FILE, DEMO_FILE, FORMAT, FORMAT_VERSION, LATENT_PRIOR_FILE,
                                  METADATA_FILE, WEIGHTS_FILE, ChecksumError, file_digest, git_sha, is_preset_folder, load_demo_inputs,
                                  tensorflow_version,
                                  load_preset_folder, read_metadata, save_preset, verify_preset, write_model_card)
from aezoo.presets.card import model_card
from aezoo.presets.loader import HF_PREFIX, PresetNotFoundError, bundled_weights_dir, load, resolve
from aezoo.presets.hub import pull, push, sync
from aezoo.presets.table import PresetRow, markdown_table, preset_table

__all__ = [
    "CARD_FILE", "CONFIG_FILE", "DEMO_FILE", "FORMAT", "FORMAT_VERSION", "HF_ORG", "HF_PREFIX", "LATENT_PRIOR_FILE",
    "METADATA_FILE", "PRESETS", "WEIGHTS_FILE", "ChecksumError", "PresetNotFoundError", "PresetRow", "PresetSpec",
    "bundled_weights_dir", "file_digest", "get_preset", "git_sha", "list_presets", "load", "load_demo_inputs",
    "load_preset_folder", "markdown_table", "model_card", "preset_table", "pull", "push", "read_metadata", "resolve",
    "is_preset_folder", "save_preset", "sync", "tensorflow_version", "verify_preset", "write_model_card",
]
