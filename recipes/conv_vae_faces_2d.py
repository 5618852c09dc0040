"""conv-vae-faces-2d: a 64x64 face VAE with a two-number code, for maps of the face plane."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-vae-faces-2d",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=40,
    warmup_epochs=1,
    batch_size=64,
    learning_rate=1e-3,
    description="Conv VAE with a 2-d latent on 64x64 CelebA faces: every face is a point on one plane.",
    notes=("The seeds' face map: decode a grid over the plane and place each test face at its code. "
           "Gaussian likelihood with a learned scale. CelebA is for non-commercial research only: so are "
           "these weights."),
    targets=(Target("mse_vs_pca", 1.0, 0.0, anchor="PCA with 2 components on the same training faces"),),
    demo_inputs="faces",
    attribute_vectors=("Smiling", "Male", "Young"),
)
