"""conv1d-ae-kdd135: keras.io's Conv1D window autoencoder on a labelled anomaly series."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="conv1d-ae-kdd135",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=60,
    batch_size=64,
    learning_rate=1e-3,
    description="Conv1D(32, 16; stride 2) -> 16-d code -> Conv1DTranspose autoencoder over 128-step windows.",
    notes=("Trained on the 1,073 windows of the 1,200-step normal prefix; scored on all 7,374 windows of the "
           "7,501-step test series. keras.io's example adds dropout 0.2: here it made reconstructions at "
           "inference 5x worse than in training and halved precision at k (0.51 vs 0.99), so the recipe uses none."),
    targets=(Target("anomaly_rank", 1, anchor="UCR anomaly archive's scoring (Wu & Keogh 2021): the top-scoring "
                                              "location must be the labelled anomaly"),),
    demo_inputs="test",
)
