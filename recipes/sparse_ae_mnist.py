"""sparse-ae-mnist: an overcomplete autoencoder kept useful by a KL sparsity penalty."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="sparse-ae-mnist",
    architecture="sparse-ae",
    config=dict(input_shape=(28, 28, 1), latent_dim=1000, hidden_units=(), sparsity="kl",
                sparsity_weight=0.1, sparsity_target=0.05),
    dataset="mnist",
    epochs=40,
    warmup_epochs=1,
    batch_size=128,
    learning_rate=1e-3,
    description="784-1000 sigmoid code with KL(0.05 || mean activation) sparsity (Ng 2011), overcomplete.",
    targets=(Target("linear_probe_accuracy", 0.01, 0.0, higher_is_better=True, baseline="raw_pixel_probe_accuracy",
                    anchor="aezoo: sparse codes beat the raw-pixel probe by 1 point, same protocol"),),
    demo_inputs="test",
)
