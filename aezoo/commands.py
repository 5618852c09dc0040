"""What each ``aezoo`` subcommand does; ``aezoo.cli`` parses the arguments and calls these.

Each ``_cmd_<name>(args)`` returns the exit code; errors are raised and become one line in
``aezoo.cli.main``. Heavy imports happen inside each command, where it needs them.
"""

import os
import sys

from aezoo.io import atomic_write_text  # the one atomic writer (fsync, temp removed on error, UTF-8)


def _print_table(rows, header):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def _cmd_list(args):
    import aezoo

    if args.architectures:
        for name in aezoo.list_architectures(args.pattern):
            print(name)
        return 0
    rows = [(r.name, r.architecture, r.dataset, "-" if r.params is None else f"{r.params:,}",
             r.metric, "-" if r.value is None else f"{r.value:.4g}") for r in aezoo.preset_table(args.pattern)]
    if not rows:
        raise ValueError(f"no preset matches {args.pattern!r}; try 'aezoo list'")
    _print_table(rows, ("preset", "architecture", "dataset", "params", "metric", "value"))
    return 0


def _cmd_show(args):
    import json

    from aezoo import presets

    folder, pinned = presets.resolve(args.preset)
    meta = presets.verify_preset(folder, pinned=pinned)
    if args.json:
        print(json.dumps(meta, indent=2))
        return 0
    print(f"{meta.get('preset', args.preset)}  ({meta.get('architecture')}, {meta.get('parameters', '?'):,} parameters)")
    print(f"  folder:  {folder}")
    if meta.get("converted_from"):
        print(f"  converted from: {meta['converted_from']}   by: {meta.get('recipe') or 'aezoo convert'}")
    else:
        print(f"  dataset: {meta.get('dataset')} ({meta.get('split')} split)   recipe: {meta.get('recipe')}")
    for name, value in (meta.get("metrics") or {}).items():
        print(f"  {name:30s} {value:.4f}" if isinstance(value, float) else f"  {name:30s} {value}")
    for t in meta.get("targets") or []:
        print(f"  target {t['metric']}: {t['value']} ({t['anchor']}) -> {'met' if t['met'] else 'not met'}")
    return 0


def _cmd_demo(args):
    import numpy as np

    from aezoo import presets
    from aezoo.uses import plots

    folder, pinned = presets.resolve(args.preset)  # resolve once: the folder gives model and inputs
    model = presets.load_preset_folder(folder, pinned=pinned)
    inputs = presets.load_demo_inputs(folder)
    if args.input:  # the user's own examples (images: a folder or .npy; series: a .npy or .csv)
        from aezoo.uses.finetune import load_inputs

        inputs, _ = load_inputs(args.input, model.data_shape, _mask_value(model))
    if inputs is None and model.latent_kind == "spatial":  # any size: a real photo (aezoo.data.photos)
        from aezoo.data.photos import photo

        inputs = photo("grace_hopper", 256)[None]
    if inputs is None:
        if not hasattr(model, "sample"):
            raise ValueError(f"{args.preset} has no demo inputs and cannot sample; use 'aezoo eval' instead")
        inputs = model.sample(8, seed=args.seed)
    stored = (model.preset_metadata or {}).get("attribute_vectors") or {}
    attribute = None
    if stored:
        from aezoo.uses.latent import preset_attribute_vector

        name = "Smiling" if "Smiling" in stored else sorted(stored)[0]
        attribute = (name, preset_attribute_vector(model, name))
    plots.demo_figure(model, args.output, np.asarray(inputs), seed=args.seed, title=args.preset,
                      attribute=attribute)
    print(f"wrote {args.output}")
    return 0


