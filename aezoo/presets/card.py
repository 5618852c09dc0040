"""The model card (README.md of a preset folder): Hugging Face YAML header, data licence,
metrics table, how to load."""

import json


# ----------------------------------------------------------------------- card
#: Hugging Face dataset ids for the ``datasets:`` field of the card
HF_DATASET_IDS = {"mnist": "ylecun/mnist", "fashion_mnist": "zalando-datasets/fashion_mnist"}


def model_card(metadata, repo_id=None):
    """README.md text for a preset: Hugging Face YAML header, usage, metrics, how to
    reproduce, and the data's terms (non-commercial research only for CelebA/UTKFace).
    Weights converted from elsewhere (``converted_from``) get their own card: source,
    licence, proof of equality (``aezoo.convert.card``)."""
    if metadata.get("converted_from"):
        from aezoo.convert.card import converted_card

        return converted_card(metadata)
    m = metadata
    preset, arch = m.get("preset", "model"), m.get("architecture", "autoencoder")
    repo_id = repo_id or m.get("hf_repo") or f"aezoo/{preset}"
    info = _dataset_info(m.get("dataset"))
    series = _sequence_info(m.get("dataset"))
    restricted = info is not None and not info.commercial_use
    header = {"library_name": "keras", "license": m.get("license") or ("other" if restricted else "apache-2.0")}
    if header["license"] == "other":
        default_name = "no-license-stated" if series else f"{info.name if info else 'data'}-research-only"
        header["license_name"] = m.get("license_name") or default_name
        header.update({"license_link": m["license_link"]} if m.get("license_link") else {})
    header["tags"] = ["aezoo", "autoencoder", arch]
    if m.get("dataset"):
        header["datasets"] = [HF_DATASET_IDS.get(info.name if info else m["dataset"], m["dataset"])]
    yaml = "\n".join(f"{k}: {json.dumps(v)}" for k, v in header.items())  # JSON scalars/lists are YAML
    shape = list(m.get("input_shape", []))
    recipe, sha = m.get("recipe"), m.get("recipe_git_sha")
    backend = (m.get("training") or {}).get("backend") or m.get("backend")  # the trainer's, else the saver's
    command = m.get("reproduce") or (f"{_backend_env(backend)}aezoo train {preset}  # the recipe: {recipe}"
                                     if recipe else None)
    checkout = f"git checkout {sha.removesuffix('+dirty')}\n" if sha else ""
    parts = [
        f"---\n{yaml}\n---\n\n# {preset}\n",
        (m.get("description") or f"A `{arch}` autoencoder from aezoo.") + "\n",
        "## Usage\n",
        f'```python\nimport aezoo\n\nmodel = aezoo.load("{preset}")  # bundled, cached, or hf://{repo_id}\n'
        + (f"x_hat = model.reconstruct(x)  # x: raw series, float32 (n, {', '.join(map(str, shape))}); scaled inside\n"
           "z = model.encode(x)\nscores = model.reconstruction_error(x)  # per series; higher = more anomalous\n```\n"
           if len(shape) == 2 else
           f"x_hat = model.reconstruct(x)  # x: float32 in [0, 1], shape (n, {', '.join(map(str, shape))})\n"
           "z = model.encode(x)\n```\n"),
        f'Plain Keras works too, once aezoo is imported: `keras.saving.load_model("hf://{repo_id}")`.\n',
        "## Model\n\n| architecture | input shape | latent dim | parameters |\n|---|---|---|---|",
        f"| `{arch}` | {' x '.join(map(str, shape))} | {m.get('latent_dim', '')} | {m.get('parameters') or 0:,} |\n",
    ]
    if m.get("dataset"):
        split = f" Metrics are on the `{m['split']}` split." if m.get("split") else ""
        source = info.source if info else (series[1].source if series else "")
        task = f" Protocol: {series[0]}." if series else ""
        parts.append(f"## Training data\n\n`{m['dataset']}`{': ' + source if source else ''}.{task}{split}\n")
    parts += _metrics_section(m)
    parts += _targets_section(m)
    parts += _training_section(m)
    versions = [f"aezoo {m.get('aezoo_version')}", f"Keras {m.get('keras_version')}"
                + (f" on {backend}" if backend else "")]
    versions += [f"TensorFlow {m['tensorflow_version']}"] if m.get("tensorflow_version") else []
    parts += ["## How to reproduce\n",
              f"```bash\n{checkout}{command}\n```\n" if command else "No training recipe was recorded.\n",
              f"Versions: {', '.join(versions)}. `metadata.json` holds the sha256 of every file.\n"]
    if restricted:
        parts += ["## Terms of use: non-commercial research only\n",
                  f"These weights are derived from `{info.name}` ({info.license}). Its authors make it available "
                  "for non-commercial research purposes only, so use these weights, and anything made with them, "
                  "for non-commercial research only. The images' copyright stays with their owners; the model "
                  "reflects the people, poses and demographics of its training set.\n"]
    elif info is not None:
        parts.append(f"## Data license\n\nTraining data: `{info.name}`, {info.license}.\n")
    elif series:
        parts.append(f"## Data terms\n\nTraining data: `{series[1].name}`. {series[1].license}. Cite: "
                     f"{series[1].citation}.\n")
    return "\n".join(parts)


