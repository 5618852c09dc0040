"""Running a recipe: train it, measure it, write the preset folder with its provenance.

``run_recipe`` trains a ``Recipe`` through ``aezoo.training``, evaluates it with the
same function as ``aezoo eval`` (``aezoo.evaluation.preset_metrics``), prints obtained
vs target, records a reproducibility check and writes ``weights/<preset>/``
atomically, with where, how and from which commit it was trained.
"""

import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from aezoo.training.recipe import REPO_ROOT, Recipe, load_recipe

# ------------------------------------------------------------------ running
def _train_data(recipe, smoke):
    from aezoo import data
    from aezoo.data.sequence_tasks import is_task, load_task

    if is_task(recipe.dataset):  # a sequence preset: its task's protocol says which examples train
        x_train, y_train = load_task(recipe.dataset, "train")
    else:
        x_train, y_train = data.load_arrays(recipe.dataset, "train", recipe.image_size, with_labels=True)
    x_val = None
    if recipe.validation_fraction:
        (x_train, y_train), (x_val, _) = data.split_validation(x_train, y_train, recipe.validation_fraction,
                                                               recipe.seed)
    limit = 256 if smoke else recipe.train_subset
    if limit:
        x_train = x_train[:limit]
        y_train = {k: v[:limit] for k, v in y_train.items()} if isinstance(y_train, dict) else (
            None if y_train is None else y_train[:limit])
        x_val = None if x_val is None else x_val[:limit]
    return x_train, y_train, x_val


def _training_batches(x_train, recipe, y_train=None):
    """``tf.data`` on TensorFlow (what tf.distribute shards); numpy batches on JAX/PyTorch."""
    import keras

    from aezoo import data

    options = {"labels": y_train, "num_classes": recipe.config["num_classes"]} if (
        "num_classes" in recipe.config) else {}
    if len(recipe.config["input_shape"]) == 2:  # (timesteps, channels): real-valued series
        options["real"] = True
    if recipe.shift_augment:
        options["shift"] = recipe.shift_augment
    if recipe.flip_augment:
        options["flip"] = True
    if keras.backend.backend() == "tensorflow":
        return data.dataset(x_train, batch_size=recipe.batch_size, seed=recipe.seed, binarize=recipe.binarize,
                            **options)
    return data.batches(x_train, batch_size=recipe.batch_size, seed=recipe.seed, binarize=recipe.binarize,
                        **options)


def _backend():
    """The Keras backend now in use (recorded with a check: training-based metrics depend on it)."""
    import keras

    return keras.backend.backend()


def _validation_batches(x_val, recipe):
    """The held-out examples in fixed order (binarised once, with the protocol's seed, for Bernoulli models)."""
    import keras

    from aezoo import data

    if recipe.binarize:
        from aezoo.evaluation.preset_metrics import protocol_seed

        x_val = data.binarize(x_val, seed=protocol_seed())
    real = len(recipe.config["input_shape"]) == 2
    if keras.backend.backend() == "tensorflow":
        return data.dataset(x_val, batch_size=recipe.batch_size, shuffle=False, real=real)
    return data.batches(x_val, batch_size=recipe.batch_size, shuffle=False, real=real)


