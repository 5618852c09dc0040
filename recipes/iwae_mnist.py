"""iwae-mnist: the importance-weighted autoencoder on dense-vae-mnist's architecture (Burda et al. 2016).

Not bundled yet: its catalog entry is added with its weights (the model is declared here
until then, as a recipe for a preset outside the catalog must).
"""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="iwae-mnist",
    architecture="iwae",
    config=dict(input_shape=(28, 28, 1), latent_dim=50, hidden_units=(500, 500), activation="relu", k=50, seed=0),
    dataset="mnist",
    epochs=200,
    warmup_epochs=1,
    batch_size=100,
    learning_rate=1e-3,
    binarize=True,
    nll_samples=5000,
    description="784-500-500-50 Bernoulli IWAE, k=50 importance samples in training, dynamic binarisation.",
    notes=("Burda et al. trained 3,280 passes with k=50; the decoder runs k times per example, so each epoch costs "
           "about k times dense-vae-mnist's. IS-NLL with k=5000 on all 10,000 test digits."),
    targets=(Target("nll_is", 84.78, 0.0, anchor="Burda et al. 2016 Table 1, IWAE k=50, one stochastic layer"),),
)
