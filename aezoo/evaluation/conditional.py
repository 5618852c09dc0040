"""Metrics of a class-conditional model: does it draw the class it is asked for?

A judge classifier (a small MLP on raw pixels, trained on the training split) labels ``samples_per_class`` seeded draws of every class;
``sample_accuracy`` is the fraction it labels as requested. Its accuracy on the real
test images (``judge_test_accuracy``) says how far to trust it. Beside these: the
conditional ELBO and the reconstruction error of the test images given their labels.
"""

import numpy as np

from aezoo.evaluation.metrics import mse_per_pixel, squared_error_per_image

SAMPLES_PER_CLASS = 100


def judge_classifier(x_train, y_train, seed=0):
    """A small MLP on raw pixels (one hidden layer of 256, seeded), fitted on ``x_train``.

    A linear judge reads only ~89% of real MNIST test digits, which would cap the sample
    accuracy below the 90% bar whatever the model draws; the MLP reads ~96%.
    """
    from sklearn.neural_network import MLPClassifier

    import warnings

    from sklearn.exceptions import ConvergenceWarning

    judge = MLPClassifier(hidden_layer_sizes=(256,), max_iter=30, random_state=seed)
    with warnings.catch_warnings():  # 30 fixed epochs are the protocol, converged or not
        warnings.simplefilter("ignore", ConvergenceWarning)
        return judge.fit(x_train.reshape(len(x_train), -1), np.asarray(y_train).ravel())


def conditional_metrics(model, x_train, y_train, x_test, y_test, samples_per_class=SAMPLES_PER_CLASS, seed=0):
    """``{sample_accuracy, judge_test_accuracy, elbo, mse_per_pixel, squared_error_per_image}``."""
    judge = judge_classifier(x_train, y_train, seed)
    flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
    requested = np.repeat(np.arange(model.num_classes), samples_per_class)
    samples = model.sample(len(requested), labels=requested, seed=seed)
    x_hat = model.reconstruct(x_test, y_test)
    return {
        "sample_accuracy": float(np.mean(judge.predict(flat(samples)) == requested)),
        "judge_test_accuracy": float(np.mean(judge.predict(flat(x_test)) == np.asarray(y_test).ravel())),
        "elbo": float(np.mean(model.elbo(x_test, y_test, seed=seed))),
        "mse_per_pixel": mse_per_pixel(x_test, x_hat),
        "squared_error_per_image": squared_error_per_image(x_test, x_hat),
    }
