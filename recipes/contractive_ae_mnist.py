"""contractive-ae-mnist: Rifai et al.'s one-layer contractive autoencoder."""

from aezoo.recipe import Recipe, Target

RECIPE = Recipe(
    preset="contractive-ae-mnist",
    architecture="contractive-ae",
    config=dict(input_shape=(28, 28, 1), latent_dim=256, contractive_weight=0.01, jacobian="exact"),
    dataset="mnist",
    epochs=15,
    batch_size=128,
    learning_rate=1e-3,
    description="784-256 sigmoid encoder with the exact ||J||_F^2 penalty (Rifai et al. 2011).",
    targets=(Target("linear_probe_accuracy", 0.95, 0.0, higher_is_better=True,
                    anchor="aezoo: contractive features beat raw-pixel probes (~0.92)"),),
    demo_inputs="test",
)
