"""lstm-ae-ecg's recipe on the UCR archive's own ECG5000 split, beside the tutorial's model.

Trains the preset's architecture and recipe on the normal beats of the archive's 500
training beats (292), scores its 4,500 test beats, and trains TensorFlow's dense
autoencoder the tutorial's way on the same beats, in the same run. Not a preset: the
bundled lstm-ae-ecg follows the tutorial's 80/20 protocol.

    python recipes/experiments/ecg_ucr_split.py -o weights/figures/ecg5000_ucr_split.json
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aezoo.io import atomic_write_text  # noqa: E402
from aezoo.training.recipe import Recipe, load_recipe  # noqa: E402
from aezoo.training.runner import run_recipe  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="ecg5000_ucr_split.json")
    parser.add_argument("--epochs", type=int, help="override the recipe's (its 40 epochs are ~1,500 steps on the "
                                                   "tutorial split's 2,344 beats, 200 on the UCR split's 292)")
    args = parser.parse_args(argv)
    base = load_recipe("lstm-ae-ecg")
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(Recipe)}
    recipe = Recipe(**{**fields, "preset": "lstm-ae-ecg-ucr-split", "dataset": "ecg5000_ucr", "path": __file__,
                       "epochs": args.epochs or base.epochs})
    report = run_recipe(recipe, save=False)
    command = "python recipes/experiments/ecg_ucr_split.py" + (f" --epochs {args.epochs}" if args.epochs else "")
    out = {"command": command, "task": "ecg5000_ucr",
           "metrics": report["metrics"], "protocol": report["protocol"], "training": report["training"]}
    atomic_write_text(args.output, json.dumps(out, indent=2, default=float))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
