"""The model card of a converted checkpoint: whose weights, from where, proven equal how."""

import json


def converted_card(meta):
    """README.md text for a preset converted from published weights (``metadata.json`` fields)."""
    m, preset = meta, meta["preset"]
    source = m.get("source") or {}
    header = {"library_name": "keras", "license": m.get("license") or "other",
              "tags": ["aezoo", "autoencoder", m.get("architecture", "autoencoder"), *source.get("tags", [])]}
    yaml = "\n".join(f"{k}: {json.dumps(v)}" for k, v in header.items())
    files = "\n".join(f"| `{name}` | {d['size']:,} | `{d['sha256']}` |" for name, d in source.get("files", {}).items())
    metrics = m.get("metrics") or {}
    rows = "\n".join(f"| {k} | {v:.2f} |" for k, v in metrics.items())
    eq = m.get("equivalence") or {}
    eq_rows = "\n".join(f"| {size} | {d['latents_max_abs']:.2e} | {d['latent_range']:.2f} | {d['images_max_abs']:.2e} |"
                        for size, d in sorted(eq.get("sizes", {}).items(), key=lambda kv: int(kv[0])))
    parts = [
        f"---\n{yaml}\n---\n\n# {preset}\n",
        (m.get("description") or "") + "\n",
        "## Usage\n",
        f'```python\nimport aezoo\n\nmodel = aezoo.load("{preset}")\n'
        "z = model.encode(x)       # x: float32 (n, H, W, 3) in [0, 1], H and W divisible by "
        f"{m.get('downsampling_factor', 8)}\n"
        "x_hat = model.decode(z)   # images in [0, 1]\n```\n",
        "## Source\n",
        f"Author: {source.get('author', 'unknown')}. Repository: `{m.get('converted_from')}` "
        f"({source.get('url', '')}). Licence: {source.get('license_name', m.get('license'))}; "
        "its text ships in this folder as `LICENSE`. Converted by aezoo's `"
        f"{m.get('converter', '')}` from these files:\n",
        "| file | bytes | sha256 |\n|---|---|---|\n" + files + "\n",
        "## Equal to the original\n",
        (f"The original PyTorch module (`{eq.get('reference')}`) and this Keras model were given the same "
         f"photos ({', '.join(eq.get('images', []))}); maximum absolute differences on Keras's "
         f"`{eq.get('backend')}` backend, float32:\n\n| size | latents | latent range | images |\n|---|---|---|---|\n"
         + eq_rows + "\n\n`tests/test_converted.py` asserts this on every backend.\n") if eq else
        "Not measured for these weights (no PyTorch original was run at conversion); aezoo's tests prove "
        "this architecture's conversion equal to the PyTorch original at random weights "
        "(`tests/test_converted.py`, `tests/test_kl_vae.py`).\n",
        "## Metrics\n\nReconstruction PSNR (dB) of real photos, " + (m.get("protocol") or {}).get("preprocessing", "")
        + ":\n\n| metric | value |\n|---|---|\n" + rows + "\n",
        "## How to reproduce\n",
        f"```bash\npython {m.get('recipe')}   # converts, checks against the original, measures, writes the folder\n"
        f"aezoo eval {preset}                  # re-measures the metrics above\n```\n",
        f"Versions: aezoo {m.get('aezoo_version')}, Keras {m.get('keras_version')} on {m.get('backend')}. "
        "`metadata.json` holds the sha256 of every file.\n",
    ]
    return "\n".join(parts)
