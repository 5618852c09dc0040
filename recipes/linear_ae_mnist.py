"""linear-ae-mnist: the PCA-equivalent autoencoder, 784 -> 30 -> 784."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="linear-ae-mnist",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=20,
    batch_size=128,
    learning_rate=3e-3,
    description="Linear autoencoder with a 30-d code on MNIST; reaches PCA's error (Baldi & Hornik 1989).",
    targets=(
        Target("squared_error_per_image", 13.87, 0.28, anchor="PCA, 30 components (Hinton & Salakhutdinov 2006)"),
        Target("mse_vs_pca", 1.0, 0.02, anchor="aezoo: within 2% of our own PCA baseline"),
    ),
    demo_inputs="test",
)
