"""dense-vae-mnist: the IWAE paper's one-stochastic-layer VAE on dynamically binarised MNIST."""

from aezoo.recipe import Recipe, Target

RECIPE = Recipe(
    preset="dense-vae-mnist",
    architecture="dense-vae",
    config=dict(input_shape=(28, 28, 1), latent_dim=50, hidden_units=(200, 200), activation="tanh", seed=0),
    dataset="mnist",
    epochs=20,
    batch_size=100,
    learning_rate=1e-3,
    binarize=True,
    nll_samples=1000,
    description="784-200-200-50 Bernoulli VAE (Burda et al. 2016 architecture), dynamic binarisation.",
    notes="The anchor was trained for 3,280 passes; this recipe trains 20 epochs on one CPU.",
    targets=(Target("nll_is", 86.76, 0.0, anchor="Burda et al. 2016 (IWAE), VAE k=1, Table 1"),),
)