def _cmd_eval(args):
    """Every headline metric of the preset, by the recipe's own function; with
    ``--examples N`` equal to the recipe's recorded check, says whether it reproduces."""
    import json

    from aezoo import presets
    from aezoo.evaluation.preset_metrics import measure_preset

    folder, pinned = presets.resolve(args.preset)
    model = presets.load_preset_folder(folder, pinned=pinned)
    meta = model.preset_metadata
    if args.data:
        return _eval_file(model, args)
    if args.dataset:
        meta = {**meta, "dataset": args.dataset}
    if args.nll_samples is not None:
        meta = {**meta, "protocol": {**(meta.get("protocol") or {}), "nll_k": args.nll_samples}}
    model.preset_metadata = meta
    metrics, protocol = measure_preset(model, examples=args.examples, probe_train=args.probe_train)
    print(json.dumps({"metrics": metrics, "protocol": {k: v for k, v in protocol.items() if k != "definitions"}},
                     indent=2, default=float))
    check = meta.get("check") or {}
    same_probe = args.probe_train is not None and check.get("probe_train") == args.probe_train
    if args.examples and check.get("examples") == args.examples and same_probe and not args.dataset:
        import keras

        from aezoo.evaluation.preset_metrics import CHECK_TOLERANCE, CROSS_BACKEND_MARGIN, check_mismatches

        worst = max((abs(metrics[k] - v) / max(abs(v), 1e-12) for k, v in check["metrics"].items()
                     if k in metrics), default=0.0)
        mismatches = check_mismatches(check, metrics, keras.backend.backend())
        verdict = "DOES NOT reproduce" if mismatches else "reproduces"
        margins = [k for k in CROSS_BACKEND_MARGIN if k in check["metrics"]]
        print(f"{verdict} the recipe's recorded check on {args.examples} examples "
              f"(largest relative difference {worst:.2e}, tolerance {CHECK_TOLERANCE:g}"
              + (f"; {', '.join(margins)} within {', '.join(str(CROSS_BACKEND_MARGIN[k]) for k in margins)} "
                 f"on a backend other than the check's ({check.get('backend')})" if margins else "") + ")")
        for key, recorded, measured, allowed in mismatches:
            print(f"  {key}: recorded {recorded:.6g}, measured {measured:.6g} (allowed difference {allowed:.3g})")
        if mismatches:
            return 1
    return 0


def _eval_file(model, args):
    """``aezoo eval PRESET --data FILE``: reconstruction error and anomaly scores of the
    user's examples; flags those above the preset's recorded threshold when it has one."""
    import json

    import numpy as np

    from aezoo.uses.finetune import load_inputs
    from aezoo.uses.latent import anomaly_score

    x, _ = load_inputs(args.data, model.data_shape, _mask_value(model))
    scores = np.asarray(anomaly_score(model, x), np.float64)
    report = {"examples": int(len(x)), "input_shape": [int(d) for d in model.data_shape],
              "mean_score": float(scores.mean()), "max_score": float(scores.max()),
              "most_anomalous": [int(i) for i in np.argsort(-scores)[:5]]}
    threshold = ((model.preset_metadata or {}).get("metrics") or {}).get("threshold")
    if threshold is not None:
        report.update(threshold=float(threshold), flagged=int(np.sum(scores > threshold)),
                      rule="score above the preset's threshold (mean + 1 std of its training scores)")
    print(json.dumps(report, indent=2))
    if args.scores:
        text = "index,score" + ("" if threshold is None else ",anomalous") + "\n" + "".join(
            f"{i},{s:.6g}" + ("" if threshold is None else f",{int(s > threshold)}") + "\n"
            for i, s in enumerate(scores))
        atomic_write_text(args.scores, text)
        print(f"wrote {args.scores}")
    return 0


def _cmd_train(args):
    from aezoo.training.runner import report_json, run_recipe

    report = run_recipe(args.recipe, smoke=args.smoke, out_dir=args.out, checkpoint_dir=args.checkpoint_dir,
                        strategy=args.strategy, epochs=args.epochs, verbose=_train_verbosity(args.quiet),
                        recipes_dirs=args.recipes)
    if args.report:
        atomic_write_text(args.report, report_json(report))
    return 0


