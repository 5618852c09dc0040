"""taef2 against its PyTorch original, and tiled inference on a large image.

Run: ``python -m aezoo.benchmark taef2`` (options: ``--size``, ``--repeats``, ``--threads``,
``--source``, ``--large``). Each configuration runs in its own process, so that its peak
RSS is its own, with the same thread count:

- ``encode`` + ``decode`` of one ``--size`` photo (median of ``--repeats`` after a warm-up):
  the original ``taesd.py`` in PyTorch (eager, ``torch.no_grad``), and aezoo's ``taef2`` on
  Keras with TensorFlow (``tf.function``, and with XLA: ``jit_compile=True``), JAX (``jax.jit``)
  and PyTorch (eager);
- tiled ``reconstruct`` of a ``--large`` x ``--large`` image (tiles of 512, overlap 128) on
  TensorFlow: seconds and peak RSS; and on 1024 x 1024 the PSNR of tiled against untiled.

Not a test: numbers depend on the machine and its load.
"""

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SOURCE = Path(__file__).resolve().parents[2].parent / "shared" / "weights" / "taesd"
CONFIGS = ("pytorch-original", "tensorflow", "tensorflow-xla", "jax", "torch")


def _median(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(config, size, repeats, threads, source):
    """One configuration's timing, in this (child) process."""
    import numpy as np

    from aezoo.data.photos import photos

    x = photos(size)[:1]
    if config == "pytorch-original":
        import torch

        torch.set_num_threads(threads)
        spec = importlib.util.spec_from_file_location("taesd_original", Path(source) / "taesd.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ref = module.TAESD(str(Path(source) / "taef2_encoder.pth"), str(Path(source) / "taef2_decoder.pth")).eval()
        t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())

        def step():
            with torch.no_grad():
                ref.decoder(ref.encoder(t)).clamp(0, 1)
    else:
        import aezoo

        model = aezoo.load("taef2")
        if config == "tensorflow-xla":
            import tensorflow as tf

            enc = tf.function(lambda v: model.encoder(v, training=False), jit_compile=True)
            dec = tf.function(lambda v: model.decoder(v, training=False), jit_compile=True)

            def step():
                np.clip(dec(enc(tf.constant(x))).numpy(), 0, 1)
        else:
            def step():
                model.decode(model.encode(x, batch_size=1), batch_size=1)
    seconds = _median(step, repeats)
    return {"config": config, "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def _child_large(large):
    import numpy as np

    import aezoo
    from aezoo.data.photos import photo

    model = aezoo.load("taef2")
    x = photo("grace_hopper", large)[None]
    start = time.perf_counter()
    out = model.reconstruct(x, batch_size=1, tile=512, overlap=128)
    seconds, peak = time.perf_counter() - start, _peak_rss_mb()  # before the untiled 1024 run raises the peak
    x1024 = photo("grace_hopper", 1024)[None]
    full = model.reconstruct(x1024, batch_size=1)
    tiled = model.reconstruct(x1024, batch_size=1, tile=512, overlap=128)
    psnr = float(10 * np.log10(1.0 / np.mean(np.square(full - tiled))))
    return {"config": f"tiled {large}x{large}", "seconds": seconds, "peak_rss_mb": peak,
            "psnr_tiled_vs_untiled_1024": psnr, "untiled_1024_peak_rss_mb": _peak_rss_mb(),
            "output_shape": list(out.shape)}


def _run(args, config):
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TF_NUM_INTRAOP_THREADS": str(args.threads),
           "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
           "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={args.threads}"}
    env["KERAS_BACKEND"] = {"tensorflow-xla": "tensorflow", "tiled": "tensorflow"}.get(config, config)
    if config == "pytorch-original":
        env["KERAS_BACKEND"] = "torch" if importlib.util.find_spec("torch") else "tensorflow"
    cmd = [sys.executable, "-m", "aezoo.benchmark.latent_diffusion", "--child", config, "--size", str(args.size),
           "--repeats", str(args.repeats), "--threads", str(args.threads), "--source", args.source,
           "--large", str(args.large)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        return {"config": config, "error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="folder with taesd.py and the taef2 weights")
    parser.add_argument("--large", type=int, default=2048, help="side of the tiled image")
    parser.add_argument("--configs", default=",".join(CONFIGS) + ",tiled")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        row = _child_large(args.large) if args.child == "tiled" else _child(args.child, args.size, args.repeats,
                                                                              args.threads, args.source)
        print(json.dumps(row))
        return 0
    rows = [_run(args, config) for config in args.configs.split(",")]
    base = next((r["seconds"] for r in rows if r["config"] == "pytorch-original" and "seconds" in r), None)
    print(f"taef2 encode + decode of one {args.size}x{args.size} photo, {args.threads} threads, "
          f"median of {args.repeats}:")
    for r in rows:
        if "error" in r:
            print(f"  {r['config']:18s} not run: {r['error']}")
            continue
        ratio = f"  {r['seconds'] / base:.2f}x PyTorch" if base and not r["config"].startswith("tiled") else ""
        extra = (f"  (tiled vs untiled at 1024: {r['psnr_tiled_vs_untiled_1024']:.1f} dB)"
                 if "psnr_tiled_vs_untiled_1024" in r else "")
        print(f"  {r['config']:18s} {r['seconds'] * 1000:9.0f} ms  peak RSS {r['peak_rss_mb']:7.0f} MB{ratio}{extra}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
