"""aezoo: autoencoders for Keras 3, with pretrained weights.

    >>> import aezoo
    >>> aezoo.list_architectures("*vae*")
    ['beta-vae', 'conditional-vae', 'conv-vae', 'dense-vae', 'kl-vae', 'vq-vae']
    >>> model = aezoo.build("conv-vae", input_shape=(64, 64, 3), latent_dim=128)
    >>> vae = aezoo.load("conv-vae-faces")          # pretrained, compiled, offline
"""

__version__ = "0.1.0"

from aezoo._startup import import_keras_quietly as _import_keras_quietly

_import_keras_quietly()  # TensorFlow's C++ start-up chatter would drown aezoo's output

from aezoo import models  # noqa: E402  (registers the architectures)
from aezoo.models import *  # noqa: E402,F401,F403  (the model classes)
from aezoo.models.registry import build, list_architectures  # noqa: E402
from aezoo.presets import get_preset, list_presets, load, preset_table  # noqa: E402

__all__ = ["build", "get_preset", "list_architectures", "list_presets", "load", "models", "preset_table",
           *models.__all__]
