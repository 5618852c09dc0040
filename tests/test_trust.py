"""What a download can make aezoo do (issue 22, items 5 and 7): rebuild only aezoo's own
architectures, and never hand a crafted revision to huggingface_hub's cache paths."""

import keras
import pytest

import aezoo
from aezoo.presets import save_preset


def test_a_config_of_a_class_aezoo_never_declared_is_refused_before_deserialising(tmp_path):
    inputs = keras.Input((4,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    folder = save_preset(plain, tmp_path / "plain", preset="plain")  # checksums all valid
    with pytest.raises(ValueError, match="describes a 'Functional'.*not an aezoo architecture.*refusing") as info:
        aezoo.load(str(folder))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("uri", ["hf://org/name@../../etc", "hf://org/name@main/../x", "hf://org/name@/abs",
                                 "hf://org/name@.hidden", "hf://org/name@a b"])
def test_a_revision_that_could_escape_the_cache_is_refused(uri):
    with pytest.raises(ValueError, match="Malformed Hub revision"):
        aezoo.load(uri)


def test_revisions_of_every_real_kind_pass():
    from aezoo.presets.loader import check_revision

    for revision in ("main", "v1.0", "refs/pr/3", "release/2026-12", "0123456789abcdef0123456789abcdef01234567"):
        assert check_revision(revision) == revision
    with pytest.raises(ValueError, match="Malformed Hub revision"):
        aezoo.load("dense-ae-mnist", revision="../x")