def _targets_section(m):
    """Obtained against each target the recipe set, and the recipe's notes (what was tried)."""
    rows = []
    for t in m.get("targets") or []:
        if "obtained" not in t:
            continue
        sign = ">=" if t.get("higher_is_better") else "<="
        verdict = "met" if t.get("met") else "**not met**"
        threshold = t.get("threshold", t.get("value"))  # older records: the value alone
        rows.append(f"| {t['metric']} | {_number(t['obtained'])} | {sign} {_number(threshold)} | {verdict} | "
                    f"{t.get('anchor', '')} |")
    parts = []
    if rows:
        parts += ["## Targets\n", "| metric | obtained | target | | anchor |\n|---|---|---|---|---|\n"
                  + "\n".join(rows) + "\n"]
    if m.get("notes"):
        parts += ["## Notes\n", m["notes"] + "\n"]
    return parts


def _backend_env(backend):
    """The environment prefix a command needs to run on ``backend`` (TensorFlow is the default)."""
    return f"KERAS_BACKEND={backend} " if backend not in (None, "tensorflow") else ""


def _number(value):
    """A metric for a table: 4 significant digits, or "n/a" where it could not be measured."""
    return "n/a" if value is None else f"{value:.4g}"


def duration_text(seconds):
    """'41 min', or '38 s' under a minute and a half (where whole minutes would say 0 or 1)."""
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _training_section(m):
    """Epochs, wall time, device, backend and the exact command, from the training record."""
    t = m.get("training") or {}
    if not t or t.get("smoke"):
        return []
    facts = [f"{t['epochs']} epochs" if t.get("epochs") else None,
             f"batch {t['batch_size']}" if t.get("batch_size") else None,
             f"{duration_text(t['seconds'])} of training" if t.get("seconds") else None,
             t.get("device"), f"Keras {t.get('keras')} on {t['backend']}" if t.get("backend") else None,
             f"started from `{t['init_from']}`" if t.get("init_from") else None]
    lines = ["## Training\n", "; ".join(f for f in facts if f) + ".\n"]
    sha = m.get("recipe_git_sha")
    dirty = m.get("git_dirty") or (sha or "").endswith("+dirty")
    commit = f"Commit `{sha.removesuffix('+dirty')}`{' (with uncommitted changes)' if dirty else ''}" if sha else None
    if t.get("command"):
        lines.append(f"{commit}; command:\n" if commit else "Command:\n")
        lines.append(f"```bash\n{_backend_env(t.get('backend'))}{t['command']}\n```\n")
    elif commit:  # trained before the runner recorded its command line and device
        lines.append(f"{commit}. The run predates aezoo's record of its exact command; "
                     "*How to reproduce* re-runs its recipe.\n")
    return lines


def _metrics_section(m):
    metrics = m.get("metrics") or {}
    if not metrics:
        return []
    protocol = m.get("protocol") or {}
    rows = ["| metric | value | protocol |", "|---|---|---|"]
    for name, value in metrics.items():
        value = f"{value:.4g}" if isinstance(value, float) else str(value)
        how = protocol.get(name) if isinstance(protocol.get(name), str) else ""
        rows.append(f"| {name} | {value} | {how} |")
    note = f"Protocol `{protocol['name']}` (see metadata.json)." if protocol.get("name") else ""
    return ["## Results\n", "\n".join(rows) + "\n", note + "\n" if note else ""]


def _sequence_info(task):
    """``(protocol, SequenceInfo)`` of a sequence task (``aezoo.data.sequence_tasks``), else None."""
    from aezoo.data.sequence_tasks import TASKS
    from aezoo.data.sequences import sequence_info

    if task not in TASKS:
        return None
    return TASKS[task], sequence_info(task.removesuffix("_ucr"))


def _dataset_info(name):
    if not name:
        return None
    from aezoo import data

    try:
        return data.get_info(name)
    except ValueError:
        return None
