"""The ``aezoo`` command line: one subcommand per job, errors as one line.

Exit codes: 0 success, 1 a failure while running, 2 bad usage or bad input.
``--debug`` shows the traceback instead of the one-line error.
"""

import argparse
import sys

from aezoo.commands import (_cmd_compress, _cmd_convert, _cmd_decompress, _cmd_demo, _cmd_encode, _cmd_eval,
                            _cmd_export, _cmd_finetune, _cmd_list, _cmd_pull, _cmd_push, _cmd_show,
                            _cmd_sync, _cmd_train)


def build_parser():
    parser = argparse.ArgumentParser(prog="aezoo", description="Autoencoders with pretrained weights.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list presets (or architectures) matching a wildcard")
    p.add_argument("pattern", nargs="?", default="*", help='e.g. "*vae*"')
    p.add_argument("--architectures", action="store_true", help="list architectures instead of presets")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("show", help="a preset's metadata: metrics, targets, recipe, checksums verified")
    p.add_argument("preset", help="preset name, hf://org/repo or folder")
    p.add_argument("--json", action="store_true", help="print metadata.json")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("demo", help="one figure: inputs and reconstructions, samples, an interpolation")
    p.add_argument("preset", nargs="?", default="conv-vae-faces")
    p.add_argument("-o", "--output", default="demo.png")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--input", help="your own examples instead of the bundled ones: a folder of images or a .npy "
                                   "array; for a series preset a .npy or .csv of series")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("eval", help="evaluate a preset on its dataset's test split (fixed protocol)")
    p.add_argument("preset")
    p.add_argument("--dataset", help="another aezoo dataset name with the same input shape")
    p.add_argument("--data", help="score your own file instead: a .npy array (images or series) or a .csv of "
                                  "series; prints reconstruction error and anomaly scores")
    p.add_argument("--scores", help="with --data: also write each example's anomaly score here (.csv)")
    p.add_argument("--examples", type=int, help="first N test examples (default: all)")
    p.add_argument("--nll-samples", type=int, help="importance samples for the NLL (default: the recipe's k)")
    p.add_argument("--probe-train", type=int, help="training examples for the PCA baseline and probes "
                   "(default: the recipe's, 10,000)")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("train", help="train a preset from its recipe and write weights/<preset>/")
    p.add_argument("recipe", help="recipe file or preset name, e.g. recipes/conv_vae_faces.py or conv-vae-faces")
    p.add_argument("--smoke", action="store_true", help="a few batches end to end; writes to a temp folder")
    p.add_argument("--out", help="parent folder of the preset folder (default: ./weights)")
    p.add_argument("--recipes", action="append", default=[], metavar="DIR",
                   help="also look up recipe names here (default: $AEZOO_RECIPES, ./recipes, the checkout's)")
    p.add_argument("--checkpoint-dir", help="checkpoint every epoch here; rerun to resume after a crash")
    p.add_argument("--strategy", choices=["auto", "one", "mirrored", "multiworker"], help="override the recipe's")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--report", help="also write the obtained-vs-target report as JSON here")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("push", help="upload a preset folder to the Hugging Face Hub")
    p.add_argument("preset", help="preset name or folder")
    p.add_argument("--repo", help="org/name (default: the preset's hf_repo)")
    p.add_argument("--revision", help="branch to push to")
    p.add_argument("--private", action="store_true")
    p.add_argument("--endpoint", help="Hub endpoint (default: HF_ENDPOINT or huggingface.co)")
    p.set_defaults(func=_cmd_push)

    p = sub.add_parser("pull", help="download a preset from the Hub into the local cache")
    p.add_argument("preset", help="preset name or org/repo")
    p.add_argument("--revision")
    p.add_argument("--local-dir")
    p.set_defaults(func=_cmd_pull)

    p = sub.add_parser("sync", help="upload the presets whose checksums differ from the Hub's")
    p.add_argument("pattern", nargs="?", default="*")
    p.add_argument("--org", default="aezoo")
    p.add_argument("--revision")
    p.add_argument("--endpoint")
    p.add_argument("--dry-run", action="store_true", help="say what would be uploaded")
    p.set_defaults(func=_cmd_sync)

    p = sub.add_parser("encode", help="latent codes of a folder of images or a .npy array, saved as .npy")
    p.add_argument("preset", help="preset name, hf://org/repo or folder")
    p.add_argument("input", help="folder of images (resized to the model's input) or a .npy array of images")
    p.add_argument("-o", "--output", default="features.npy", help="where to write the (n, latent_dim) codes")
    p.set_defaults(func=_cmd_encode)

    p = sub.add_parser("finetune", help="fine-tune a preset on your data and save it as a new preset folder")
    p.add_argument("preset", help="preset name, hf://org/repo or folder")
    p.add_argument("--data", required=True, help="folder of images, a .npy array, or an aezoo dataset name")
    p.add_argument("--out", required=True, help="the new preset folder (its name is the new preset's name)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--freeze-encoder", action="store_true", help="train the decoder only")
    p.add_argument("--validation-fraction", type=float, default=0.0, help="hold out this fraction and report it")
    p.add_argument("--max-examples", type=int, help="use only the first N examples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--force", action="store_true",
                   help="replace --out even if it is a folder aezoo did not write (never one holding --data)")
    p.set_defaults(func=_cmd_finetune)

    p = sub.add_parser("convert", help="convert a checkpoint of another library into an aezoo preset folder")
    p.add_argument("source", help="a diffusers model folder, a TAESD <variant>_encoder.pth (its _decoder.pth beside "
                                  "it), or hf://org/repo[/subfolder][@revision]")
    p.add_argument("-o", "--output", required=True, help="the preset folder to write")
    p.add_argument("--force", action="store_true", help="replace --output even if aezoo did not write it")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("export", help="export the encoder and the decoder for serving (TensorFlow only)")
    p.add_argument("preset", help="preset name, hf://org/repo or folder")
    p.add_argument("--format", choices=["savedmodel", "tflite", "onnx"], default="savedmodel",
                   help="SavedModel folders, .tflite (LiteRT) files or .onnx files (onnx: pip install \"aezoo[export]\")")
    p.add_argument("-o", "--output", required=True, help="folder to write encoder and decoder into")
    p.add_argument("--force", action="store_true", help="replace --output even if aezoo did not write it")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("compress", help="compress a folder of images with a codec preset into .aezc files")
    p.add_argument("preset", help="codec preset name, hf://org/repo or folder (e.g. hyperprior-codec-faces-q3)")
    p.add_argument("input", help="folder of images (jpg/png, any size; searched recursively)")
    p.add_argument("-o", "--output", required=True, help="folder to write <name>.aezc files into")
    p.add_argument("--force", action="store_true", help="replace --output even if aezoo did not write it")
    p.set_defaults(func=_cmd_compress)

    p = sub.add_parser("decompress", help="decode .aezc files (a folder or one file) into PNG images")
    p.add_argument("input", help="folder of .aezc files, or one file")
    p.add_argument("-o", "--output", required=True, help="folder to write <name>.png files into")
    p.add_argument("--preset", help="load the codec from here instead of the preset the files name (a preset "
                                    "folder outside aezoo's catalog)")
    p.add_argument("--force", action="store_true", help="replace --output even if aezoo did not write it")
    p.set_defaults(func=_cmd_decompress)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as err:  # ConversionError and NotOursError are ValueErrors
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
