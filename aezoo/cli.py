"""The ``aezoo`` command line: one subcommand per job, errors as one line.

Exit codes: 0 success, 1 a failure while running, 2 bad usage or bad input.
``--debug`` shows the traceback instead of the one-line error.
"""

import argparse
import os
import sys


def _cmd_train(args):
    from aezoo.recipe import report_json, run_recipe

    report = run_recipe(args.recipe, smoke=args.smoke, out_dir=args.out, checkpoint_dir=args.checkpoint_dir,
                        strategy=args.strategy, epochs=args.epochs, verbose=0 if args.quiet else 1)
    if args.report:
        _atomic_write(args.report, report_json(report))
    return 0


def _atomic_write(path, text):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def build_parser():
    parser = argparse.ArgumentParser(prog="aezoo", description="Autoencoders with pretrained weights.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a preset from its recipe and write weights/<preset>/")
    p.add_argument("recipe", help="recipe file or preset name, e.g. recipes/conv_vae_faces.py or conv-vae-faces")
    p.add_argument("--smoke", action="store_true", help="a few batches end to end; writes to a temp folder")
    p.add_argument("--out", help="parent folder of the preset folder (default: the repo's weights/)")
    p.add_argument("--checkpoint-dir", help="checkpoint every epoch here; rerun to resume after a crash")
    p.add_argument("--strategy", choices=["auto", "one", "mirrored", "multiworker"], help="override the recipe's")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--report", help="also write the obtained-vs-target report as JSON here")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as err:
        if args.debug:
            raise
        print(f"aezoo {args.command}: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - one line for users, --debug for developers
        if args.debug:
            raise
        print(f"aezoo {args.command}: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
