"""conv-vae-mnist: a small convolutional VAE on dynamically binarised MNIST."""

from aezoo.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-vae-mnist",
    architecture="conv-vae",
    config=dict(input_shape=(28, 28, 1), latent_dim=16, filters=(32, 64), seed=0),
    dataset="mnist",
    epochs=10,
    batch_size=128,
    learning_rate=1e-3,
    binarize=True,
    nll_samples=1000,
    nll_examples=1000,
    description="Conv VAE (32, 64) with a 16-d Gaussian latent and Bernoulli decoder.",
    targets=(Target("nll_is", 86.76, 0.0, anchor="Burda et al. 2016 (IWAE), dense VAE k=1"),),
)
