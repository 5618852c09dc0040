"""The face codecs' recipe families, declared once: one preset per rate, for each codec architecture.

The presets differ only in lambda, the weight of distortion against rate, and are named by
CompressAI's quality index for that lambda (q3 = lambda 0.0067, as CompressAI's bmshj2018
models at quality 3), the Hub-style tag a codec zoo uses for its rate points.
"""

from aezoo.models.rate_distortion import QUALITY_LAMBDAS
from aezoo.training.recipe import Recipe

#: every other CompressAI quality: four rate points from ~0.1 to ~1 bpp, wide enough for BD-rates
QUALITIES = (1, 3, 5, 7)


def faces_codec_family(architecture, title, layout):
    """The ``RECIPES`` of ``<architecture>-faces-q{1,3,5,7}`` on 64x64 CelebA faces.

    Args:
        architecture: ``"factorized-codec"`` or ``"hyperprior-codec"``.
        title: what it is, for the description (e.g. ``"Scale-hyperprior codec (Ballé et al. 2018)"``).
        layout: CompressAI's model whose layout it follows (``"ScaleHyperprior"``).
    """
    return tuple(
        Recipe(
            preset=f"{architecture}-faces-q{q}",
            architecture=architecture,
            config={"input_shape": (64, 64, 3), "filters": 128, "latent_dim": 192, "lmbda": QUALITY_LAMBDAS[q],
                    "seed": 0},
            dataset="faces",
            image_size=64,
            epochs=100,
            batch_size=16,
            learning_rate=1e-4,
            warmup_epochs=1,
            flip_augment=True,
            description=f"{title} for 64x64 CelebA faces, quality {q} (lambda {QUALITY_LAMBDAS[q]}).",
            notes=(f"CompressAI's {layout} layout with N=128, M=192 at every quality (CompressAI widens to "
                   "192/320 above quality 5 for large photos; 64x64 faces need less). Trained on R + lambda * 255^2 * "
                   "MSE with Adam at 1e-4 (CompressAI's rate), batch 16 as CompressAI, cosine decay; faces mirrored "
                   "left to right at random. bpp_estimate is the entropy model's ideal code length; file sizes come "
                   "with the bitstream. CelebA is for non-commercial research only: so are these weights."),
            demo_inputs="faces",
        )
        for q in QUALITIES
    )
