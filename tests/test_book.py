"""The smoke report end to end: papermill runs every notebook, jupyter-book builds the pages.

It runs as users run it, `make -j 3 report PROFILE=smoke`, so three chapter notebooks share
the runs folder at once. Uses the real datasets in $GEN_DATA_DIR (default data/; .ci/run
writes them with `make data`). Everything lands in tmp_path, never in book/experiments.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from gen_core.book import CHAPTERS, NOTEBOOKS, ROOT

DATA_DIR = os.environ.get("GEN_DATA_DIR", str(ROOT / "data"))


def _tree_state(path: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in path.glob("*")} if path.exists() else {}


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("smoke")
    published = ROOT / "book" / "experiments"
    before = _tree_state(published)
    proc = subprocess.run(["make", "-j", "3", "report", "PROFILE=smoke", f"GEN_DATA_DIR={DATA_DIR}",
                           f"GEN_RUNS_DIR={tmp / 'runs'}", f"GEN_SMOKE_DIR={tmp / 'book'}", "FORCE=0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"root": tmp / "book", "stdout": proc.stdout, "stderr": proc.stderr, "published_before": before,
            "published_after": _tree_state(published)}


def test_report_prints_a_line_per_notebook(smoke_book):
    for name in NOTEBOOKS:
        assert re.search(rf"\] {name}: running", smoke_book["stdout"])
        assert re.search(rf"\] {name}: done in \d+ s", smoke_book["stdout"])


def test_parallel_chapters_train_each_classifier_once(smoke_book):
    # -j 3 starts vae_mnist, vae_cifar10 and gan_mnist together; both MNIST chapters need the
    # MNIST classifier. Its progress bar (on the terminal's stderr) must start exactly once.
    for dataset, arch in (("mnist", "LeNet"), ("cifar10", "ResNet-8")):
        starts = re.findall(rf"classifier {dataset} {arch}:\s+0%", smoke_book["stderr"])
        assert len(starts) == 1, (dataset, len(starts))
    # the comparison ran after every chapter, and the book after it
    out = smoke_book["stdout"]
    done = {name: out.index(f"{name}: done") for name in NOTEBOOKS}
    assert out.index("comparison: running") > max(done[c] for c in CHAPTERS)
    assert out.index("book: ") > done["comparison"]


def test_every_notebook_executed_with_images_and_no_errors(smoke_book):
    for name in NOTEBOOKS:
        nb = nbformat.read(smoke_book["root"] / "book" / "experiments" / f"{name}.ipynb", as_version=4)
        outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
        assert not [o for o in outputs if o.output_type == "error"], name
        assert any("image/png" in o.get("data", {}) for o in outputs), f"{name} shows no figure"
        params = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert params and "profile = \"smoke\"" in params[0].source, name


def test_every_chapter_page_exists_shows_an_image_and_no_error(smoke_book):
    html_dir = smoke_book["root"] / "_build" / "html"
    for name in NOTEBOOKS:
        page = (html_dir / "book" / "experiments" / f"{name}.html").read_text()
        assert "<img" in page, f"{name}.html has no image"
        assert "Traceback" not in page and "output error" not in page, name
        assert "Built from:" in page and "profile <code" in page, f"{name}.html lacks its provenance"
    for page in ("book/intro.html", "book/methods.html"):
        text = (html_dir / page).read_text()
        assert "Results from profile smoke" in text, f"{page} lacks the provenance banner"


def _images_of_cell(nb, source_part: str) -> int:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and source_part in c.source]
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def test_issue_6_figures_are_in_the_executed_chapters(smoke_book):
    read = lambda name: nbformat.read(smoke_book["root"] / "book" / "experiments" / f"{name}.ipynb", as_version=4)  # noqa: E731
    # the smoke grid's 2-D VAEs: MLP C on MNIST; MLP C and Conv on CIFAR-10 -> manifold + latent means each
    for name, two_d in (("vae_mnist", 1), ("vae_cifar10", 2)):
        assert _images_of_cell(read(name), "figures.two_d_vaes(runs)") == 2 * two_d, name
    for name in CHAPTERS:
        assert _images_of_cell(read(name), "figures.interpolations(best, ctx)") == 1, name
    for name in ("wgan_mnist", "wgan_cifar10"):
        nb = read(name)
        assert _images_of_cell(nb, "pair = chapter.clip_and_gp(runs)") == 1
        assert _images_of_cell(nb, "plots.plot_curves(pair)") == 1
        assert "Weight clipping against the gradient penalty." in json.dumps(nb.cells[-2].outputs)
    comparison = read("comparison")
    # the best GAN-or-WGAN and the best VAE on each dataset
    assert _images_of_cell(comparison, "figures.nearest_training(run, ctx)") == 4
    assert json.dumps([c.outputs for c in comparison.cells if c.cell_type == "code"]).count(
        "the median distance from a sample to its nearest training image") == 4


def test_plot_code_is_folded_and_every_page_says_how_to_reproduce_it(smoke_book):
    html_dir = smoke_book["root"] / "_build" / "html" / "book" / "experiments"
    for name in NOTEBOOKS:
        nb = nbformat.read(smoke_book["root"] / "book" / "experiments" / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and "plots.plot_" in cell.source:
                assert "hide-input" in cell.metadata.get("tags", []), (name, cell.source[:60])
        page = (html_dir / f"{name}.html").read_text()
        assert "tag_hide-input" in page, name                              # folded, not removed
        assert "Reproduce this page" in page and f"make report-{name} PROFILE=smoke" in page, name


def test_chapters_and_comparison_link_to_each_other(smoke_book):
    html_dir = smoke_book["root"] / "_build" / "html" / "book" / "experiments"
    comparison = (html_dir / "comparison.html").read_text()
    for name in CHAPTERS:
        label = name.replace("_", "-")
        assert f'href="{name}.html#{label}"' in comparison, name
        assert 'href="comparison.html#comparison"' in (html_dir / f"{name}.html").read_text(), name


def test_smoke_never_touches_the_published_notebooks(smoke_book):
    assert smoke_book["published_after"] == smoke_book["published_before"]


def test_findings_quote_numbers_from_the_run(smoke_book):
    """The VAE chapter's prose carries the test -ELBO the run saved, not typed-in text."""
    runs = smoke_book["root"].parent / "runs"
    summaries = [json.loads(p.read_text()) for p in runs.glob("vae-mnist-mlpc-z2-*/summary.json")]
    assert len(summaries) == 1
    nb = nbformat.read(smoke_book["root"] / "book" / "experiments" / "vae_mnist.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    assert f"z=2: {summaries[0]['test_neg_elbo']:.0f}" in text  # an untrained VAE: hundreds of nats


def test_bad_profile_is_one_line_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "gen_core.book", "report", "--profile", "bogus"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: PROFILE='bogus' is not allowed; expected one of "
                                   "auto, full, quick, smoke")