def run_recipe(recipe, *, smoke=False, out_dir=None, checkpoint_dir=None, strategy=None, epochs=None,
               verbose=1, save=True, recipes_dirs=(), return_model=False):
    """Train, evaluate and (unless ``save=False``) write the preset. Returns a result dict
    (with the trained model as ``"model"`` when ``return_model``).

    ``smoke=True`` trains 1 epoch of 2 steps on 256 examples and evaluates on 64, to
    check the recipe end to end in seconds; its preset goes to a temp folder.
    """

    from aezoo import presets
    from aezoo.training import logged_final_loss, logged_seconds, train

    if isinstance(recipe, (str, os.PathLike)):
        recipe = load_recipe(recipe, recipes_dirs)
    _check_model_options(recipe)
    x_train, y_train, x_val = _train_data(recipe, smoke)
    epochs = 1 if smoke else (epochs or recipe.epochs)
    steps = 2 if smoke else None
    ds = _training_batches(x_train, recipe, y_train)
    # held-out examples (validation_fraction): their loss is logged every epoch (epochs.csv), to see overfitting
    val = None if x_val is None or "num_classes" in recipe.config else _validation_batches(x_val, recipe)

    def build():
        import aezoo

        model = aezoo.build(recipe.architecture, **recipe.config)
        if getattr(model, "standardize", False):  # series models keep the training data's scaling
            model.adapt_scaling(x_train)
        if recipe.init_from:  # warm start; a checkpoint, when resuming, replaces these weights afterwards
            initialise_from_preset(model, recipe.init_from)
        schedule = Recipe(**{**asdict(recipe), "epochs": epochs}).learning_rate_schedule(len(x_train))
        model.compile(optimizer=recipe.optimizer(schedule))
        return model

    result = train(build, ds, epochs=epochs, batch_size=recipe.batch_size, strategy=strategy or recipe.strategy,
                   validation_data=val, checkpoint_dir=checkpoint_dir, seed=recipe.seed, steps_per_epoch=steps,
                   verbose=verbose)
    model = result.model
    if not result.is_chief:
        return {"preset": recipe.preset, "chief": False}
    if recipe.fit_latent_prior:  # before evaluation: the sample metrics and the saved preset use it
        model.fit_latent_prior(x_train)
    if getattr(model, "is_codec", False):  # fit ends with it; a resumed finished run or the custom loop did not
        model.update()  # quantiles and coding tables, saved with the weights

    # ---- evaluation, fixed protocol (aezoo.evaluation.PROTOCOL), the same function as `aezoo eval`
    from aezoo.evaluation.preset_metrics import CHECK_EXAMPLES, CHECK_PROBE_TRAIN, check_command, measure

    t0 = time.time()
    settings = dict(image_size=recipe.image_size, binarized=recipe.binarize,
                    nll_samples=(min(recipe.nll_samples, 10) if smoke else recipe.nll_samples),
                    nll_examples=(16 if smoke else recipe.nll_examples), denoising=recipe.denoising_eval,
                    finetune=recipe.finetune_eval, samples=recipe.sample_eval,
                    probe_train=512 if smoke else min(len(x_train), 10_000), x_train=x_train, y_train=y_train)
    metrics, protocol = measure(model, recipe.dataset, examples=64 if smoke else recipe.eval_examples, **settings)
    # the reproducibility check: `aezoo eval <preset> --examples N` must print these numbers again
    check_n, check_probe = (32, 512) if smoke else (CHECK_EXAMPLES, CHECK_PROBE_TRAIN)
    check_probe = min(check_probe, len(x_train))
    check_metrics, _ = measure(model, recipe.dataset, examples=check_n, **{**settings, "probe_train": check_probe})
    check = {"examples": check_n, "probe_train": check_probe, "metrics": check_metrics,
             "command": check_command(recipe.preset, check_n, check_probe), "backend": _backend()}
    eval_seconds = time.time() - t0

    report = {
        "preset": recipe.preset, "recipe": _relative(recipe.path), "metrics": metrics, "protocol": protocol,
        "targets": [dict(asdict(t), threshold=t.threshold(metrics), obtained=metrics.get(t.metric),
                         met=t.met(metrics.get(t.metric), metrics)) for t in recipe.targets],
        "training": {"epochs": result.epochs_run if not checkpoint_dir else epochs, "strategy": result.strategy,
                     "replicas": result.replicas,
                     "seconds": round(logged_seconds(checkpoint_dir) or result.seconds, 1),
                     **provenance(),
                     "batch_size": recipe.batch_size, "train_examples": int(len(x_train)),
                     **({"init_from": recipe.init_from} if recipe.init_from else {}),
                     "final_loss": (float(result.history["loss"][-1]) if result.history.get("loss")
                                    else logged_final_loss(checkpoint_dir)),
                     "smoke": smoke},
        "eval_seconds": round(eval_seconds, 1),
    }
    if verbose:
        print(format_report(report), flush=True)
    if save:
        folder = Path(out_dir or default_out_dir(smoke)) / recipe.preset
        demo = _demo_inputs(model, recipe)
        vectors = attribute_vectors(model, x_train, y_train, recipe.attribute_vectors, recipe.attribute_examples,
                                    recipe.seed)
        presets.save_preset(model, folder, preset=recipe.preset, demo_inputs=demo, metadata={
            "architecture": recipe.architecture, "recipe": _relative(recipe.path),
            **recipe_provenance(recipe.path), "dataset": recipe.dataset, "split": "test",
            "image_size": recipe.image_size, "metrics": metrics, "protocol": protocol,
            "targets": report["targets"], "training": report["training"], "description": recipe.description,
            "notes": recipe.notes, "check": check, **({"attribute_vectors": vectors} if vectors else {}),
        })
        report["folder"] = str(folder)
    if return_model:
        report["model"] = model
    return report


