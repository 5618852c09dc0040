"""denoising-ae-mnist: removes Gaussian noise (sigma 0.5) from MNIST digits."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="denoising-ae-mnist",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=60,
    warmup_epochs=1,
    batch_size=128,
    learning_rate=1e-3,
    denoising_eval=True,
    description="Dense denoising autoencoder (Vincent et al. 2008), Gaussian corruption sigma=0.5 clipped to [0, 1].",
    targets=(Target("psnr_gain", 10.0, 0.0, higher_is_better=True,
                    anchor="aezoo: +10 dB over the noisy input"),),
    demo_inputs="test",
)
