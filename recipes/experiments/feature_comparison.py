"""Features for classification: linear probe and fine-tuned accuracy of several presets' encoders.

Run: ``python recipes/experiments/feature_comparison.py masked-ae-fashion conv-ae-fashion
conv-vae-fashion -o weights/figures/feature_comparison_fashion.json``.

Every preset must share one dataset. For each, by the evaluation protocol
(``aezoo.evaluation.PROTOCOL``; 10,000 training images, the whole test split):

- ``linear_probe_accuracy``: a logistic regression on the frozen codes;
- ``finetuned_accuracy``: a copy of the encoder plus a softmax layer, every weight trained;
- ``from_scratch_accuracy``: the same fine-tuning of a freshly initialised copy of the
  same architecture, which is what the pretraining is worth: an encoder that fine-tunes
  no better than its random initialisation has learned nothing a classifier can use.

The raw pixels' linear probe is the row every encoder should beat.
"""

import argparse
import json

import aezoo
from aezoo import data
from aezoo.evaluation.baselines import linear_probe
from aezoo.evaluation.finetuned import finetuned_accuracy
from aezoo.evaluation.protocol import PROTOCOL
from aezoo.io import atomic_write_text
from aezoo.presets import get_preset

PROBE_TRAIN = 10_000


def compare(names, probe_train=PROBE_TRAIN, examples=None, scratch=True):
    """``{"raw pixels": {...}, name: {...}}`` on the presets' shared dataset."""
    datasets = {get_preset(n).dataset for n in names}
    if len(datasets) != 1:
        raise ValueError(f"the presets must share a dataset to be compared; got {sorted(datasets)}")
    dataset = datasets.pop()
    x_train, y_train = data.load_arrays(dataset, "train", with_labels=True)
    x_test, y_test = data.load_arrays(dataset, "test", with_labels=True)
    x_train, y_train = x_train[:probe_train], y_train[:probe_train]
    x_test, y_test = x_test[:examples], y_test[:examples]
    seed = PROTOCOL["linear_probe"]["random_state"]
    rows = {"raw pixels": {"linear_probe_accuracy": linear_probe(x_train, y_train, x_test, y_test, seed=seed)}}
    for name in names:
        model = aezoo.load(name)
        row = {"architecture": model.architecture,
               "linear_probe_accuracy": linear_probe(model.encode(x_train), y_train, model.encode(x_test), y_test,
                                                     seed=seed),
               "finetuned_accuracy": finetuned_accuracy(model, x_train, y_train, x_test, y_test)}
        if scratch:
            fresh = get_preset(name).build()
            row["from_scratch_accuracy"] = finetuned_accuracy(fresh, x_train, y_train, x_test, y_test)
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    return dataset, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="+")
    parser.add_argument("-o", "--output", default="feature_comparison.json")
    parser.add_argument("--examples", type=int, help="first N test images (default: all)")
    parser.add_argument("--no-scratch", action="store_true", help="skip the freshly initialised controls")
    args = parser.parse_args(argv)
    dataset, rows = compare(args.presets, examples=args.examples, scratch=not args.no_scratch)
    command = " ".join(["python recipes/experiments/feature_comparison.py", *args.presets]
                       + ([f"--examples {args.examples}"] if args.examples else [])
                       + (["--no-scratch"] if args.no_scratch else []))
    protocol = {"probe_train": PROBE_TRAIN, "test_examples": args.examples or "all",
                "linear_probe": dict(PROTOCOL["linear_probe"]), "fine_tune": dict(PROTOCOL["fine_tune"])}
    atomic_write_text(args.output, json.dumps({"command": command, "dataset": dataset, "protocol": protocol,
                                               "rows": rows}, indent=2))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
