"""conv-vae-faces: a 64x64 RGB convolutional VAE on the CelebA 10k subset."""

from aezoo.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-vae-faces",
    architecture="conv-vae",
    config=dict(input_shape=(64, 64, 3), latent_dim=128, filters=(32, 64, 128, 256), seed=0),
    dataset="faces",
    image_size=64,
    epochs=15,
    batch_size=64,
    learning_rate=1e-3,
    description="Conv VAE on 64x64 CelebA faces (first 10k aligned images, 9k train / 1k test).",
    notes="CelebA is for non-commercial research only: so are these weights.",
    targets=(Target("mse_vs_pca", 1.5, 0.0, anchor="aezoo: within 1.5x of PCA at 128 components"),),
    demo_inputs="samples",
)
