"""README's series figure: KDD-TSAD 135's test series over conv1d-ae-kdd135's reconstruction,
the per-step anomaly score beneath, the labelled anomaly shaded.

    python recipes/experiments/series_figure.py -o weights/figures/kdd135_scores.png
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aezoo  # noqa: E402
from aezoo.data.sequences import load_sequences  # noqa: E402
from aezoo.uses.series import step_scores  # noqa: E402
from aezoo.uses.series_plots import series_scores_figure  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="kdd135_scores.png")
    parser.add_argument("--preset", default="conv1d-ae-kdd135")
    args = parser.parse_args(argv)
    model = aezoo.load(args.preset)
    test = load_sequences("kdd_tsad_135", "test")
    reconstruction, score = step_scores(model, test.x)
    where = np.flatnonzero(test.anomaly)
    top = int(np.nanargmax(score))
    series_scores_figure(test.x, reconstruction, score, args.output, anomaly=test.anomaly,
                         zoom=(int(where.min()) - 300, int(where.max()) + 300),
                         title=f"{args.preset} on KDD-TSAD 135: highest step score at {top}, labelled anomaly "
                               f"{where.min()}-{where.max()}")
    print(f"wrote {args.output}; highest per-step score at step {top}")


if __name__ == "__main__":
    main()
