"""The sequence presets' protocols: which examples train, which test, with which labels.

A task is a named dataset *plus* a protocol, the unit a sequence preset is trained and
measured on (``PresetSpec.dataset``); ``load_task(name, split)`` gives its arrays:

- ``ecg5000``: TensorFlow's "Intro to Autoencoders" protocol. The 5,000 beats (the UCR
  train file's 500, then the test file's 4,500) are split 80/20 by scikit-learn's
  ``train_test_split(test_size=0.2, random_state=21)``; training uses the *normal* beats
  of the 80% only; the test split is the whole 20%, ``y`` 1 for an abnormal beat.
  (The tutorial reads a CSV of the same 5,000 beats whose row order is not published,
  so its split is the same rule, not the same beats.)
- ``ecg5000_ucr``: the archive's own split: normal beats of the 500 to train, the
  4,500 to test, ``y`` 1 for abnormal.
- ``kdd_tsad_135``: sliding windows of ``KDD_WINDOW`` steps, stride 1: training windows
  from the 1,200-step normal prefix, test windows over the whole 7,501-step series,
  ``y`` 1 where a window overlaps the labelled anomaly (steps 4187-4198).
- ``japanese_vowels``: the archive's split, zero-padded to 29 steps, ``y`` the speaker.

Example:
    >>> x_train, y_train = load_task("ecg5000", "train")   # (n, 140, 1) normal beats, y all 0
    >>> x_test, y_test = load_task("ecg5000", "test")      # (1000, 140, 1), y 1 = abnormal
"""

import difflib

import numpy as np

from aezoo.data.sequences import load_sequences
from aezoo.data.series import windows

#: window length and stride of the KDD-TSAD 135 task (about 0.7 of the series' 183-step period)
KDD_WINDOW, KDD_STRIDE = 128, 1
#: the tutorial's split: scikit-learn train_test_split arguments
ECG_TUTORIAL_SPLIT = {"test_size": 0.2, "random_state": 21}

TASKS = {
    "ecg5000": "ECG5000 on TensorFlow's tutorial protocol: normal beats of an 80/20 split (random_state=21) "
               "train; the 20% test, y = abnormal",
    "ecg5000_ucr": "ECG5000 on the UCR split: normal beats of the 500 train; the 4,500 test, y = abnormal",
    "kdd_tsad_135": f"KDD-TSAD 135 in windows of {KDD_WINDOW} steps (stride {KDD_STRIDE}): train on the normal "
                    "prefix; test windows over the whole series, y = overlaps the labelled anomaly",
    "japanese_vowels": "JapaneseVowels, archive split, zero-padded to 29 steps; y = speaker 0-8",
}


def is_task(name):
    return str(name) in TASKS


def check_task(name):
    if not is_task(name):
        close = difflib.get_close_matches(str(name), list(TASKS), n=3, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown sequence task {name!r}.{hint} Known: {', '.join(TASKS)}")
    return str(name)


def ecg_tutorial_split():
    """``(x, abnormal, train_index, test_index)`` of the 5,000 beats under the tutorial's split."""
    from sklearn.model_selection import train_test_split

    train, test = load_sequences("ecg5000", "train"), load_sequences("ecg5000", "test")
    x = np.concatenate([train.x, test.x])
    abnormal = (np.concatenate([train.y, test.y]) != 0).astype(np.int64)
    train_index, test_index = train_test_split(np.arange(len(x)), **ECG_TUTORIAL_SPLIT)
    return x, abnormal, np.sort(train_index), np.sort(test_index)


def load_task(name, split="train"):
    """``(x, y)`` of one split of a task (module docstring); x float32 ``(n, T, C)``, y int64 ``(n,)``."""
    name = check_task(name)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if name == "ecg5000":
        x, abnormal, train_index, test_index = ecg_tutorial_split()
        if split == "train":
            keep = train_index[abnormal[train_index] == 0]
            return x[keep], abnormal[keep]
        return x[test_index], abnormal[test_index]
    if name == "ecg5000_ucr":
        part = load_sequences("ecg5000", split)
        abnormal = (part.y != 0).astype(np.int64)
        if split == "train":
            return part.x[abnormal == 0], abnormal[abnormal == 0]
        return part.x, abnormal
    if name == "kdd_tsad_135":
        part = load_sequences("kdd_tsad_135", split)
        x = windows(part.x, KDD_WINDOW, KDD_STRIDE)
        return x, windows(part.y, KDD_WINDOW, KDD_STRIDE).any(axis=1).astype(np.int64)
    part = load_sequences("japanese_vowels", split)
    return part.x, part.y


def demo_examples(name, n=8):
    """``n`` test examples to show: for anomaly tasks the first ``n/2`` normal and ``n/2``
    anomalous ones (in test order), else the first ``n``."""
    x, y = load_task(name, "test")
    if name == "japanese_vowels":
        return x[:n]
    normal, anomalous = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    if name == "kdd_tsad_135":  # windows spread over the series, and the one centred on the anomaly
        anomalous = anomalous[len(anomalous) // 2:][:1]
        normal = normal[np.linspace(0, len(normal) - 1, n - 1).astype(int)]
    keep = np.sort(np.concatenate([normal[: n - min(len(anomalous), n // 2)], anomalous[: n // 2]]))
    return x[keep]