def _check_model_options(recipe):
    """Refuse, before any training, recipe options the architecture cannot honour."""
    from aezoo.models.registry import get_architecture

    cls = get_architecture(recipe.architecture)
    for option in ("fit_latent_prior", "sample_eval"):
        if getattr(recipe, option) and not getattr(cls, "supports_latent_prior", False):
            raise ValueError(f"Recipe for {recipe.preset!r}: {option}=True needs a VAE that samples from a prior "
                             f"over its codes (dense-vae, conv-vae, ...); {recipe.architecture!r} does not")


def initialise_from_preset(model, preset):
    """Copy a preset's encoder and decoder weights into ``model`` (a recipe's ``init_from``):
    e.g. an IWAE started from the VAE of the same layers. A mismatch names both shapes."""
    import aezoo

    source = aezoo.load(preset, compile=False)
    for key in ("latent_dim", "activation", "likelihood", "observation_sigma", "learn_sigma", "hidden_units",
                "filters", "residual_blocks"):
        ours, theirs = getattr(model, key, None), getattr(source, key, None)
        if ours is not None and theirs is not None and ours != theirs:
            raise ValueError(f"init_from={preset!r}: it has {key}={theirs!r}, this model {key}={ours!r}; "
                             "init_from needs a preset with the same layers")
    parts = ["encoder", "decoder"] + (["likelihood_loss"] if getattr(model, "likelihood_loss", None) else [])
    for part in parts:
        ours, theirs = getattr(model, part), getattr(source, part)
        want = [tuple(w.shape) for w in ours.weights]
        got = [tuple(w.shape) for w in theirs.weights]
        if want != got:
            raise ValueError(f"init_from={preset!r}: its {part} has weights {got}, this model's {part} {want}; "
                             "init_from needs a preset with the same layers")
        ours.set_weights(theirs.get_weights())


def default_out_dir(smoke=False):
    """Where a recipe writes its preset folder unless told: ``./weights`` of the folder the
    user runs from (a checkout's own weights/ when run there), never the installed
    package; smoke runs go to a fresh temp folder."""
    return Path(tempfile.mkdtemp(prefix="aezoo-smoke-")) if smoke else Path.cwd() / "weights"


def recipe_provenance(path):
    """The recipe file's sha256 and the git commit of its checkout, with whether the
    checkout had uncommitted changes (``recipe_git_sha`` ends in ``+dirty`` then).

    Changes under the top-level ``weights/`` do not count: that is where trainings write
    their presets, so a second recipe run in the same checkout would otherwise be marked
    dirty by the first one's output."""
    import hashlib
    import subprocess

    path = Path(path).resolve()
    info = {"recipe_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "recipe_git_sha": None,
            "git_dirty": None}
    git = ["git", "--no-optional-locks", "-C", str(path.parent)]
    try:
        sha = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no", "--", ":(top)",
                                      ":(top,exclude)weights"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return info  # not a git checkout: the recipe's sha256 still names it exactly
    info["git_dirty"] = bool(dirty.stdout.strip())
    info["recipe_git_sha"] = sha.stdout.strip() + ("+dirty" if info["git_dirty"] else "")
    return info


def provenance():
    """Where and how a run happened: device, backend, versions and the exact command."""
    import platform
    import shlex
    import sys

    import keras

    info = {"backend": keras.backend.backend(), "keras": keras.__version__,
            "command": " ".join(shlex.quote(a) for a in [
                "aezoo" if sys.argv[0].endswith(("aezoo", "cli.py")) else sys.argv[0], *sys.argv[1:]]),
            "host_cpus": os.cpu_count(), "platform": platform.platform()}
    devices = []
    if info["backend"] == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
        devices = [d.device_type for d in tf.config.list_logical_devices()]
    elif info["backend"] == "jax":
        import jax

        info["jax"] = jax.__version__
        devices = [d.device_kind for d in jax.devices()]
    info["device"] = (f"{len(devices)}x {devices[-1]}" if devices else "cpu") + f", {os.cpu_count()} CPU cores"
    return info


