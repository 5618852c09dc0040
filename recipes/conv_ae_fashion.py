"""conv-ae-fashion: a convolutional autoencoder for Fashion-MNIST."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-ae-fashion",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=10,
    batch_size=128,
    learning_rate=1e-3,
    description="Stride-2 conv encoder (32, 64) to a 64-d code, mirrored decoder, MSE.",
    targets=(Target("mse_vs_pca", 1.0, 0.0, anchor="aezoo: beat PCA at 64 components"),),
    demo_inputs="test",
)
