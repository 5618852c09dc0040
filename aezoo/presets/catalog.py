"""The table of pretrained presets: the one place that declares each one.

A preset is ``{architecture}-{dataset}``: an architecture and its constructor config,
the data it was trained on, the recipe that trains it, the metric its card leads
with, and the Hugging Face repo holding its weights. Hyperparameters stay out of
names; new weights for the same preset are new Hub revisions.

The model is declared here, not in the recipe, because this module ships in the
package and ``recipes/`` does not: ``aezoo.load``, ``from_preset``, ``aezoo list`` and
``aezoo show`` work from an installed wheel with this table alone. Everything else
derives from it: a recipe names its preset and gets architecture, config and dataset
from here (``aezoo.training.recipe.Recipe``), and a trained folder's config.json is
``build()``'s config (tests/test_presets.py catches a stale one).

Example:
    >>> aezoo.presets.list_presets("*vae-faces*")
    ['beta-vae-faces', 'conv-vae-faces', 'conv-vae-faces-2d']
    >>> spec = aezoo.presets.get_preset("conv-vae-faces"); spec.hf_repo
    'aezoo/conv-vae-faces'
"""

import dataclasses
import fnmatch
import json
from pathlib import Path
from types import MappingProxyType

from aezoo.models.registry import build, unknown_name_error

#: Hugging Face organisation that hosts the presets (``hf_repo`` default)
HF_ORG = "aezoo"


@dataclasses.dataclass(frozen=True)
class PresetSpec:
    """One pretrained preset.

    Args:
        name: ``{architecture}-{dataset}``.
        architecture: a registered architecture name (``aezoo.list_architectures()``).
        config: constructor arguments other than ``input_shape``; the recipe trains exactly
            this and the preset folder's config.json is what it builds.
        dataset: an ``aezoo.data`` dataset name.
        image_shape: shape of one input, ``(height, width, channels)``.
        description: one sentence for the table and the model card.
        recipe: the training recipe, relative to the repository root.
        headline_metric: the ``aezoo.evaluation`` metric the table shows.
        license: license id of the weights for the Hub card (``"other"``: see the card).
        hf_repo: the Hub repo; defaults to ``aezoo/<name>``.
        manifest_sha256: the sha256 of the preset's metadata.json (which lists every
            file's sha256), read from ``pins.json``: ``aezoo.load(name)`` refuses a folder
            from any source (bundled, cache, Hub) whose manifest differs, as Keras
            applications pin ``WEIGHTS_HASHES``.
        revision: the Hub commit holding these weights, when they have been pushed;
            ``aezoo.load(name)`` downloads that commit, never a moving branch.
        converted_from: for weights trained elsewhere, their source (``github:owner/repo@commit``
            or ``hf://org/repo@revision``); such a preset is made by its conversion script
            (``recipes/converted/<name>.py``), measured on real photos (``aezoo.data.photos``)
            and trains with no aezoo dataset. Empty for presets aezoo trains.
    """

    name: str
    architecture: str
    config: dict = dataclasses.field(hash=False)
    dataset: str = ""
    image_shape: tuple = ()
    description: str = ""
    recipe: str = ""
    headline_metric: str = "mse_per_pixel"
    license: str = "apache-2.0"
    hf_repo: str = ""
    manifest_sha256: str | None = None
    revision: str | None = None
    converted_from: str = ""

    def __post_init__(self):
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "image_shape", tuple(self.image_shape))
        folder = "recipes/converted" if self.converted_from else "recipes"
        object.__setattr__(self, "recipe", self.recipe or f"{folder}/{self.name.replace('-', '_')}.py")
        object.__setattr__(self, "hf_repo", self.hf_repo or f"{HF_ORG}/{self.name}")

    def model_config(self):
        """Constructor arguments, ``input_shape`` included."""
        return {"input_shape": self.image_shape, **self.config}

    def metadata(self):
        """The preset's fields for ``saving.save_preset(..., metadata=...)`` and its card."""
        meta = {"preset": self.name, "dataset": self.dataset, "description": self.description,
                "recipe": self.recipe, "license": self.license, "hf_repo": self.hf_repo,
                "headline_metric": self.headline_metric}
        return {**meta, "converted_from": self.converted_from} if self.converted_from else meta

    def build(self):
        """An untrained, compiled model of this preset's architecture and config."""
        return build(self.architecture, **self.model_config())


