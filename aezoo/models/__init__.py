"""Autoencoder families; importing this package registers every architecture."""

from aezoo.models.base import Autoencoder
from aezoo.models.conv import ConvAutoencoder
from aezoo.models.dense import DenseAutoencoder, LinearAutoencoder
from aezoo.models.regularised import ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from aezoo.models.variational import BetaVAE, ConvVAE, DenseVAE, VariationalAutoencoder
from aezoo.models.iwae import IWAE
from aezoo.models.conditional import ConditionalVAE
from aezoo.models.vq import VQVAE
from aezoo.models.sequence import Conv1DAutoencoder, LSTMAutoencoder
from aezoo.models.masked import MaskedAutoencoder
from aezoo.models.tiny import TinyAutoencoder
from aezoo.models.kl_vae import KLVAE
from aezoo.models.codecs import FactorizedCodec, HyperpriorCodec

__all__ = [
    "Autoencoder", "BetaVAE", "ConditionalVAE", "ContractiveAutoencoder", "Conv1DAutoencoder", "ConvAutoencoder", "ConvVAE",
    "DenoisingAutoencoder", "DenseAutoencoder", "DenseVAE", "FactorizedCodec", "HyperpriorCodec", "IWAE", "KLVAE",
    "LSTMAutoencoder", "LinearAutoencoder", "MaskedAutoencoder", "SparseAutoencoder", "TinyAutoencoder", "VQVAE",
    "VariationalAutoencoder",
]
