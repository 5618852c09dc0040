"""conv-vae-faces: a 64x64 RGB convolutional VAE on the CelebA 10k subset."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-vae-faces",
    architecture="conv-vae",
    config=dict(input_shape=(64, 64, 3), latent_dim=128, filters=(32, 64, 128, 256), likelihood="gaussian",
                observation_sigma=0.1, learn_sigma=True, seed=0),
    dataset="faces",
    image_size=64,
    epochs=60,
    warmup_epochs=1,
    batch_size=64,
    learning_rate=1e-3,
    description="Conv VAE on 64x64 CelebA faces (first 10k aligned images, 9k train / 1k test).",
    notes=("Gaussian likelihood with one learned observation scale (sigma-VAE, Rybkin et al. 2021) instead of "
           "a Bernoulli on grey levels. CelebA is for non-commercial research only: so are these weights."),
    targets=(Target("mse_vs_pca", 1.0, 0.0, anchor="PCA with 128 components on the same training faces"),),
    demo_inputs="faces",
    attribute_vectors=("Smiling", "Male", "Young", "Eyeglasses", "Blond_Hair", "Mustache"),
)
