"""Architectures (and, later, presets) by name, with wildcard listing and close matches."""

import difflib
import fnmatch

_ARCHITECTURES = {}


def register_architecture(name):
    """Class decorator: ``@register_architecture("conv-vae")`` makes ``build("conv-vae")`` work."""

    def decorator(cls):
        if name in _ARCHITECTURES and _ARCHITECTURES[name] is not cls:
            raise ValueError(f"architecture {name!r} is already registered to {_ARCHITECTURES[name].__name__}")
        _ARCHITECTURES[name] = cls
        cls.architecture = name
        return cls

    return decorator


def unknown_name_error(kind, name, known):
    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.4)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return ValueError(f"Unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(sorted(known))}")


def get_architecture(name):
    try:
        return _ARCHITECTURES[name]
    except KeyError:
        raise unknown_name_error("architecture", name, _ARCHITECTURES) from None


def registered_classes():
    """Every registered architecture's class (what a preset's config.json may name)."""
    return tuple(dict.fromkeys(_ARCHITECTURES.values()))


def list_architectures(pattern="*"):
    """Registered architecture names matching a shell-style wildcard, sorted."""
    return sorted(n for n in _ARCHITECTURES if fnmatch.fnmatch(n, pattern))


def build(name, **config):
    """Build an untrained, compiled model of a registered architecture.

    Example:
        >>> model = aezoo.build("conv-vae", input_shape=(64, 64, 3), latent_dim=128)
    """
    model = get_architecture(name)(**config)
    model.compile()
    return model
