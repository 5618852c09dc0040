"""conv-vae-fashion-2d: a conv VAE with a 2-d latent, for maps of the latent plane."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv-vae-fashion-2d",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=40,
    warmup_epochs=1,
    batch_size=128,
    learning_rate=1e-3,
    description="Conv VAE (32, 64, Dense 512) with a 2-d latent on Fashion-MNIST: the whole latent space fits one plot.",
    notes=("The conv stack straight into the 2-d code (no Dense layer) gave a linear probe of 0.58 after 6 epochs "
           "and 0.628 after 40. The 2-d VAE baseline of the Parametric UMAP paper (Sainburg et al. 2021), which "
           "puts a Dense 512 layer between the convolutions and the code, separates the classes better; this "
           "recipe adds that layer on both sides of the code (hidden_units=(512,))."),
    targets=(Target("linear_probe_accuracy", 0.70, 0.0, higher_is_better=True,
                    anchor="aezoo: 2 numbers per image still separate most classes"),),
    demo_inputs="test",
)
