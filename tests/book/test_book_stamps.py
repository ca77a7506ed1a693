"""When `make report` executes a notebook again: the fingerprint and stamp logic of gen_core/book/stamps.py,
with papermill replaced by a stand-in that records what it was asked to execute."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from gen_core import bf16
from gen_core.book import cli, layout, params, stamps
from gen_core.report import manifest
from gen_core.report.session import Context


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A smoke context, a book root, a copy of the notebooks, and an executor that counts."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(layout.NOTEBOOK_DIR, notebooks)
    monkeypatch.setattr(layout, "NOTEBOOK_DIR", notebooks)
    executed = []

    def execute(name, book_root, parameters):
        executed.append(name)
        out = layout.executed_path(book_root, name)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"name": name, "parameters": parameters, "n": len(executed)}))
        return out

    monkeypatch.setattr(layout, "execute_notebook", execute)
    ctx = Context("smoke", tmp_path / "data", tmp_path / "runs", False, "cpu")
    return {"ctx": ctx, "root": tmp_path / "book", "executed": executed, "notebooks": notebooks}


def run(env, name, force=False, **notebook_params):
    ctx = Context(**{**env["ctx"].__dict__, "force": force})
    before = len(env["executed"])
    cli.run_notebook(name, ctx, env["root"], notebook_params)
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
    monkeypatch.setattr(stamps, "library_digest", lambda: "another library")
    assert run(env, "vae_mnist")


def test_an_edit_made_while_it_executes_is_executed_next_time(env, monkeypatch):
    real = layout.execute_notebook
    source = env["notebooks"] / "wgan_mnist.py"

    def edit_meanwhile(name, book_root, parameters):
        source.write_text(source.read_text().replace("epochs = None", "epochs = 2", 1))
        return real(name, book_root, parameters)

    monkeypatch.setattr(layout, "execute_notebook", edit_meanwhile)
    assert run(env, "wgan_mnist")
    monkeypatch.setattr(layout, "execute_notebook", real)
    assert run(env, "wgan_mnist") and not run(env, "wgan_mnist")


def test_a_changed_gen_bf16_executes_again(env, monkeypatch):
    """GEN_BF16 renames the runs (RunConfig.amp), so the page must show the new ones. What counts is
    its value as this CPU resolves it: auto on a CPU with bf16 in hardware is 1."""
    monkeypatch.setattr(bf16, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setenv("GEN_BF16", "0")
    assert run(env, "gan_mnist") and not run(env, "gan_mnist")
    monkeypatch.setenv("GEN_BF16", "1")
    assert run(env, "gan_mnist") and not run(env, "gan_mnist")
    monkeypatch.setenv("GEN_BF16", "auto")                  # resolves to 1 here: the same runs
    assert not run(env, "gan_mnist")
    monkeypatch.setattr(bf16, "cpu_has_native_bf16", lambda: False)    # the same checkout on an AVX2 CPU
    assert run(env, "gan_mnist")


def test_the_fast_path_sees_a_changed_gen_bf16_and_leaves_a_bad_one_to_the_full_path(env, monkeypatch, capsys):
    ctx = env["ctx"]

    def skipped():
        return stamps.skip_if_up_to_date("gan_mnist", "smoke", ctx.data_dir, ctx.runs_dir, "0", {}, env["root"])

    monkeypatch.setenv("GEN_BF16", "0")
    assert run(env, "gan_mnist") and skipped()
    monkeypatch.setenv("GEN_BF16", "1")
    assert not skipped()
    monkeypatch.setenv("GEN_BF16", "yes")                   # the full path names what is wrong
    assert not skipped()
    assert capsys.readouterr().out.splitlines()[-1] == "[3/7] gan_mnist: up to date"


def test_a_replaced_executed_notebook_executes_again(env):
    """After `git checkout book/experiments`, say: the page no longer comes from these runs."""
    assert run(env, "gan_cifar10")
    layout.executed_path(env["root"], "gan_cifar10").write_text("{}")
    assert run(env, "gan_cifar10")


def test_changed_runs_execute_their_chapter_and_the_comparison_only(env):
    runs = env["ctx"].runs_dir
    for chapter in layout.CHAPTERS:
        (runs / f"{chapter}-run").mkdir(parents=True)
        (runs / f"{chapter}-run" / "summary.json").write_text("{}")
        manifest.record(runs, "smoke", chapter, [f"{chapter}-run"])
    for name in layout.NOTEBOOKS:
        assert run(env, name)
    assert not any(run(env, name) for name in layout.NOTEBOOKS)
    (runs / "gan_mnist-run" / "summary.json").write_text('{"retrained": true}')
    assert [name for name in layout.NOTEBOOKS if run(env, name)] == ["gan_mnist", "comparison"]
    manifest.record(runs, "smoke", "vae_cifar10", ["vae_cifar10-run", "gan_mnist-run"])   # it used another run
    assert [name for name in layout.NOTEBOOKS if run(env, name)] == ["vae_cifar10", "comparison"]


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

    for chapter in layout.CHAPTERS:
        name = f"{chapter.replace('_', '-')}-mlpa-z100-00000000000{len(chapter) % 10}"
        folder(name, chapter=chapter)
        manifest.record(runs, "smoke", chapter, [name])
    for name in layout.NOTEBOOKS:
        assert run(env, name)
    folder("gan-mnist-mlpa-z100-111111111111", finished=False, chapter="gan_mnist", seed=1)      # in flight
    folder("gan-mnist-mlpa-z100-222222222222", chapter="gan_mnist", seed=1, lr=0.5)             # other lr
    assert not any(run(env, name) for name in layout.NOTEBOOKS)
    (runs / "gan-mnist-mlpa-z100-111111111111" / "summary.json").write_text("{}")
    assert [name for name in layout.NOTEBOOKS if run(env, name)] == ["gan_mnist", "comparison"]
    assert stamps.other_seeds([runs / "gan-mnist-mlpa-z100-000000000009"]) == ["gan-mnist-mlpa-z100-111111111111"]


def test_the_up_to_date_path_never_imports_torch(tmp_path):
    """`make report` with nothing changed must be fast: the check runs before torch is imported."""
    runs, root = tmp_path / "runs", tmp_path / "book"
    parameters = params.notebook_parameters("smoke", "data", runs, False, {})
    out = layout.executed_path(root, "vae_mnist")
    out.parent.mkdir(parents=True)
    out.write_text("{}")
    stamps.stamp_path(root, "vae_mnist").parent.mkdir(parents=True)
    stamps.stamp_path(root, "vae_mnist").write_text(json.dumps(stamps.fingerprint("vae_mnist", parameters, out)))
    code = ("import sys; from gen_core import book; "
            f"code = book.main(['notebook', 'vae_mnist', '--profile', 'smoke', '--data-dir', 'data', "
            f"'--runs-dir', {str(runs)!r}, '--smoke-dir', {str(root)!r}]); "
            "print(code, 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=layout.ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "FORCE": "0"})
    assert proc.stdout.splitlines() == ["[1/7] vae_mnist: up to date", "0 False"], proc.stderr[-2000:]
