"""``python -m aezoo.benchmark {training,inference,taef2,bitstream} [options]``."""

import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "inference":
        from aezoo.benchmark.inference import main as run
        return run(argv[1:])
    if argv and argv[0] == "taef2":
        from aezoo.benchmark.latent_diffusion import main as run
        return run(argv[1:])
    if argv and argv[0] == "bitstream":
        from aezoo.benchmark.bitstream_backends import main as run
        return run(argv[1:])
    if argv and argv[0] == "training":
        argv = argv[1:]
    from aezoo.benchmark.training import main as run  # the default, as before
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
