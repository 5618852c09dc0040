"""``python -m aezoo.benchmark {training,inference} [options]``."""

import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "inference":
        from aezoo.benchmark.inference import main as run
        return run(argv[1:])
    if argv and argv[0] == "training":
        argv = argv[1:]
    from aezoo.benchmark.training import main as run  # the default, as before
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
