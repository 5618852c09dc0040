"""The shared harness over every registered architecture, plus registry behaviour."""

import pytest

import aezoo
from harness import SMALL_CONFIGS, run_architecture_test


def test_every_architecture_has_a_harness_config():
    assert set(aezoo.list_architectures()) == set(SMALL_CONFIGS)


@pytest.mark.parametrize("name", sorted(SMALL_CONFIGS))
def test_architecture(name, tmp_path):
    run_architecture_test(name, tmp_path)


def test_wildcard_listing():
    assert aezoo.list_architectures("*vae*") == ["beta-vae", "conditional-vae", "conv-vae", "dense-vae", "kl-vae", "vq-vae"]
    assert "linear-ae" in aezoo.list_architectures()


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean: conv-vae"):
        aezoo.build("conv-vea", input_shape=(8, 8, 1))