_MNIST, _FACES = (28, 28, 1), (64, 64, 3)
# Weights licenses: MNIST is CC BY-SA 3.0 (share-alike carries to derived weights);
# Fashion-MNIST is MIT; CelebA ("faces") allows non-commercial research use only.
_ON_MNIST = {"dataset": "mnist", "image_shape": _MNIST, "license": "cc-by-sa-3.0"}
_ON_FASHION = {"dataset": "fashion_mnist", "image_shape": _MNIST, "license": "mit"}
_ON_FACES = {"dataset": "faces", "image_shape": _FACES, "license": "other"}
# Sequence presets: a task of aezoo.data.sequence_tasks as dataset (data + protocol), the input
# (timesteps, channels) as image_shape. The archives state no licence (see data/SEQUENCES.md).
_ON_ECG = {"dataset": "ecg5000", "image_shape": (140, 1), "license": "other"}
_ON_KDD = {"dataset": "kdd_tsad_135", "image_shape": (128, 1), "license": "other"}
_ON_VOWELS = {"dataset": "japanese_vowels", "image_shape": (29, 12), "license": "other"}

# The one declaration of each preset's model: its recipe (recipes/<name>.py) reads architecture,
# config and dataset from here and adds how to train; never copy them into it.
PRESETS = {
    spec.name: spec
    for spec in (
        PresetSpec("linear-ae-mnist", "linear-ae", {"latent_dim": 30}, **_ON_MNIST,
                   headline_metric="squared_error_per_image",
                   description="Linear autoencoder with a 30-d code: the PCA baseline, learned."),
        PresetSpec("dense-ae-mnist", "dense-ae",
                   {"latent_dim": 30, "hidden_units": (1000, 500, 250), "activation": "relu",
                    "reconstruction_loss": "bce"}, **_ON_MNIST,
                   headline_metric="squared_error_per_image",
                   description="Deep 784-1000-500-250-30 autoencoder (Hinton & Salakhutdinov, 2006)."),
        PresetSpec("conv-ae-fashion", "conv-ae", {"latent_dim": 64, "filters": (32, 64)}, **_ON_FASHION,
                   description="Convolutional autoencoder with a 64-d code on Fashion-MNIST."),
        PresetSpec("sparse-ae-mnist", "sparse-ae",
                   {"latent_dim": 1000, "hidden_units": (), "sparsity": "kl", "sparsity_weight": 0.1,
                    "sparsity_target": 0.05}, **_ON_MNIST, headline_metric="linear_probe_accuracy",
                   description="Overcomplete one-layer sparse autoencoder, KL sparsity to 5% (Ng, 2011)."),
        PresetSpec("denoising-ae-mnist", "denoising-ae",
                   {"latent_dim": 128, "hidden_units": (1024, 512), "corruption": "gaussian",
                    "corruption_strength": 0.5, "seed": 0}, **_ON_MNIST, headline_metric="psnr_denoised",
                   description="Denoising autoencoder for Gaussian noise, sigma 0.5 (Vincent et al., 2008)."),
        PresetSpec("contractive-ae-mnist", "contractive-ae",
                   {"latent_dim": 1000, "contractive_weight": 0.01, "jacobian": "exact"}, **_ON_MNIST,
                   headline_metric="linear_probe_accuracy",
                   description="One-layer sigmoid contractive autoencoder (Rifai et al., 2011)."),
        PresetSpec("dense-vae-mnist", "dense-vae",
                   {"latent_dim": 50, "hidden_units": (500, 500), "activation": "relu", "seed": 0},
                   **_ON_MNIST, headline_metric="nll_is",
                   description="784-500-500-50 Bernoulli VAE on binarised MNIST, one stochastic layer."),
        PresetSpec("iwae-mnist", "iwae",
                   {"latent_dim": 50, "hidden_units": (500, 500), "activation": "relu", "k": 50, "seed": 0},
                   **_ON_MNIST, headline_metric="nll_is",
                   description="784-500-500-50 IWAE (k=50 importance samples) on binarised MNIST, one stochastic layer."),
        PresetSpec("vq-vae-mnist", "vq-vae",
                   {"latent_dim": 16, "num_embeddings": 256, "filters": (32, 64), "ema": True, "ema_decay": 0.99,
                    "restart_after": 100, "seed": 0},
                   **_ON_MNIST, headline_metric="mse_per_pixel",
                   description="VQ-VAE: a 7x7 grid of 16-d codes from a 256-entry codebook (EMA updates), MNIST."),
        PresetSpec("conv-vae-mnist", "conv-vae",
                   {"latent_dim": 32, "filters": (32, 64), "residual_blocks": 1, "seed": 0},
                   **_ON_MNIST, headline_metric="nll_is",
                   description="Convolutional VAE with residual blocks, Bernoulli likelihood, 32-d latent, binarised MNIST."),
        PresetSpec("conditional-vae-mnist", "conditional-vae",
                   {"num_classes": 10, "latent_dim": 16, "hidden_units": (512, 256), "seed": 0},
                   **_ON_MNIST, headline_metric="sample_accuracy",
                   description="Class-conditional dense VAE: draws the digit it is asked for."),
        PresetSpec("conv-vae-fashion", "conv-vae", {"latent_dim": 32, "filters": (32, 64), "seed": 0},
                   **_ON_FASHION, headline_metric="psnr",
                   description="Convolutional VAE, 32-d latent, on Fashion-MNIST grey levels."),
        PresetSpec("conv-vae-fashion-2d", "conv-vae",
                   {"latent_dim": 2, "filters": (32, 64), "hidden_units": (512,), "seed": 0},
                   **_ON_FASHION, headline_metric="linear_probe_accuracy",
                   description="Convolutional VAE (Dense 512 around a 2-d latent) on Fashion-MNIST, for latent-plane maps."),
        PresetSpec("masked-ae-fashion", "masked-ae",
                   {"patch_size": 4, "mask_ratio": 0.75, "embed_dim": 128, "depth": 4, "num_heads": 4,
                    "decoder_dim": 64, "decoder_depth": 2, "decoder_heads": 4, "mlp_ratio": 2.0, "seed": 0},
                   **_ON_FASHION, headline_metric="finetuned_accuracy",
                   description="Masked autoencoder (He et al. 2021): 49 patches of 4x4, 75% hidden, ViT encoder 4x128."),
        PresetSpec("conv-vae-faces", "conv-vae",
                   {"latent_dim": 128, "filters": (32, 64, 128, 256), "likelihood": "gaussian", "observation_sigma": 0.1,
                    "learn_sigma": True, "seed": 0}, **_ON_FACES,
                   headline_metric="psnr",
                   description="Convolutional VAE on 64x64 CelebA faces, 128-d latent."),
        PresetSpec("conv-vae-faces-2d", "conv-vae",
                   {"latent_dim": 2, "filters": (16, 32, 64, 128), "likelihood": "gaussian",
                    "observation_sigma": 0.1, "learn_sigma": True, "seed": 0}, **_ON_FACES,
                   headline_metric="mse_vs_pca",
                   description="Conv VAE with a 2-d latent on 64x64 CelebA faces, for face-plane maps."),
        PresetSpec("beta-vae-faces", "beta-vae",
                   {"latent_dim": 32, "filters": (32, 64, 128, 256), "beta": 4.0, "seed": 0}, **_ON_FACES,
                   headline_metric="psnr",
                   description="beta-VAE (beta = 4) on 64x64 CelebA faces, 32-d latent (Higgins et al., 2017)."),
        PresetSpec("lstm-ae-ecg", "lstm-ae", {"latent_dim": 8, "units": (32,)}, **_ON_ECG,
                   headline_metric="auroc",
                   description="LSTM sequence-to-sequence autoencoder on normal ECG5000 heartbeats: flags abnormal beats."),
        PresetSpec("conv1d-ae-kdd135", "conv1d-ae", {"latent_dim": 16, "filters": (32, 16)}, **_ON_KDD,
                   headline_metric="anomaly_rank",
                   description="1-D conv autoencoder on 128-step windows of a heart-rate series (KDD-TSAD 135)."),
        PresetSpec("gru-ae-vowels", "lstm-ae", {"latent_dim": 16, "units": (64,), "cell": "gru", "masking": True},
                   **_ON_VOWELS, headline_metric="linear_probe_accuracy",
                   description="GRU autoencoder on variable-length 12-channel JapaneseVowels utterances (masking)."),
        # Converted from published checkpoints: named as their authors name them, made by
        # recipes/converted/<name>.py, proven equal to the original in tests/test_converted.py
        PresetSpec("taef2", "tiny-ae", {"latent_channels": 32, "midblock_norm": True, "freeze_encoder": True},
                   image_shape=(None, None, 3),
                   license="mit", headline_metric="psnr_512", converted_from="github:madebyollin/taesd@5cccb12",
                   description="TAEF2 (Ollin Boer Bohan): the tiny autoencoder for FLUX.2's 32-channel latents, "
                               "converted from the original PyTorch weights."),
    )
}

#: presets aezoo trains with a recipe (the others are converted from published checkpoints)
TRAINED = tuple(name for name, spec in PRESETS.items() if not spec.converted_from)

#: where the pins live: ``{preset: {"manifest_sha256": ..., "revision": ...}}``, written by
#: ``python -m aezoo.presets.pins --update`` after a recipe writes new weights
PINS_FILE = Path(__file__).with_name("pins.json")


def _with_pins(specs):
    try:
        pins = json.loads(PINS_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pins = {}
    unknown = sorted(set(pins) - set(specs))
    if unknown:
        raise ValueError(f"{PINS_FILE} pins presets the catalog does not declare: {unknown}")
    return {name: dataclasses.replace(spec, **pins.get(name, {})) for name, spec in specs.items()}


PRESETS = _with_pins(PRESETS)


def list_presets(pattern="*"):
    """Preset names matching a shell-style wildcard, sorted: ``list_presets("*vae*")``."""
    return sorted(name for name in PRESETS if fnmatch.fnmatch(name, pattern))


def get_preset(name):
    """The ``PresetSpec`` of a preset name; unknown names get close matches."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise unknown_name_error("preset", name, PRESETS) from None
