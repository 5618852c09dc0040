"""Recipes: everything needed to reproduce one preset and its published numbers.

A recipe file in ``recipes/`` declares ``RECIPE = Recipe(preset=...)`` (or ``RECIPES``, a
family of presets that differ in one setting, see ``load_recipe``): how that preset is trained and measured (split, optimiser and schedule, epochs, global batch size, seed,
strategy, and target metrics with a tolerance and the published anchor). What the model
is (architecture, config, dataset, input size) is not restated: ``Recipe`` derives it
from the preset's catalog entry (``aezoo.presets.catalog``), the one place that declares
it, because the catalog ships in the package and the recipes do not. Running one
(training, measuring, writing the preset) is ``aezoo.training.runner``.
"""

import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Target:
    """A metric the recipe should reach: ``value`` +- ``tolerance``, with its source."""

    metric: str
    value: float
    tolerance: float = 0.0
    higher_is_better: bool = False
    anchor: str = ""  # where the number comes from (paper, or "aezoo" for our own bar)
    baseline: str = ""  # a metric measured in the same run: the target is then baseline + value

    def threshold(self, metrics=None):
        """The number to reach: ``value``, or ``metrics[baseline] + value`` for a relative target."""
        if not self.baseline:
            return self.value
        base = (metrics or {}).get(self.baseline)
        return None if base is None else base + self.value

    def met(self, obtained, metrics=None):
        threshold = self.threshold(metrics)
        if obtained is None or threshold is None or not np.isfinite(obtained):
            return False
        if self.higher_is_better:
            return obtained >= threshold - self.tolerance
        return obtained <= threshold + self.tolerance