def _train_verbosity(quiet):
    """Keras's per-step bar in a terminal; one line per epoch in a log file (nohup)."""
    if quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


def _cmd_push(args):
    from aezoo import presets

    url = presets.push(args.preset, args.repo, revision=args.revision, private=args.private, endpoint=args.endpoint)
    print(f"pushed {args.preset} -> {url}")
    return 0


def _cmd_pull(args):
    from aezoo import presets

    print(presets.pull(args.preset, revision=args.revision, local_dir=args.local_dir))
    return 0


def _cmd_sync(args):
    from aezoo import presets

    status = presets.sync(args.pattern, org=args.org, revision=args.revision, endpoint=args.endpoint,
                      dry_run=args.dry_run)
    for name, what in status.items():
        print(f"{name:24s} {what}")
    return 0


def _cmd_encode(args):
    import aezoo
    from aezoo.uses import latent
    from aezoo.uses.finetune import load_inputs

    model = aezoo.load(args.preset, compile=False)
    x = args.input
    if not os.path.isdir(x):  # folders are resized by extract_features; arrays here
        x, _ = load_inputs(x, model.data_shape, _mask_value(model))
    features = latent.extract_features(model, x, out_path=args.output)
    print(f"wrote {args.output}: {features.shape[0]} x {features.shape[1]} float32 codes "
          f"({'posterior means' if hasattr(model, 'sample') else 'codes'})")
    return 0


def _mask_value(model):
    """The padding value of a masking series model (shorter series are padded with it), else None."""
    return model.mask_value if getattr(model, "masking", False) else None


def _cmd_finetune(args):
    import json

    from aezoo.uses.finetune import finetune

    _, report = finetune(args.preset, args.data, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, freeze_encoder=args.freeze_encoder, out_dir=args.out,
                         seed=args.seed, validation_fraction=args.validation_fraction,
                         max_examples=args.max_examples, verbose=0 if args.quiet else 2, force=args.force)
    report.pop("loss", None)
    print(json.dumps(report, indent=2))
    print(f"mse per pixel {report['mse_before']:.5g} -> {report['mse_after']:.5g}; wrote {report['out_dir']}")
    return 0


def _cmd_convert(args):
    """A checkpoint of another library (diffusers folder, TAESD .pth, hf://...) as a preset folder."""
    import shutil

    from aezoo import presets

    folder, _ = presets.resolve(args.source)  # converted once into aezoo's cache, verified
    meta = presets.verify_preset(folder)
    if not meta.get("converted_from"):
        raise ValueError(f"{args.source} is already an aezoo preset; copy its folder instead of converting it")
    from aezoo.io import staged_dir

    with staged_dir(args.output, owned=presets.is_preset_folder, force=args.force, what="aezoo preset") as tmp:
        for path in folder.iterdir():
            shutil.copy2(path, tmp / path.name)
    print(f"wrote {args.output} ({meta['architecture']}, converted from {meta['converted_from']})")
    return 0


def _cmd_export(args):
    from aezoo.uses.export import export

    out = export(args.preset, args.output, format=args.format, force=args.force)
    print(f"wrote {out} ({args.format}: encoder and decoder, signature 'serving_default')")
    return 0


def _cmd_compress(args):
    from aezoo.uses.codec_files import compress_folder

    files = compress_folder(args.preset, args.input, args.output, force=args.force)
    total = sum(len(data) for _, data in files)
    print(f"wrote {args.output}: {len(files)} files, {total:,} bytes ({args.preset})")
    return 0


def _cmd_decompress(args):
    from aezoo.uses.codec_files import decompress_folder

    images = decompress_folder(args.input, args.output, preset=args.preset, force=args.force)
    print(f"wrote {args.output}: {len(images)} PNG images")
    return 0
