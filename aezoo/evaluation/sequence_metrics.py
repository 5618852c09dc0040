"""Headline metrics of the sequence presets, one function per task (``aezoo.data.sequence_tasks``).

``measure_task`` is what a sequence recipe records and ``aezoo eval`` re-runs:

- ``ecg5000`` (and ``ecg5000_ucr``): anomaly AUROC of the reconstruction error on the
  test beats (abnormal = positive); accuracy, precision and recall at the tutorial's
  threshold (mean + 1 std of the training beats' errors), with the tutorial's
  convention that a beat is *predicted normal* below the threshold and precision and
  recall are those of the normal class. On ``ecg5000`` the tutorial's own dense
  140-32-16-8 autoencoder is trained in the same run, its way (min-max scaling on the
  training split, MAE, 20 epochs, batch 512), and measured alike: ``tutorial_*``.
- ``kdd_tsad_135``: per-window reconstruction error; the rank of the best window that
  overlaps the labelled anomaly (1 = the top score), precision at k (k = the number of
  windows that overlap it), window AUROC, and the UCR archive's hit rule (the top
  window's centre within 100 steps of the anomaly).
- ``japanese_vowels``: reconstruction MSE over real steps in standardised units, and
  linear-probe accuracy of the codes for the speaker beside that of the raw frames.
"""

import numpy as np

from aezoo.data.sequence_tasks import KDD_STRIDE, KDD_WINDOW, check_task, ecg_tutorial_split, load_task
from aezoo.data.sequences import load_sequences
from aezoo.evaluation.baselines import linear_probe

#: the tutorial's baseline, as it trains it
TUTORIAL = {"layers": (32, 16, 8), "epochs": 20, "batch_size": 512, "loss": "mae", "seed": 0}
#: the UCR anomaly archive's rule: a detection counts within this many steps of the anomaly
UCR_HIT_MARGIN = 100


def threshold_metrics(train_scores, test_scores, abnormal):
    """Accuracy, precision and recall at mean + 1 std of ``train_scores`` (the tutorial's rule;
    positive = predicted normal, below the threshold)."""
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    threshold = float(np.mean(train_scores) + np.std(train_scores))
    normal, predicted_normal = np.asarray(abnormal) == 0, np.asarray(test_scores) < threshold
    return {"threshold": threshold, "accuracy": float(accuracy_score(normal, predicted_normal)),
            "precision": float(precision_score(normal, predicted_normal, zero_division=0)),
            "recall": float(recall_score(normal, predicted_normal, zero_division=0))}


def tutorial_autoencoder(x_train_all, normal_train, seed=TUTORIAL["seed"]):
    """TensorFlow tutorial's dense autoencoder trained its way; returns ``score(x)`` (MAE
    per beat on its min-max scale) for the beats given."""
    import keras

    low, high = float(np.min(x_train_all)), float(np.max(x_train_all))  # the tutorial scales by the whole train split

    def scaled(x):
        return ((np.asarray(x, "float32") - low) / (high - low)).reshape(len(x), -1)

    keras.utils.set_random_seed(seed)
    steps = scaled(normal_train[:1]).shape[1]
    layers = [keras.Input((steps,))] + [keras.layers.Dense(u, activation="relu") for u in TUTORIAL["layers"]]
    layers += [keras.layers.Dense(u, activation="relu") for u in TUTORIAL["layers"][-2::-1]]
    model = keras.Sequential(layers + [keras.layers.Dense(steps, activation="sigmoid")])
    model.compile(optimizer="adam", loss=TUTORIAL["loss"])
    x = scaled(normal_train)
    model.fit(x, x, epochs=TUTORIAL["epochs"], batch_size=TUTORIAL["batch_size"], shuffle=True, verbose=0)

    def score(beats):
        flat = scaled(beats)
        return np.mean(np.abs(model.predict(flat, batch_size=1024, verbose=0) - flat), axis=1)

    return score


def _anomaly_metrics(train_scores, test_scores, abnormal, prefix=""):
    from sklearn.metrics import roc_auc_score

    out = {"auroc": float(roc_auc_score(abnormal, test_scores)),
           **threshold_metrics(train_scores, test_scores, abnormal)}
    return {prefix + k: v for k, v in out.items()}


