"""hyperprior-codec-faces-q{1,3,5,7}: scale-hyperprior codecs on 64x64 CelebA faces, one per rate.

A family (``RECIPES``): the presets differ only in lambda, the weight of distortion against
rate, and are named by CompressAI's quality index for that lambda (q3 = lambda 0.0067,
as CompressAI's bmshj2018-hyperprior quality 3), the Hub-style tag a codec zoo uses for
its rate points. Train one with ``aezoo train hyperprior-codec-faces-q3``.
"""

from aezoo.models.rate_distortion import QUALITY_LAMBDAS
from aezoo.training.recipe import Recipe

#: every other CompressAI quality: four rate points from ~0.1 to ~1 bpp, wide enough for BD-rates
QUALITIES = (1, 3, 5, 7)

RECIPES = tuple(
    Recipe(
        preset=f"hyperprior-codec-faces-q{q}",
        architecture="hyperprior-codec",
        config={"input_shape": (64, 64, 3), "filters": 128, "latent_dim": 192, "lmbda": QUALITY_LAMBDAS[q],
                "seed": 0},
        dataset="faces",
        image_size=64,
        epochs=100,
        batch_size=16,
        learning_rate=1e-4,
        warmup_epochs=1,
        flip_augment=True,
        description=f"Scale-hyperprior codec (Ballé et al. 2018) for 64x64 CelebA faces, quality {q} "
                    f"(lambda {QUALITY_LAMBDAS[q]}).",
        notes=("CompressAI's ScaleHyperprior layout with N=128, M=192 at every quality (CompressAI widens to "
               "192/320 above quality 5 for large photos; 64x64 faces need less). Trained on R + lambda * 255^2 * "
               "MSE with Adam at 1e-4 (CompressAI's rate), batch 16 as CompressAI, cosine decay; faces mirrored "
               "left to right at random. bpp_estimate is the entropy model's ideal code length; file sizes come "
               "with the bitstream. CelebA is for non-commercial research only: so are these weights."),
        demo_inputs="faces",
    )
    for q in QUALITIES
)