@pytest.mark.parametrize("variable, line", [
    ("PROFILE=bogus", "error: PROFILE='bogus' is not allowed; expected one of auto, full, quick, smoke"),
    ("FORCE=maybe", "error: force='maybe' is not allowed; expected true/false or 1/0"),
    ("GEN_DATA_DIR=", "error: data_dir='' is not allowed; expected a directory path"),
    ("GEN_RUNS_DIR=", "error: runs_dir='' is not allowed; expected a directory path"),
])
def test_make_report_with_a_bad_variable_stops_with_one_line(variable, line):
    proc = subprocess.run(["make", "report", variable], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert [x for x in proc.stderr.splitlines() if x.startswith("error:")] == [line]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert ": running" not in proc.stdout                    # stopped before any notebook


def test_chapters_are_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for name in CHAPTERS + ["comparison"]:
        assert f"book/experiments/{name}" in toc


def test_missing_data_fails_before_any_notebook_runs(tmp_path, monkeypatch, capsys):
    """Offline with an empty GEN_DATA_DIR: one line naming the path and the fix, exit 2."""
    import torchvision.datasets as tvd

    from gen_core import book

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(tvd, "MNIST", offline)
    monkeypatch.setattr(book, "execute_notebook", lambda *a, **k: pytest.fail("a notebook ran"))
    code = book.main(["report", "--profile", "smoke", "--data-dir", str(tmp_path / "empty"),
                      "--runs-dir", str(tmp_path / "runs"), "--smoke-dir", str(tmp_path / "book")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and err.startswith("error: mnist is not in ")
    assert str(tmp_path / "empty") in err and '"Offline use"' in err and "../shared" not in err


def test_comparison_never_retrains_even_when_forced(monkeypatch):
    """FORCE=1 retrains in the chapters; the comparison after them only loads."""
    from gen_core import chapter

    seen = []
    monkeypatch.setattr(chapter, "load_or_train",
                        lambda cfg, *a, force, **k: seen.append(force) or SimpleNamespace(yardstick={}))
    monkeypatch.setattr(chapter, "reference", lambda dataset, ctx: None)
    monkeypatch.setattr(chapter, "measure_run", lambda run, ref, device: {})
    ctx = chapter.setup("smoke", "data", "runs", force=True)
    chapter.all_runs(ctx)
    assert len(seen) == 29 and not any(seen)


def test_a_diverged_run_gets_a_note_and_its_notebook_still_executes(tmp_path, monkeypatch):
    """A NaN in one run's loss: the run is kept as diverged, the chapter executes and says so."""
    import gen_core.losses
    from gen_core import book, results
    from gen_core.grid import grid

    real_loss = gen_core.losses.vae_loss

    def nan_loss(logits, x, mu, logvar):                 # every step of this run: NaN
        total, bce, kl = real_loss(logits, x, mu, logvar)
        return total * float("nan"), bce, kl

    cfg = grid("vae", "mnist", "smoke")[0]
    monkeypatch.setattr(gen_core.losses, "vae_loss", nan_loss)
    run = results.train_and_save(cfg, DATA_DIR, tmp_path / "runs" / cfg.run_name(), "cpu", progress=False)
    monkeypatch.undo()
    assert run.summary["status"] == "diverged" and run.summary["diverged_at"]["epoch"] == 1
    assert json.loads((run.dir / "history.json").read_text())["steps"]["loss"]     # its curve so far is kept

    params = {"profile": "smoke", "data_dir": DATA_DIR, "runs_dir": str(tmp_path / "runs"), "force": False}
    out = book.execute_notebook("vae_mnist", tmp_path / "book", params)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert f"{cfg.label} (seed 0) diverged** at epoch 1, step 1" in json.dumps(outputs)


def _staged_copy_of_the_published_book(dest: Path) -> Path:
    from gen_core.book import stage_smoke_book

    root = stage_smoke_book(dest)
    shutil.copytree(ROOT / "book" / "experiments", root / "book" / "experiments")
    return root


def test_the_published_book_builds_without_warnings_and_cites_its_references(tmp_path):
    from gen_core.book import build_book

    html = build_book(_staged_copy_of_the_published_book(tmp_path / "book"))      # strict: -W
    refs = (html / "book" / "references.html").read_text()
    for name in ("Kingma", "Goodfellow", "Radford", "Arjovsky", "Gulrajani", "Heusel", "Kynk", "Lucic"):
        assert name in refs, name
    methods = (html / "book" / "methods.html").read_text()
    assert 'href="references.html#' in methods                         # cited in the text, linked


def test_a_broken_reference_fails_the_book_build_with_its_warning(tmp_path):
    from gen_core.book import BookError, build_book

    root = _staged_copy_of_the_published_book(tmp_path / "book")
    methods = root / "book" / "methods.md"
    methods.write_text(methods.read_text() + "\nSee {ref}`no-such-section`.\n")
    with pytest.raises(BookError) as err:
        build_book(root)
    message = str(err.value)
    assert "\n" not in message and "WARNING" in message and "no-such-section" in message