def _ecg(model, task, examples, baseline):
    x_train, _ = load_task(task, "train")
    x_test, abnormal = load_task(task, "test")
    if examples:
        x_test, abnormal = x_test[:examples], abnormal[:examples]
    metrics = _anomaly_metrics(model.reconstruction_error(x_train), model.reconstruction_error(x_test), abnormal)
    protocol = {"task": task, "n_train": int(len(x_train)), "n_test": int(len(x_test)),
                "abnormal_fraction": float(np.mean(abnormal)), "score": "reconstruction MSE per beat (standardised)",
                "threshold": "mean + 1 std of the training beats' scores; precision/recall of the normal class"}
    if baseline:
        if task == "ecg5000":
            x_all, _, train_index, _ = ecg_tutorial_split()
            x_train_all = x_all[train_index]
        else:
            x_train_all = load_sequences("ecg5000", "train").x
        score = tutorial_autoencoder(x_train_all, x_train)
        metrics.update(_anomaly_metrics(score(x_train), score(x_test), abnormal, prefix="tutorial_"))
        protocol["tutorial_baseline"] = {**TUTORIAL, "scaling": "min-max over the whole 80% training split",
                                         "score": "MAE per beat"}
    return metrics, protocol


def window_ranking(scores, overlaps, starts, anomaly_steps, window):
    """Where windows overlapping the anomaly rank among all windows' scores."""
    from sklearn.metrics import roc_auc_score

    order = np.argsort(-np.asarray(scores), kind="stable")
    ranked = np.asarray(overlaps, bool)[order]
    k = int(ranked.sum())
    top_centre = starts[order[0]] + window // 2
    first, last = int(anomaly_steps.min()), int(anomaly_steps.max())
    return {"anomaly_rank": int(np.argmax(ranked)) + 1, "precision_at_k": float(ranked[:k].mean()), "k": k,
            "window_auroc": float(roc_auc_score(overlaps, scores)),
            "ucr_hit": float(first - UCR_HIT_MARGIN <= top_centre <= last + UCR_HIT_MARGIN),
            "top_window_centre": int(top_centre)}


def _kdd(model, task, examples):
    x_test, overlaps = load_task(task, "test")
    scores = model.reconstruction_error(x_test)
    anomaly = np.flatnonzero(load_sequences("kdd_tsad_135", "test").anomaly)
    starts = np.arange(len(x_test)) * KDD_STRIDE
    metrics = window_ranking(scores, overlaps, starts, anomaly, KDD_WINDOW)
    train_scores = model.reconstruction_error(load_task(task, "train")[0])
    metrics["train_mse"] = float(np.mean(train_scores))
    protocol = {"task": task, "window": KDD_WINDOW, "stride": KDD_STRIDE, "n_test_windows": int(len(x_test)),
                "anomaly_steps": [int(anomaly.min()), int(anomaly.max())],
                "score": "reconstruction MSE per window (standardised)",
                "ucr_hit": f"top window's centre within {UCR_HIT_MARGIN} steps of the anomaly"}
    return metrics, protocol


def _vowels(model, task, examples, probe_train):
    from aezoo.models.sequence import real_steps

    x_train, y_train = load_task(task, "train")
    x_test, y_test = load_task(task, "test")
    if examples:
        x_test, y_test = x_test[:examples], y_test[:examples]
    if probe_train:
        x_train, y_train = x_train[:probe_train], y_train[:probe_train]
    raw = [np.where(real_steps(x)[..., None], x, 0.0).reshape(len(x), -1) for x in (x_train, x_test)]
    metrics = {"mse": float(np.mean(model.reconstruction_error(x_test))),
               "linear_probe_accuracy": linear_probe(model.encode(x_train), y_train, model.encode(x_test), y_test),
               "raw_probe_accuracy": linear_probe(raw[0], y_train, raw[1], y_test)}
    protocol = {"task": task, "n_train": int(len(x_train)), "n_test": int(len(x_test)),
                "mse": "over real steps, standardised units", "raw_probe": "zero-padded frames, flattened"}
    return metrics, protocol


def measure_task(model, task, examples=None, probe_train=None, baseline=True):
    """``(metrics, protocol)`` of a sequence model on a task (module docstring).

    ``baseline=False`` skips the tutorial baseline of ``ecg5000`` (seconds to train).
    """
    task = check_task(task)
    if task.startswith("ecg5000"):
        return _ecg(model, task, examples, baseline)
    if task == "kdd_tsad_135":
        return _kdd(model, task, examples)
    return _vowels(model, task, examples, probe_train)
