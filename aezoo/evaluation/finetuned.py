"""Fine-tuned accuracy: how good a starting point the encoder is for a classifier.

The linear probe reads frozen codes; fine-tuning lets every encoder weight move with a
linear head on top, the second number the masked-autoencoder paper reports. The preset
itself is never changed: a copy of its encoder is trained. Settings: ``PROTOCOL["fine_tune"]``.
"""

import warnings

import numpy as np

from aezoo.evaluation.protocol import PROTOCOL


def _features(encoder_output):
    """One vector per example from an encoder's output: the first output of a VAE encoder
    (the mean), averaged over tokens (n, T, D) or positions (n, H, W, D)."""
    from keras import ops

    if isinstance(encoder_output, (list, tuple)):
        encoder_output = encoder_output[0]
    rank = len(encoder_output.shape)
    return encoder_output if rank == 2 else ops.mean(encoder_output, axis=tuple(range(1, rank - 1)))


def finetuned_accuracy(model, x_train, y_train, x_test, y_test):
    """Test accuracy of a copy of ``model.encoder`` plus a softmax layer, trained end to end."""
    import keras

    spec = PROTOCOL["fine_tune"]
    y_train, y_test = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    classes = int(max(y_train.max(), y_test.max())) + 1
    keras.utils.set_random_seed(spec["seed"])
    encoder = keras.models.clone_model(model.encoder)
    encoder.set_weights(model.encoder.get_weights())
    inputs = keras.Input(tuple(model.data_shape))
    outputs = keras.layers.Dense(classes, activation="softmax", name="head")(
        keras.layers.Lambda(_features, name="pool")(encoder(inputs)))
    classifier = keras.Model(inputs, outputs)
    steps = spec["epochs"] * int(np.ceil(len(x_train) / 128))
    classifier.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, steps)),
                       loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with warnings.catch_warnings():  # a VAE encoder's unused log-variance head has no gradient: expected
        warnings.filterwarnings("ignore", message="Gradients do not exist")
        classifier.fit(x_train, y_train, epochs=spec["epochs"], batch_size=128, shuffle=True, verbose=0)
    predicted = np.argmax(classifier.predict(x_test, batch_size=256, verbose=0), axis=1)
    return float(np.mean(predicted == y_test))