@dataclass(frozen=True)
class Recipe:
    """How one preset is trained and measured (see module docstring).

    ``architecture``, ``config`` (``input_shape`` included), ``dataset`` and
    ``image_size`` come from ``aezoo.presets.catalog`` when ``preset`` is catalogued:
    the catalog is what ``aezoo.load``, ``from_preset``, ``aezoo list`` and ``aezoo show``
    read in an installed package, where ``recipes/`` does not exist, so it holds the one
    declaration and the recipe adds only training. A value passed anyway must equal the
    catalog's (so ``dataclasses.replace`` and ``asdict`` round-trips work) and a
    different one is an error, never a silent second model. A recipe for a preset that
    is not catalogued (your own, run with ``--recipes DIR``) states architecture, config
    and dataset itself (and image_size where it is not the dataset's default).
    """

    preset: str
    epochs: int
    architecture: str | None = None  # derived from the catalog (see class docstring)
    config: dict | None = None  # derived: the catalog's config plus input_shape
    dataset: str | None = None  # derived from the catalog
    batch_size: int = 128
    learning_rate: float = 1e-3
    schedule: str = "cosine"  # "constant" or "cosine" decay to 0 over the run
    warmup_epochs: float = 0.0  # linear learning-rate warm-up from 0 before the cosine decay
    weight_decay: float = 0.0  # decoupled weight decay (AdamW) when > 0, else Adam
    seed: int = 0
    strategy: str = "auto"
    image_size: int | None = None  # derived: the model's input size, None where it is the dataset's default
    binarize: bool = False  # dynamic binarisation in training, fixed seeded one at test
    shift_augment: int = 0  # move training images by up to this many pixels per axis, fresh every batch
    flip_augment: bool = False  # mirror half the training images left to right, fresh every batch (faces)
    validation_fraction: float = 0.0
    train_subset: int | None = None
    nll_samples: int = 0  # importance samples for the NLL estimate (0 = skip)
    nll_examples: int | None = None  # test examples for the NLL (None = all)
    eval_examples: int | None = None  # test examples for the other metrics (None = all)
    denoising_eval: bool = False  # also report PSNR of corrupted vs denoised test images
    finetune_eval: bool = False  # also report the fine-tuned accuracy of the encoder (evaluation.finetuned)
    init_from: str | None = None  # a preset whose encoder and decoder weights start training (same layers)
    fit_latent_prior: bool = False  # VAEs: fit a Gaussian to the training codes, shipped and sampled by default
    sample_eval: bool = False  # VAEs: Fréchet distance of samples to test images (evaluation.samples)
    targets: tuple = ()
    description: str = ""
    demo_inputs: str = "samples"  # "test" (first test images), "faces" (data.demo_faces) or "samples"
    attribute_vectors: tuple = ()  # label names (CelebA attributes) to store "smile vectors" for
    attribute_examples: int = 20  # training examples with and without each attribute (the seeds use 20)
    notes: str = ""
    path: str = field(default="", compare=False)

    def __post_init__(self):
        from aezoo.presets import catalog

        spec = catalog.PRESETS.get(self.preset)
        if spec is None:
            missing = [k for k in ("architecture", "config", "dataset") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"Recipe for {self.preset!r}: not a catalogued preset (aezoo.list_presets()), "
                                 f"so it must state {', '.join(missing)}; or add a PresetSpec to "
                                 "aezoo/presets/catalog.py and state none of them")
            return
        for key, value in _model_fields(spec).items():
            given = getattr(self, key)
            same_size = key == "image_size" and given == spec.image_shape[0]  # 28 on MNIST is its default
            if given is not None and _plain(given) != _plain(value) and not same_size:
                raise ValueError(f"Recipe for {self.preset!r} says {key}={given!r}, but aezoo/presets/catalog.py "
                                 f"declares {value!r}: the catalog declares the model, leave {key} out of the recipe")
            object.__setattr__(self, key, value)

    def optimizer(self, learning_rate):
        """Adam, or AdamW with ``weight_decay`` (decoupled: each step shrinks weights by lr * wd)."""
        import keras

        if self.weight_decay:
            return keras.optimizers.AdamW(learning_rate, weight_decay=self.weight_decay)
        return keras.optimizers.Adam(learning_rate)

    def steps_per_epoch(self, n_train):
        return int(np.ceil(n_train / self.batch_size))

    def learning_rate_schedule(self, n_train=None):
        import keras

        if self.schedule == "constant" or n_train is None:
            return self.learning_rate
        steps = self.steps_per_epoch(n_train)
        warmup = min(int(round(self.warmup_epochs * steps)), self.epochs * steps // 2)  # short runs: half
        total = self.epochs * steps - warmup
        if warmup:
            return keras.optimizers.schedules.CosineDecay(0.0, total, alpha=0.01, warmup_target=self.learning_rate,
                                                          warmup_steps=warmup)
        return keras.optimizers.schedules.CosineDecay(self.learning_rate, total, alpha=0.01)


def _model_fields(spec):
    """The recipe fields a catalog entry determines: what to build and which data feeds it."""
    from aezoo.data.catalog import DATASETS

    size = spec.image_shape[0]
    default = DATASETS[spec.dataset].image_shape[0] if spec.dataset in DATASETS else None
    return {"architecture": spec.architecture, "config": dict(spec.model_config()), "dataset": spec.dataset,
            "image_size": None if size == default else size}


def _plain(value):
    """``value`` with tuples as lists, so a config read back from JSON compares equal."""
    return json.loads(json.dumps(value, default=dict))


# ------------------------------------------------------------------ finding
def recipe_dirs(extra=()):
    """Where recipes are looked up by name, in order: ``extra`` folders (``--recipes``),
    ``$AEZOO_RECIPES``, ``./recipes``, and the ``recipes/`` of a source checkout."""
    dirs = [Path(d).expanduser() for d in extra if d]
    dirs += [Path(d).expanduser() for d in os.environ.get("AEZOO_RECIPES", "").split(os.pathsep) if d]
    dirs += [Path.cwd() / "recipes", REPO_ROOT / "recipes"]
    unique = []
    for d in dirs:
        if d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def list_recipes(extra=()):
    """Recipe files by stem (``conv_vae_faces``), first folder of ``recipe_dirs`` wins."""
    found = {}
    for folder in recipe_dirs(extra):
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            if not path.name.startswith("_"):
                found.setdefault(path.stem, path)
    return found


def load_recipe(name_or_path, recipes_dirs=()):
    """A ``Recipe`` from a file path or a preset name (``conv-vae-faces``).

    A recipe file may declare a family of presets that differ in one setting, as
    ``RECIPES = (Recipe(preset="hyperprior-codec-faces-q1", ...), ...)`` instead of one
    ``RECIPE`` (the codecs: one preset per rate). A member is named by its preset,
    ``{file stem}-{tag}`` (``hyperprior-codec-faces-q3``), or as ``path::preset``.
    """
    text = str(name_or_path)
    member = None
    if "::" in text:
        text, member = text.rsplit("::", 1)
    path = Path(text)
    if not path.is_file():
        recipes = list_recipes(recipes_dirs)
        stem = text.replace("-", "_").removesuffix(".py")
        if stem not in recipes and "_" in stem and stem.rsplit("_", 1)[0] in recipes:
            member, stem = text.removesuffix(".py"), stem.rsplit("_", 1)[0]  # a member of a family file
        if stem not in recipes:
            from aezoo.models.registry import unknown_name_error

            if not recipes:
                searched = ", ".join(str(d) for d in recipe_dirs(recipes_dirs))
                raise ValueError(f"No recipe named {text!r}: no recipe files in {searched}. Recipes "
                                 "live in the aezoo repository's recipes/ folder: pass --recipes DIR (or set "
                                 "AEZOO_RECIPES) to a copy of it, or give the recipe file's path.")
            raise unknown_name_error("recipe", name_or_path, [s.replace("_", "-") for s in recipes])
        path = recipes[stem]
    declared = _declared_recipes(path)
    if member is None and len(declared) > 1:
        raise ValueError(f"{path} declares the presets {', '.join(declared)}: name one, e.g. "
                         f"`aezoo train {next(iter(declared))}`")
    if member is not None and member not in declared:
        raise ValueError(f"{path} declares no preset {member!r}; it declares {', '.join(declared)}")
    recipe = declared[member] if member is not None else next(iter(declared.values()))
    return Recipe(**{**{k: getattr(recipe, k) for k in recipe.__dataclass_fields__}, "path": str(path)})


def _declared_recipes(path):
    """``{preset: Recipe}`` of a recipe file: its ``RECIPE``, or every member of ``RECIPES``."""
    spec = importlib.util.spec_from_file_location(f"aezoo_recipe_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recipes = getattr(module, "RECIPES", None)
    if recipes is None:
        recipes = (getattr(module, "RECIPE", None),)
    if not recipes or not all(isinstance(r, Recipe) for r in recipes):
        raise ValueError(f"{path} must define RECIPE = aezoo.training.recipe.Recipe(...) "
                         "(or RECIPES, a tuple of them for a family of presets)")
    prefix = path.stem.replace("_", "-") + "-"
    if len(recipes) > 1 and not all(r.preset.startswith(prefix) for r in recipes):
        raise ValueError(f"{path}: a family's presets are named {prefix}<tag>, got "
                         f"{', '.join(r.preset for r in recipes)}")
    return {r.preset: r for r in recipes}


def list_recipe_presets(extra=()):
    """Every preset a recipe file declares, ``{preset: recipe file}`` (families expanded)."""
    out = {}
    for stem, path in list_recipes(extra).items():
        for preset in _declared_recipes(path):
            out.setdefault(preset, path)
    return out
