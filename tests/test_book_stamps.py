"""When `make report` executes a notebook again: the fingerprint and stamp logic of gen_core/book.py,
with papermill replaced by a stand-in that records what it was asked to execute."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from gen_core import book
from gen_core.report import manifest
from gen_core.report.session import Context


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A smoke context, a book root, a copy of the notebooks, and an executor that counts."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(book.NOTEBOOK_DIR, notebooks)
    monkeypatch.setattr(book, "NOTEBOOK_DIR", notebooks)
    executed = []

    def execute(name, book_root, parameters):
        executed.append(name)
        out = book_root / book.EXECUTED / f"{name}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"name": name, "parameters": parameters, "n": len(executed)}))
        return out

    monkeypatch.setattr(book, "execute_notebook", execute)
    ctx = Context("smoke", tmp_path / "data", tmp_path / "runs", False, "cpu")
    return {"ctx": ctx, "root": tmp_path / "book", "executed": executed, "notebooks": notebooks}


def run(env, name, force=False, **params):
    ctx = Context(**{**env["ctx"].__dict__, "force": force})
    before = len(env["executed"])
    book.run_notebook(name, ctx, env["root"], params)
    return len(env["executed"]) > before


def test_executes_once_then_is_up_to_date(env, capsys):
    assert run(env, "gan_mnist") and not run(env, "gan_mnist")
    out = capsys.readouterr().out
    assert "[3/7] gan_mnist: running" in out and "[3/7] gan_mnist: up to date" in out


def test_force_executes_and_the_next_plain_run_is_up_to_date(env):
    assert run(env, "gan_mnist") and run(env, "gan_mnist", force=True)
    assert not run(env, "gan_mnist")


def test_changed_parameters_execute_again(env):
    assert run(env, "gan_mnist")
    assert run(env, "gan_mnist", mlp_a_latents=[17]) and not run(env, "gan_mnist", mlp_a_latents=[17])
    assert run(env, "gan_mnist")                                        # back to the notebook's values


def test_an_edit_of_the_notebook_or_the_library_executes_again(env, monkeypatch):
    assert run(env, "vae_mnist")
    source = env["notebooks"] / "vae_mnist.py"
    source.write_text(source.read_text() + "\n# %%\n1 + 1\n")
    assert run(env, "vae_mnist") and not run(env, "vae_mnist")
    monkeypatch.setattr(book, "library_digest", lambda: "another library")
    assert run(env, "vae_mnist")


def test_an_edit_made_while_it_executes_is_executed_next_time(env, monkeypatch):
    real = book.execute_notebook
    source = env["notebooks"] / "wgan_mnist.py"

    def edit_meanwhile(name, book_root, parameters):
        source.write_text(source.read_text().replace("epochs = None", "epochs = 2", 1))
        return real(name, book_root, parameters)

    monkeypatch.setattr(book, "execute_notebook", edit_meanwhile)
    assert run(env, "wgan_mnist")
    monkeypatch.setattr(book, "execute_notebook", real)
    assert run(env, "wgan_mnist") and not run(env, "wgan_mnist")


def test_a_replaced_executed_notebook_executes_again(env):
    """After `git checkout book/experiments`, say: the page no longer comes from these runs."""
    assert run(env, "gan_cifar10")
    (env["root"] / book.EXECUTED / "gan_cifar10.ipynb").write_text("{}")
    assert run(env, "gan_cifar10")


def test_changed_runs_execute_their_chapter_and_the_comparison_only(env):
    runs = env["ctx"].runs_dir
    for chapter in book.CHAPTERS:
        (runs / f"{chapter}-run").mkdir(parents=True)
        (runs / f"{chapter}-run" / "summary.json").write_text("{}")
        manifest.record(runs, "smoke", chapter, [f"{chapter}-run"])
    for name in book.NOTEBOOKS:
        assert run(env, name)
    assert not any(run(env, name) for name in book.NOTEBOOKS)
    (runs / "gan_mnist-run" / "summary.json").write_text('{"retrained": true}')
    assert [name for name in book.NOTEBOOKS if run(env, name)] == ["gan_mnist", "comparison"]
    manifest.record(runs, "smoke", "vae_cifar10", ["vae_cifar10-run", "gan_mnist-run"])   # it used another run
    assert [name for name in book.NOTEBOOKS if run(env, name)] == ["vae_cifar10", "comparison"]


def test_another_seed_landing_in_the_runs_folder_executes_its_chapter_again(env):
    """A cluster finished seed 1 of a configuration the chapter used: its chapter and the comparison
    run again. Not a change: an unfinished folder (no summary.json yet), or a finished one of the
    same name prefix with another learning rate (another experiment, another profile)."""
    runs = env["ctx"].runs_dir

    def folder(name, finished=True, **config):
        (runs / name).mkdir(parents=True)
        (runs / name / "config.json").write_text(json.dumps({"config": {"lr": 0.001, "seed": 0, **config}}))
        if finished:
            (runs / name / "summary.json").write_text("{}")

    for chapter in book.CHAPTERS:
        name = f"{chapter.replace('_', '-')}-mlpa-z100-00000000000{len(chapter) % 10}"
        folder(name, chapter=chapter)
        manifest.record(runs, "smoke", chapter, [name])
    for name in book.NOTEBOOKS:
        assert run(env, name)
    folder("gan-mnist-mlpa-z100-111111111111", finished=False, chapter="gan_mnist", seed=1)      # in flight
    folder("gan-mnist-mlpa-z100-222222222222", chapter="gan_mnist", seed=1, lr=0.5)             # other lr
    assert not any(run(env, name) for name in book.NOTEBOOKS)
    (runs / "gan-mnist-mlpa-z100-111111111111" / "summary.json").write_text("{}")
    assert [name for name in book.NOTEBOOKS if run(env, name)] == ["gan_mnist", "comparison"]
    assert book.other_seeds([runs / "gan-mnist-mlpa-z100-000000000009"]) == ["gan-mnist-mlpa-z100-111111111111"]


def test_the_up_to_date_path_never_imports_torch(tmp_path):
    """`make report` with nothing changed must be fast: the check runs before torch is imported."""
    runs, root = tmp_path / "runs", tmp_path / "book"
    parameters = book._parameters("smoke", "data", runs, False, {})
    out = root / book.EXECUTED / "vae_mnist.ipynb"
    out.parent.mkdir(parents=True)
    out.write_text("{}")
    stamp = {**book._sources("vae_mnist", parameters), "runs": book._runs("vae_mnist", parameters),
             "output": book._digest([out])}
    (root / book.STAMPS).mkdir(parents=True)
    (root / book.STAMPS / "vae_mnist.json").write_text(json.dumps(stamp))
    code = ("import sys; from gen_core import book; "
            f"code = book.main(['notebook', 'vae_mnist', '--profile', 'smoke', '--data-dir', 'data', "
            f"'--runs-dir', {str(runs)!r}, '--smoke-dir', {str(root)!r}]); "
            "print(code, 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=book.ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "FORCE": "0"})
    assert proc.stdout.splitlines() == ["[1/7] vae_mnist: up to date", "0 False"], proc.stderr[-2000:]
