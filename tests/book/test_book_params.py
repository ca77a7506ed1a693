"""A notebook's parameters: -p and PARAMS values, what its parameters cell sets, and the checks
of both, which `prepare` runs (with GEN_BF16's) before it reads the data."""
import os
import subprocess
import sys

import pytest

from gen_core import book, runs
from gen_core.book import NOTEBOOKS, ROOT, cli, layout, params
from gen_core.book.params import parse_value
from gen_core.errors import ConfigError

from book_repo import DATA_DIR


@pytest.mark.parametrize("args, line", [
    (["-p", "mlp_c_latents", "[2]"], "error: parameter 'mlp_c_latents' is not allowed for notebook gan_mnist; "
     "expected one of mlp_a_latents, mlp_b_latents, dcgan_latents, epochs, overrides"),
    (["-p", "epochs", "0"], "error: epochs=0 is not allowed; expected None (the profile's epochs) or an integer >= 1"),
    (["-p", "overrides", "{lr: -1}"], "error: overrides for MLP A, z=100: config lr=-1 is not allowed; expected a "
     "learning rate > 0"),
    (["--params", "[17]"], "error: PARAMS='[17]' is not allowed; expected a mapping such as "
     "'{mlp_a_latents: [17], epochs: 2}'"),
    (["-p", "profile", "quick"], "error: parameter 'profile' is set by PROFILE (or --profile), not by -p or PARAMS; "
     "expected one of mlp_a_latents, mlp_b_latents, dcgan_latents, epochs, overrides"),
])
def test_a_bad_notebook_parameter_is_one_line_before_anything_runs(args, line, tmp_path):
    env = {**os.environ, "PROFILE": "smoke", "GEN_RUNS_DIR": str(tmp_path / "runs"),
           "GEN_SMOKE_DIR": str(tmp_path / "book")}
    proc = subprocess.run([sys.executable, "-m", "gen_core.book", "notebook", "gan_mnist", *args],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and proc.stderr.strip() == line and proc.stdout == ""
    assert not (tmp_path / "runs").exists()


def test_the_pool_steps_aside_for_force_and_for_one_worker(tmp_path, monkeypatch, capsys):
    """FORCE=1 and a single worker (a GPU, GEN_WORKERS=1) leave training to the notebooks; PARAMS
    names one notebook."""
    from gen_core import workers
    from gen_core.report import session

    monkeypatch.setattr(workers, "train_in_pool", lambda *a, **k: pytest.fail("the pool ran"))
    forced = session.setup("smoke", DATA_DIR, str(tmp_path / "runs"), force=True)
    assert cli.train_runs(forced, NOTEBOOKS) == 0
    assert cli.train_runs(session.setup("smoke", DATA_DIR, str(tmp_path / "runs")), NOTEBOOKS, workers=1) == 0
    assert capsys.readouterr().out.splitlines() == ["train: the notebooks train their runs (FORCE=1)",
                                                    "train: the notebooks train their runs (one worker)"]
    code = book.main(["train", "gan_mnist", "vae_mnist", "--params", "{epochs: 2}", "--profile", "smoke",
                      "--runs-dir", str(tmp_path / "runs")])
    assert code == 2
    assert capsys.readouterr().err.strip() == ("error: PARAMS sets one notebook's parameters; name exactly one "
                                               "notebook to train")


def test_the_pool_trains_what_the_notebooks_parameters_cell_leaves(tmp_path, monkeypatch):
    """The cell is run as the kernel runs it, so an expression is known too (`epochs = 2 * 3`: 6), and
    PARAMS (papermill's values, injected after the cell) goes over it."""
    assert params.cell_values("gan_mnist") == {"mlp_a_latents": None, "mlp_b_latents": None,
                                               "dcgan_latents": None, "epochs": None, "overrides": {}}
    nb = tmp_path / "gan_mnist.py"
    nb.write_text((layout.NOTEBOOK_DIR / "gan_mnist.py").read_text()
                  .replace("\nmlp_a_latents = None", "\nmlp_a_latents = [17, 3]", 1)
                  .replace("\nepochs = None", "\nepochs = 2 * 3", 1))
    monkeypatch.setattr(layout, "NOTEBOOK_DIR", tmp_path)
    configs = params.chapter_configs("gan_mnist", "smoke", {"dcgan_latents": [8]})
    assert [c.label for c in configs] == ["MLP A, z=17 (epochs=6)", "MLP A, z=3 (epochs=6)", "MLP B, z=200 (epochs=6)",
                                          "DCGAN, z=8 (epochs=6)"]
    assert {c.epochs for c in params.chapter_configs("gan_mnist", "smoke", {"epochs": 1})} == {1}
    assert params.chapter_configs("comparison", "smoke") == []


def test_the_rows_trained_at_full_and_long_only_are_parameters_of_their_cells():
    """vae_mnist and wgan_mnist name the three rows the conv report describes in words (C3, C6, C7) at
    every profile; quick does not train them (and refuses their latents), long does (3 seeds each)."""
    assert params.cell_values("vae_mnist") == {"mlp_a_latents": None, "mlp_b_latents": None, "mlp_c_latents": None,
                                               "mlp_c_h64_latents": None, "epochs": None, "overrides": {}}
    assert params.cell_values("wgan_mnist") == {"mlp_a_latents": None, "mlp_b_latents": None,
                                                "dc_wgan_latents": None, "dc_wgan_gp_latents": None,
                                                "dc_wgan_adam_latents": None, "dc_wgan_clip_0_1_latents": None,
                                                "epochs": None, "overrides": {}}
    changed = {"dc_wgan_adam_latents": [8]}
    with pytest.raises(ConfigError, match="^parameter dc_wgan_adam_latents is not allowed at PROFILE=quick"):
        params.chapter_configs("wgan_mnist", "quick", changed)             # refused, not trained as nothing
    assert not [c for c in params.chapter_configs("wgan_mnist", "quick", {}) if c.variant == "DC-WGAN Adam"]
    assert [(c.label, c.seed) for c in params.chapter_configs("wgan_mnist", "long", changed)
            if c.variant == "DC-WGAN Adam"] == [("DC-WGAN Adam, z=8", s) for s in range(3)]
    assert [c.label for c in params.chapter_configs("vae_mnist", "full") if c.seed == 0][-1] == "MLP C h64, z=32"


@pytest.mark.parametrize("edit, value", [
    ("epochs: int = 4", 4),
    ("epochs = 4\nepochs += 1", 5),
    ("epochs, mlp_a_latents = 4, [8]", 4),
    ("epochs = 4\nif True:\n    epochs = 5", 5),
    ("for epochs in range(3):\n    pass", 2),
    ("epochs = None\nmlp_a_latents = [8]\nmlp_a_latents.append(9)", None),
])
def test_the_cell_leaves_what_the_kernel_would(tmp_path, monkeypatch, edit, value):
    nb = tmp_path / "gan_mnist.py"
    nb.write_text((layout.NOTEBOOK_DIR / "gan_mnist.py").read_text().replace("\nepochs = None", "\n" + edit, 1))
    monkeypatch.setattr(layout, "NOTEBOOK_DIR", tmp_path)
    values = params.cell_values("gan_mnist")
    assert values["epochs"] == value
    if "append" in edit:
        assert values["mlp_a_latents"] == [8, 9]


def test_a_parameters_cell_that_does_not_parse_is_one_line_naming_the_notebook(tmp_path, monkeypatch):
    nb = tmp_path / "gan_mnist.py"
    nb.write_text((layout.NOTEBOOK_DIR / "gan_mnist.py").read_text().replace("\nepochs = None", "\nepochs = (", 1))
    monkeypatch.setattr(layout, "NOTEBOOK_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"^notebooks/gan_mnist\.py: its parameters cell is not valid Python "
                                          r"\(.+, line \d+ of the cell\); fix the cell, then run again$"):
        params.cell_values("gan_mnist")




@pytest.mark.parametrize("text, value", [("[17]", [17]), ("{lr: 1e-4}", {"lr": 1e-4}), ('{"lr": 0.0001}', {"lr": 1e-4}),
                                         ("None", None), ("3", 3), ("true", True), ("adam", "adam")])
def test_parameter_values_parse_as_python_or_yaml_literals(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)




# ---- prepare: every check before the data -------------------------------------------------------

@pytest.fixture
def prepare(tmp_path, monkeypatch, capsys):
    """`prepare` in this process with a copy of the notebooks (tests edit them); the data check fails
    the test if it is reached. Returns (exit code, stdout, stderr)."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for source in layout.NOTEBOOK_DIR.glob("*.py"):
        (notebooks / source.name).write_text(source.read_text())
    monkeypatch.setattr(layout, "NOTEBOOK_DIR", notebooks)
    monkeypatch.setattr(runs, "check_data", lambda datasets, data_dir: pytest.fail("the data was checked first"))

    def run(*args):
        code = book.main(["prepare", *args, "--profile", "smoke", "--data-dir", str(tmp_path / "data"),
                          "--runs-dir", str(tmp_path / "runs"), "--smoke-dir", str(tmp_path / "book")])
        out = capsys.readouterr()
        assert not (tmp_path / "book").exists()                  # nothing staged either
        return code, out.out, out.err

    run.notebooks = notebooks
    return run


@pytest.mark.parametrize("args, line", [
    (["gan_mnist", "--params", "{epochs: 0}"],
     "error: epochs=0 is not allowed; expected None (the profile's epochs) or an integer >= 1"),
    (["gan_mnist", "--params", "{mlp_c_latents: [2]}"],
     "error: parameter 'mlp_c_latents' is not allowed for notebook gan_mnist; expected one of mlp_a_latents, "
     "mlp_b_latents, dcgan_latents, epochs, overrides"),
    (["--params", "{epochs: 2}"], "error: PARAMS sets one notebook's parameters; name the notebooks it is for "
                                  "(prepare NAME)"),
    (["gan_mnist", "--params", "[17]"], "error: PARAMS='[17]' is not allowed; expected a mapping such as "
                                        "'{mlp_a_latents: [17], epochs: 2}'"),
    (["gan_minst"], "error: notebook 'gan_minst' is not allowed; expected one of vae_mnist, vae_cifar10, gan_mnist, "
                    "gan_cifar10, wgan_mnist, wgan_cifar10, comparison"),
])
def test_prepare_checks_params_before_the_data(prepare, args, line):
    assert prepare(*args) == (2, "", line + "\n")


def test_prepare_checks_gen_bf16_before_the_data(prepare, monkeypatch):
    monkeypatch.setenv("GEN_BF16", "yes")
    assert prepare() == (2, "", "error: GEN_BF16='yes' is not allowed; expected auto (bf16 where this CPU computes "
                                "it natively), 1 (on every row whose measurement allows it) or 0 (never)\n")


@pytest.mark.parametrize("edit, line", [
    # an expression only the kernel used to evaluate, after the other notebooks ran
    ("epochs = 2 * 0", "error: notebooks/gan_mnist.py, parameters cell: epochs=0 is not allowed; expected None "
                       "(the profile's epochs) or an integer >= 1"),
    ("epochs = [1, 2][5]", "error: notebooks/gan_mnist.py: its parameters cell fails at line 11 of the cell "
                           "(IndexError: list index out of range); fix the cell, then run again"),
    ("epochs = 2\nepochs = no_such_name", "error: notebooks/gan_mnist.py: its parameters cell fails at line 12 of "
                                          "the cell (NameError: name 'no_such_name' is not defined); fix the cell, "
                                          "then run again"),
    ("epochs = (", "error: notebooks/gan_mnist.py: its parameters cell is not valid Python ('(' was never closed, "
                   "line 11 of the cell); fix the cell, then run again"),
])
def test_prepare_runs_each_parameters_cell_and_checks_its_values_before_the_data(prepare, edit, line):
    """gan_mnist's cell: a comment on line 1, `epochs = None` on line 11 (notebooks/gan_mnist.py, lines 23-33)."""
    source = prepare.notebooks / "gan_mnist.py"
    assert source.read_text().splitlines()[32].startswith("epochs = None ")
    source.write_text(source.read_text().replace("\nepochs = None", "\n" + edit, 1))
    assert prepare() == (2, "", line + "\n")


def test_a_parameters_cell_that_evaluates_to_allowed_values_passes(tmp_path, monkeypatch):
    """An expression is fine when its value is: the kernel gets the same values prepare checked."""
    source = tmp_path / "gan_mnist.py"
    source.write_text((layout.NOTEBOOK_DIR / "gan_mnist.py").read_text()
                      .replace("\nepochs = None", "\nepochs = 2 * 3", 1)
                      .replace("\nmlp_a_latents = None", "\nmlp_a_latents = list(range(2, 5))", 1))
    monkeypatch.setattr(layout, "NOTEBOOK_DIR", tmp_path)
    assert params.cell_values("gan_mnist") == {"mlp_a_latents": [2, 3, 4], "mlp_b_latents": None,
                                               "dcgan_latents": None, "epochs": 6, "overrides": {}}
    params.check_notebooks(["gan_mnist"], {})
    with pytest.raises(ConfigError, match=r"^epochs=0 is not allowed"):     # PARAMS over the cell's values
        params.check_notebooks(["gan_mnist"], {"epochs": 0})
