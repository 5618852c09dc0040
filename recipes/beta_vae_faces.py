"""beta-vae-faces: a beta-VAE (beta = 4) on 64x64 CelebA faces."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="beta-vae-faces",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=6,
    batch_size=64,
    learning_rate=1e-3,
    description="beta-VAE (Higgins et al. 2017), beta = 4, 32-d latent, on 64x64 CelebA faces.",
    notes="CelebA is for non-commercial research only: so are these weights.",
    targets=(Target("mse_vs_pca", 2.5, 0.0, anchor="aezoo: within 2.5x of PCA at 32 components (beta trades detail)"),),
    demo_inputs="faces",
    attribute_vectors=("Smiling", "Male", "Young", "Eyeglasses", "Blond_Hair", "Mustache"),
)
