"""vq-vae-mnist: a VQ-VAE with pythae's code budget (16-d codes, 256 of them) on keras.io's network.

The side-by-side runs of keras.io's own setting and of this one:
``recipes/experiments/vq_side_by_side.py``.
"""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="vq-vae-mnist",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=30,
    batch_size=128,
    learning_rate=1e-3,
    description="VQ-VAE, 7x7 grid of 16-d codes from a 256-entry codebook (EMA updates, dead-code restarts).",
    notes=("keras.io's 'Vector-Quantized Variational Autoencoders' network (Conv 32, 64 stride 2; 1x1 to 16 "
           "channels; 30 epochs, batch 128, Adam) with pythae's MNIST codebook of 256 codes, EMA updates (as "
           "pythae's config) and dead-code restarts. keras.io ends training at a reconstruction loss of 0.0444 "
           "in units of the training pixels' variance (0.0949): 0.00421 per pixel, on the training images; the "
           "target asks as much of the test images. pythae publishes no number for its MNIST VQ-VAE (images only)."),
    targets=(Target("mse_per_pixel", 0.00421, anchor="keras.io VQ-VAE example, final training reconstruction loss "
                                                      "0.0444 x MNIST pixel variance 0.0949"),),
    demo_inputs="test",
)
