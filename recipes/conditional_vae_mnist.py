"""conditional-vae-mnist: a class-conditional VAE (Sohn et al. 2015) that draws the digit asked for."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conditional-vae-mnist",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=30,
    warmup_epochs=1,
    batch_size=128,
    learning_rate=1e-3,
    demo_inputs="test",
    description="784-512-256-16 Bernoulli VAE with the one-hot digit label in encoder and decoder.",
    notes=("Trained on grey-level MNIST with the Bernoulli likelihood (cross-entropy on grey levels, as keras.io's "
           "VAE example). sample_accuracy: a small MLP on raw pixels (784-256-10) trained on the training split "
           "labels 100 seeded samples of each digit; judge_test_accuracy is that judge on the real test digits. "
           "A linear judge read only 89% of real test digits, capping any model's score below the bar."),
    targets=(Target("sample_accuracy", 0.90, 0.0, higher_is_better=True,
                    anchor="issue 12: the requested digit in >= 90% of samples"),),
)
