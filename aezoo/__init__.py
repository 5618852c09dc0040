"""aezoo: autoencoders for Keras 3, with pretrained weights."""

__version__ = "0.1.0"

from aezoo import models  # noqa: F401  (registers the architectures)
from aezoo.models import *  # noqa: F401,F403
from aezoo.registry import build, list_architectures
