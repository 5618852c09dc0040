"""The command line: listing, showing, one-line errors, and encode / finetune / export on tiny models."""

import json

import numpy as np
import pytest
from PIL import Image

import aezoo
from aezoo import presets
from aezoo.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    model = aezoo.build("conv-vae", input_shape=(8, 8, 1), latent_dim=2, filters=(4,), seed=0)
    folder = tmp_path_factory.mktemp("weights") / "tiny-vae"
    return presets.save_preset(model, folder, preset="tiny-vae",
                              metadata={"dataset": "digits", "split": "test", "metrics": {"psnr": 12.5}})


def test_list_presets_and_architectures(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["preset", "architecture"] and "conv-vae-faces" in out
    assert main(["list", "--architectures", "*vae*"]) == 0
    assert capsys.readouterr().out.split() == aezoo.list_architectures("*vae*")


def test_show_a_preset_folder(preset, capsys):
    assert main(["show", str(preset)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tiny-vae  (conv-vae,") and "psnr" in out and "12.5" in out
    assert main(["show", str(preset), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["preset"] == "tiny-vae"


def test_unknown_preset_is_a_short_error_not_a_traceback(capsys):
    assert main(["show", "conv-vae-facez"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    first = captured.err.splitlines()[0]
    assert first.startswith("aezoo show: error: Unknown preset 'conv-vae-facez'.") and "conv-vae-faces" in first


def test_encode_a_folder_and_an_array(preset, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):  # RGB 12x12 for a grayscale 8x8 model: resized and converted
        Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(photos / f"{i}.png")
    assert main(["encode", str(preset), str(photos), "-o", str(tmp_path / "f.npy")]) == 0
    assert np.load(tmp_path / "f.npy").shape == (3, 2)
    x = rng.uniform(size=(4, 8, 8, 1)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    assert main(["encode", str(preset), str(tmp_path / "x.npy"), "-o", str(tmp_path / "g.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), aezoo.load(preset).encode(x), atol=1e-6)
    assert "wrote" in capsys.readouterr().out


def test_finetune_writes_a_child_preset(preset, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.random.default_rng(1).uniform(size=(8, 8, 8, 1)).astype("float32"))
    out = tmp_path / "tiny-vae-ft"
    assert main(["finetune", str(preset), "--data", str(tmp_path / "x.npy"), "--epochs", "1", "--batch-size", "4",
                 "--out", str(out), "--freeze-encoder", "--quiet"]) == 0
    assert "mse per pixel" in capsys.readouterr().out
    meta = presets.verify_preset(out)
    assert meta["parent"] == "tiny-vae" and meta["finetune"]["freeze_encoder"] is True
    assert main(["finetune", str(preset), "--data", "no-such-dataset", "--out", str(tmp_path / "x")]) == 2
    assert "Unknown dataset" in capsys.readouterr().err


def test_export_every_format(preset, tmp_path, capsys):
    assert main(["export", str(preset), "--format", "tflite", "-o", str(tmp_path / "lite")]) == 0
    assert sorted(p.name for p in (tmp_path / "lite").iterdir()) == ["decoder.tflite", "encoder.tflite",
                                                                      "export.json"]
    assert main(["export", str(preset), "-o", str(tmp_path / "sm")]) == 0  # savedmodel by default
    assert (tmp_path / "sm" / "encoder" / "saved_model.pb").is_file()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(preset), "--format", "coreml", "-o", str(tmp_path / "x")])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
    pytest.importorskip("tf2onnx")
    assert main(["export", str(preset), "--format", "onnx", "-o", str(tmp_path / "onnx")]) == 0
    assert sorted(p.name for p in (tmp_path / "onnx").iterdir()) == ["decoder.onnx", "encoder.onnx", "export.json"]


@pytest.mark.parametrize("name", ["denoising-ae-mnist", "dense-vae-mnist"])
def test_eval_reproduces_the_recipes_recorded_check(name, tmp_path, capsys):
    """`aezoo eval <preset> --examples N --probe-train M` re-measures every headline metric (PSNR gain,
    IS-NLL, probes, PCA ratio) with the recipe's own function and matches its check."""
    from aezoo.training.runner import run_recipe

    folder = run_recipe(name, smoke=True, out_dir=tmp_path, verbose=0)["folder"]
    check = presets.read_metadata(folder)["check"]
    capsys.readouterr()
    assert main(["eval", folder, "--examples", str(check["examples"]), "--probe-train", str(check["probe_train"])]) == 0
    out = capsys.readouterr().out
    assert "reproduces the recipe's recorded check" in out
    printed = json.loads(out[: out.rindex("}") + 1])["metrics"]
    headline = {"denoising-ae-mnist": "psnr_gain", "dense-vae-mnist": "nll_is"}[name]
    assert printed[headline] == pytest.approx(check["metrics"][headline], rel=1e-6)
    assert "raw_pixel_probe_accuracy" in printed

    meta_path = tmp_path / name / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["check"]["metrics"][headline] *= 1.1  # a number the weights do not give
    meta_path.write_text(json.dumps(meta))
    assert main(["eval", folder, "--examples", str(check["examples"]), "--probe-train", str(check["probe_train"])]) == 1
    assert "DOES NOT reproduce" in capsys.readouterr().out


def test_train_by_name_outside_a_checkout(tmp_path, monkeypatch, capsys):
    """Installed from a wheel there is no checkout: names resolve through --recipes or
    $AEZOO_RECIPES, the error says where it looked, output defaults to ./weights."""
    import shutil

    from aezoo.training import recipe as recipe_module
    from aezoo.training import runner as runner_module

    monkeypatch.setattr(recipe_module, "REPO_ROOT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "dense-ae-mnist", "--smoke", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no recipe files in" in err and "--recipes DIR" in err and err.count("\n") == 1

    copy = tmp_path / "my-recipes"
    shutil.copytree(recipe_module.Path(__file__).resolve().parents[1] / "recipes", copy)
    recipe = recipe_module.load_recipe("dense-ae-mnist", [copy])
    assert recipe.preset == "dense-ae-mnist" and recipe.path == str(copy / "dense_ae_mnist.py")
    monkeypatch.setenv("AEZOO_RECIPES", str(copy))
    assert recipe_module.load_recipe("conv-vae-faces").path == str(copy / "conv_vae_faces.py")
    from aezoo.training.runner import default_out_dir

    assert default_out_dir() == tmp_path / "weights"

    info = runner_module.recipe_provenance(copy / "dense_ae_mnist.py")  # not in git: the sha256 names it
    assert info["recipe_git_sha"] is None and len(info["recipe_sha256"]) == 64
    here = runner_module.recipe_provenance(recipe_module.Path(__file__).resolve().parents[1] / "recipes" /
                                           "dense_ae_mnist.py")
    assert here["recipe_git_sha"].split("+")[0] and isinstance(here["git_dirty"], bool)


def test_recipe_provenance_is_dirty_for_code_changes_not_for_written_weights(tmp_path):
    """A preset written by an earlier training (weights/) leaves the checkout clean; a changed recipe does not."""
    import subprocess

    from aezoo.training.runner import recipe_provenance

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       check=True, capture_output=True)

    (tmp_path / "recipes").mkdir()
    (tmp_path / "weights" / "p").mkdir(parents=True)
    recipe, weights = tmp_path / "recipes" / "r.py", tmp_path / "weights" / "p" / "metadata.json"
    recipe.write_text("RECIPE = 1\n")
    weights.write_text("{}\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "init")
    assert recipe_provenance(recipe)["git_dirty"] is False
    weights.write_text('{"trained": true}\n')
    info = recipe_provenance(recipe)
    assert info["git_dirty"] is False and not info["recipe_git_sha"].endswith("+dirty")
    recipe.write_text("RECIPE = 2\n")
    info = recipe_provenance(recipe)
    assert info["git_dirty"] is True and info["recipe_git_sha"].endswith("+dirty")


def test_check_mismatches_allow_a_retrained_metric_to_move_only_across_backends():
    from aezoo.evaluation.preset_metrics import check_mismatches

    check = {"backend": "jax", "metrics": {"psnr": 20.0, "finetuned_accuracy": 0.865}}
    moved = {"psnr": 20.0, "finetuned_accuracy": 0.885}
    assert check_mismatches(check, moved, "tensorflow") == []  # another backend: within the margin
    assert [m[0] for m in check_mismatches(check, moved, "jax")] == ["finetuned_accuracy"]  # same: exact
    assert [m[0] for m in check_mismatches(check, {**moved, "psnr": 20.1}, "tensorflow")] == ["psnr"]
    assert [m[0] for m in check_mismatches(check, {**moved, "finetuned_accuracy": 0.80}, "tensorflow")] == [
        "finetuned_accuracy"]
    assert check_mismatches({"metrics": {"psnr": 20.0}}, {"psnr": 20.0}, "torch") == []


def test_a_run_resumed_after_its_last_epoch_reports_where_training_ended(tmp_path):
    """Resuming a finished checkpoint trains nothing and only evaluates (how a run cut off
    during its long evaluation is finished); its report keeps the epochs' time and last loss."""
    from aezoo.training.runner import run_recipe

    ckpt = str(tmp_path / "ckpt")
    first = run_recipe("linear-ae-mnist", smoke=True, checkpoint_dir=ckpt, save=False, verbose=0)["training"]
    again = run_recipe("linear-ae-mnist", smoke=True, checkpoint_dir=ckpt, save=False, verbose=0)["training"]
    assert first["final_loss"] is not None and again["final_loss"] == pytest.approx(first["final_loss"], rel=1e-5)
    assert again["seconds"] == first["seconds"] and again["epochs"] == first["epochs"] == 1


def test_check_mismatches_allow_one_flipped_example_in_an_accuracy():
    """issue 22, item 12: sparse-ae-mnist's 0.935 on 200 examples measured 0.93 on a fresh
    install (one example of 200); a relative 1e-3 could not absorb it, one example can."""
    from aezoo.evaluation.preset_metrics import check_mismatches

    check = {"backend": "tensorflow", "examples": 200, "metrics": {"linear_probe_accuracy": 0.935, "psnr": 20.0}}
    assert check_mismatches(check, {"linear_probe_accuracy": 0.93, "psnr": 20.0}, "tensorflow") == []
    two_off = check_mismatches(check, {"linear_probe_accuracy": 0.925, "psnr": 20.0}, "tensorflow")
    assert [m[0] for m in two_off] == ["linear_probe_accuracy"]
    assert [m[0] for m in check_mismatches(check, {"linear_probe_accuracy": 0.935, "psnr": 20.05}, "tensorflow")] \
        == ["psnr"]  # continuous metrics stay strict
