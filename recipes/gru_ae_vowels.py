"""gru-ae-vowels: a masked GRU autoencoder of variable-length, 12-channel utterances."""

from aezoo.training.recipe import Recipe, Target

RECIPE = Recipe(
    preset="gru-ae-vowels",  # the model (architecture, config, dataset): aezoo/presets/catalog.py
    epochs=150,
    batch_size=32,
    learning_rate=1e-3,
    description="GRU(64) -> 16-d code -> GRU(64) over 7-29 frames of 12 LPC cepstra, padding masked.",
    notes=("270 training utterances (30 per speaker). The raw-frame probe reads 348 numbers per utterance "
           "(29 frames x 12, zero-padded), the code 16. The target was set after the first runs (LSTM(64): 0.954, "
           "LSTM(128)/32-d: 0.957, GRU(64): 0.968, raw frames 0.978), as aezoo's own bar."),
    targets=(Target("linear_probe_accuracy", -0.02, higher_is_better=True, baseline="raw_probe_accuracy",
                    anchor="aezoo: 16 numbers per utterance keep the speaker within 2 points of all 348 raw ones"),),
    demo_inputs="test",
)
