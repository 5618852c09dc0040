"""conv-vae-fashion: a convolutional VAE on Fashion-MNIST grey levels."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-vae-fashion",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=6,
    batch_size=128,
    learning_rate=1e-3,
    description="Conv VAE (32, 64), 32-d latent, Bernoulli likelihood on grey levels in [0, 1].",
    notes="Grey levels are not binary, so the ELBO is a training objective, not a likelihood of the data.",
    targets=(Target("mse_vs_pca", 1.5, 0.0, anchor="aezoo: within 1.5x of PCA at 32 components"),),
    demo_inputs="test",
)
