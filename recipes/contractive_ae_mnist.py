"""contractive-ae-mnist: Rifai et al.'s one-layer contractive autoencoder."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="contractive-ae-mnist",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=40,
    warmup_epochs=1,
    batch_size=128,
    learning_rate=1e-3,
    description="784-1000 sigmoid encoder with the exact ||J||_F^2 penalty (Rifai et al. 2011).",
    targets=(Target("linear_probe_accuracy", 0.01, 0.0, higher_is_better=True, baseline="raw_pixel_probe_accuracy",
                    anchor="aezoo: contractive codes beat the raw-pixel probe by 1 point, same protocol"),),
    demo_inputs="test",
)
