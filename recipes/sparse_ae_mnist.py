"""sparse-ae-mnist: an overcomplete autoencoder kept useful by a KL sparsity penalty."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="sparse-ae-mnist",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=40,
    warmup_epochs=1,
    batch_size=128,
    learning_rate=1e-3,
    description="784-1000 sigmoid code with KL(0.05 || mean activation) sparsity (Ng 2011), overcomplete.",
    targets=(Target("linear_probe_accuracy", 0.01, 0.0, higher_is_better=True, baseline="raw_pixel_probe_accuracy",
                    anchor="aezoo: sparse codes beat the raw-pixel probe by 1 point, same protocol"),),
    demo_inputs="test",
)