def attribute_vectors(model, x_train, y_train, names, per_group, seed):
    """``{name: {"vector": [...], "examples": n, ...}}``: mean code of ``per_group`` random
    training examples with each attribute minus that of ``per_group`` without it (the
    seeds' smile vector), stored in the preset so users need no CelebA to apply them."""
    from aezoo.uses import latent

    if not names:
        return {}
    if not isinstance(y_train, dict) or any(n not in y_train for n in names):
        known = sorted(y_train) if isinstance(y_train, dict) else []
        raise ValueError(f"attribute_vectors {list(names)} need those labels in the training data; it has {known}")
    rng = np.random.default_rng(seed)
    out = {}
    for name in names:
        has = np.flatnonzero(np.asarray(y_train[name]) == 1)
        lacks = np.flatnonzero(np.asarray(y_train[name]) == 0)
        n = min(per_group, len(has), len(lacks))
        pick_has, pick_lacks = rng.choice(has, n, replace=False), rng.choice(lacks, n, replace=False)
        vector = latent.attribute_vector(model, x_train[np.sort(pick_has)], x_train[np.sort(pick_lacks)])
        out[name] = {"vector": [round(float(v), 6) for v in vector], "examples_each": int(n),
                     "how": f"mean code of {n} training faces with {name} minus {n} without, "
                            f"drawn with numpy default_rng({seed})"}
    return out


def _demo_inputs(model, recipe):
    """Demo inputs never come from CelebA/UTKFace: for those, redistributable faces or samples."""
    if recipe.demo_inputs == "test":
        from aezoo import data
        from aezoo.data.sequence_tasks import demo_examples, is_task

        if is_task(recipe.dataset):
            return demo_examples(recipe.dataset)
        return data.load_arrays(recipe.dataset, "test", recipe.image_size)[:8]
    if recipe.demo_inputs == "faces":
        from aezoo import data

        return data.demo_faces(model.data_shape[0])[0]
    if hasattr(model, "sample"):
        return model.sample(8, seed=0).astype("float32")
    return None


def _relative(path):
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def format_report(report):
    """Obtained vs target, one line each: what a recipe run prints at the end."""
    lines = [f"== {report['preset']} ({report['training']['epochs']} epochs, {report['training']['strategy']}, "
             f"{report['training']['seconds']}s)"]
    for name, value in report["metrics"].items():
        lines.append(f"  {name:32s} {value:.4f}" if isinstance(value, float) else f"  {name:32s} {value}")
    for t in report["targets"]:
        obtained = t["obtained"]
        shown = "n/a" if obtained is None else f"{obtained:.4f}"
        sign = ">=" if t["higher_is_better"] else "<="
        bar = f"{t['threshold']:.4g}" if t.get("threshold") is not None else "n/a"
        if t.get("baseline"):
            bar += f" ({t['baseline']} + {t['value']:g})"
        lines.append(f"  target {t['metric']}: obtained {shown} vs {sign} {bar} +- {t['tolerance']} "
                     f"[{'met' if t['met'] else 'NOT met'}] {t['anchor']}")
    return "\n".join(lines)


def report_json(report):
    return json.dumps(report, indent=2, default=float)


def record_check(folder, examples=None):
    """Add the reproducibility check (``metadata["check"]``) to a preset written before
    recipes recorded one: the same ``measure`` on the first N test examples, from the
    bundled weights, rewritten atomically with its card."""
    from aezoo import presets
    from aezoo.evaluation.preset_metrics import CHECK_EXAMPLES, CHECK_PROBE_TRAIN, check_command, measure_preset

    examples = examples or CHECK_EXAMPLES
    model = presets.load_preset_folder(folder)
    metrics, _ = measure_preset(model, examples=examples, probe_train=CHECK_PROBE_TRAIN)
    name = model.preset_metadata.get("preset", Path(folder).name)
    check = {"examples": examples, "probe_train": CHECK_PROBE_TRAIN, "metrics": metrics,
             "command": check_command(name, examples, CHECK_PROBE_TRAIN),
             "recorded": "after training, from the saved weights", "backend": _backend()}
    presets.folder.rewrite_preset(folder, {"check": check})
    return check
