"""dense-ae-mnist: Hinton & Salakhutdinov's 784-1000-500-250-30 deep autoencoder."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="dense-ae-mnist",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=200,
    warmup_epochs=2,
    batch_size=128,
    learning_rate=1e-3,
    description="784-1000-500-250-30 autoencoder on MNIST, trained end to end with Adam (no RBM pretraining).",
    notes="Cross-entropy loss on sigmoid outputs as in Hinton & Salakhutdinov; 2-epoch warm-up then cosine decay.",
    targets=(
        Target("squared_error_per_image", 3.00, 0.0, anchor="Hinton & Salakhutdinov 2006, Science 313:504"),
        Target("mse_vs_pca", 1.0, 0.0, anchor="aezoo: beat PCA at 30 components"),
    ),
    demo_inputs="test",
)
