"""conv-vae-faces: a 64x64 RGB convolutional VAE on the CelebA 10k subset."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-vae-faces",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=100,
    warmup_epochs=1,
    batch_size=64,
    learning_rate=1e-3,
    description="Conv VAE on 64x64 CelebA faces (first 10k aligned images, 9k train / 1k test).",
    notes=("Gaussian likelihood with one learned observation scale (sigma-VAE, Rybkin et al. 2021) instead of "
           "a Bernoulli on grey levels. Tried: 15 epochs with a Bernoulli likelihood, mse_vs_pca 1.65; 60 epochs "
           "of this sigma-VAE, 1.012 (the loss still falling when the cosine schedule ended), hence 100. "
           "CelebA is for non-commercial research only: so are these weights."),
    targets=(Target("mse_vs_pca", 1.0, 0.0, anchor="PCA with 128 components on the same training faces"),),
    demo_inputs="faces",
    attribute_vectors=("Smiling", "Male", "Young", "Eyeglasses", "Blond_Hair", "Mustache"),
)
