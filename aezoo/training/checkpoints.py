"""Checkpoints of the custom (multi-worker) loop and the per-epoch log that survives restarts."""

import csv
import json
import os

import numpy as np

# ------------------------------------------------------------ checkpoints
def _atomic_json(path, payload):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(payload, f)
    os.replace(tmp, path)


def save_checkpoint(model, checkpoint_dir, epoch):
    """Weights, optimizer state and epoch, each written to a temp file then renamed."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    weights = os.path.join(checkpoint_dir, "checkpoint.weights.h5")
    tmp = os.path.join(checkpoint_dir, f"tmp-{os.getpid()}.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, weights)
    opt_path = os.path.join(checkpoint_dir, "optimizer.npz")
    tmp_opt = os.path.join(checkpoint_dir, f"tmp-{os.getpid()}-optimizer.npz")
    with open(tmp_opt, "wb") as f:
        np.savez(f, *[np.asarray(v) for v in model.optimizer.variables])
    os.replace(tmp_opt, opt_path)
    _atomic_json(os.path.join(checkpoint_dir, "state.json"), {"epoch": epoch})


def restore_checkpoint(model, checkpoint_dir):
    """Loads the last checkpoint if there is one; returns the number of epochs done."""
    state = os.path.join(checkpoint_dir or "", "state.json")
    if not checkpoint_dir or not os.path.exists(state):
        return 0
    with open(state) as f:
        epoch = int(json.load(f)["epoch"])
    model.load_weights(os.path.join(checkpoint_dir, "checkpoint.weights.h5"))
    model.optimizer.build(model.trainable_variables)
    with np.load(os.path.join(checkpoint_dir, "optimizer.npz")) as saved:
        values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    for variable, value in zip(model.optimizer.variables, values):
        variable.assign(value)
    return epoch


def logged_seconds(checkpoint_dir):
    """Wall seconds of every epoch logged in ``checkpoint_dir/epochs.csv``, across restarts."""
    path = os.path.join(checkpoint_dir or "", "epochs.csv")
    if not checkpoint_dir or not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return sum(float(r.get("seconds") or 0.0) for r in rows)


class _EpochLog:
    """Appends one CSV row per finished epoch (survives restarts: rows are never rewritten)."""

    def __init__(self, path):
        self.path = path

    def write(self, epoch, logs):
        if not self.path:
            return
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        new = not os.path.exists(self.path)
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["epoch", *sorted(logs)])
            writer.writerow([epoch, *[f"{logs[k]:.6g}" for k in sorted(logs)]])
