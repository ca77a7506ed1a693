"""The smoke report end to end: papermill runs every notebook, jupyter-book builds the pages;
then the incremental report, notebook parameters, and every Makefile target at a tiny size.

It runs as users run it, `make -j 3 report PROFILE=smoke`, so three chapter notebooks share
the runs folder at once, in a copy of the repository (tests edit its notebooks). Uses the real
datasets in $GEN_DATA_DIR (default data/; .ci/run writes them with `make data`). Everything
lands in tmp_path, never in book/experiments.
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
from gen_core.errors import ConfigError

DATA_DIR = str(ROOT / os.environ.get("GEN_DATA_DIR", "data"))          # absolute: make runs in a copy


def _tree_state(path: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in path.glob("*")} if path.exists() else {}


def make(repo: Path, *args, timeout: int = 1500) -> subprocess.CompletedProcess:
    proc = subprocess.run(["make", *args], cwd=repo, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="session")
def repo(tmp_path_factory) -> Path:
    """The repository's files in a temporary folder, sharing this checkout's .venv."""
    # .venv up to date here first: else `make` in the copy would reinstall gen_core from the copy,
    # and the shared .venv would import it from a temporary folder after the tests
    subprocess.run(["make", "setup"], cwd=ROOT, check=True, capture_output=True, timeout=1200)
    dest = tmp_path_factory.mktemp("repo") / "repo"
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".git", ".venv", "data", "runs", "_build", "__pycache__",
                                                              ".pytest_cache", "*.egg-info", "device_data"))
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


@pytest.fixture(scope="session")
def smoke_book(repo, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("smoke")
    published = repo / "book" / "experiments"
    before = _tree_state(published)
    variables = ["PROFILE=smoke", f"GEN_DATA_DIR={DATA_DIR}", f"GEN_RUNS_DIR={tmp / 'runs'}",
                 f"GEN_SMOKE_DIR={tmp / 'book'}", "FORCE=0", "GEN_WORKERS=2"]
    proc = make(repo, "-j", "3", "report", *variables)
    return {"root": tmp / "book", "runs": tmp / "runs", "stdout": proc.stdout, "stderr": proc.stderr,
            "published_before": before, "published_after": _tree_state(published), "repo": repo,
            "variables": variables}


def _outputs(book_root: Path, name: str) -> str:
    nb = nbformat.read(book_root / "book" / "experiments" / f"{name}.ipynb", as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])


def test_report_trains_every_run_in_the_worker_pool_before_the_notebooks(smoke_book):
    out, err = smoke_book["stdout"], smoke_book["stderr"]
    assert re.search(r"^workers: 29 runs selected, 0 already done, 29 to train or measure in \d+ single-thread "
                     r"worker processes$", out, re.M), out[:2000]
    assert len(re.findall(r"^\[\d+/29\] \S+: complete, FD [\d.e+-]+ \(\d+ s\)$", out, re.M)) == 29
    assert "summary: 29 runs, 0 already done, 29 finished now, 0 failed" in out
    assert out.index("summary: 29 runs") < min(out.index(f"{name}: running") for name in NOTEBOOKS)
    # the notebooks trained nothing: no run's own epoch bar ("gan mnist MLP A, z=100: ...") on the terminal
    assert not re.search(r"(vae|gan|wgan) (mnist|cifar10) [^:]+, z=\d+:", err), err[-2000:]


def test_report_prints_a_line_per_notebook(smoke_book):
    for name in NOTEBOOKS:
        assert re.search(rf"\] {name}: running", smoke_book["stdout"])
        assert re.search(rf"\] {name}: done in \d+ s", smoke_book["stdout"])


def test_parallel_chapters_train_each_classifier_once(smoke_book):
    # -j 3 starts vae_mnist, vae_cifar10 and gan_mnist together (the _toc.yml order); both MNIST
    # chapters need the MNIST classifier. Its progress bar (on the terminal's stderr) must start exactly once.
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
        assert _images_of_cell(read(name), "runsets.two_d_runs(runs)") == 2 * two_d, name
    for name in CHAPTERS:
        assert _images_of_cell(read(name), "weights.interpolations(best, ctx)") == 1, name
    for name in ("wgan_mnist", "wgan_cifar10"):
        nb = read(name)
        assert _images_of_cell(nb, "pair = runsets.variant_pair(runs)") == 1
        assert _images_of_cell(nb, "plots.plot_curves(pair)") == 1
        assert "Weight clipping (the WGAN paper's recipe) against the WGAN-GP recipe." in json.dumps(nb.cells[-2].outputs)
    for name in CHAPTERS:                                   # the yardstick over training, one figure each
        assert _images_of_cell(read(name), "plots.plot_fd_over_training(shown") == 1, name
    comparison = read("comparison")
    # the best GAN-or-WGAN and the best VAE on each dataset
    assert _images_of_cell(comparison, "weights.nearest_training(run, ctx)") == 4
    assert json.dumps([c.outputs for c in comparison.cells if c.cell_type == "code"]).count(
        "the median distance from a sample to its nearest training image") == 4
    assert _images_of_cell(comparison, "plots.plot_fd_over_training(runsets.best_per_family") == 2


def test_the_comparison_shows_intervals_and_names_no_winner_inside_the_noise(smoke_book):
    """Every yardstick cell of the comparison table carries its interval; each "which family is best"
    verdict either ties or names a leader whose interval it says overlaps no other's."""
    nb = nbformat.read(smoke_book["root"] / "book" / "experiments" / "comparison.ipynb", as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    table = next(c for c in nb.cells if c.cell_type == "code" and "tables.comparison_table" in c.source)
    html = table.outputs[0]["data"]["text/html"]
    assert html.count(" [") >= 29 * 5                     # FD, precision, recall, density, coverage per run
    for verdict in ("at the end of training?**", "**And at equal generator updates?**"):
        assert outputs.count(verdict) == 2, verdict         # MNIST and CIFAR-10
    # 2 per dataset (at the end, at equal updates), then "WGAN against GAN" against the reports, per dataset
    verdicts, against = outputs.split("**Against the reports, point by point.**")
    assert verdicts.count("tie for the lowest FD") + verdicts.count("has the lowest FD, and its interval overlaps no") == 4
    assert against.count("tie for the lowest FD") + against.count("has the lowest FD, and its interval overlaps no") == 2


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


def test_parameter_cells_are_folded_and_their_values_stay_in_the_reproduce_box(smoke_book):
    html_dir = smoke_book["root"] / "_build" / "html" / "book" / "experiments"
    for name in NOTEBOOKS:
        nb = nbformat.read(smoke_book["root"] / "book" / "experiments" / f"{name}.ipynb", as_version=4)
        tagged = [cell.metadata.get("tags", []) for cell in nb.cells
                  if {"parameters", "injected-parameters"} & set(cell.metadata.get("tags", []))]
        assert len(tagged) == 2 and all("hide-cell" in tags for tags in tagged), (name, tagged)
        page = (html_dir / f"{name}.html").read_text()
        assert page.count("tag_hide-cell") >= 2, name
        assert "Reproduce this page" in page and "PROFILE=smoke" in page, name


def test_every_page_renders_in_a_browser_offline(smoke_book):
    """Headless Chromium loads every page over HTTP from the built book alone: every formula is
    typeset by the MathJax the book serves itself, every image loads, no raw TeX is left."""
    import browser

    if browser.chromium() is None:
        if os.environ.get("GEN_REQUIRE_BROWSER") == "1":
            pytest.fail("GEN_REQUIRE_BROWSER=1 but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    html_dir = smoke_book["root"] / "_build" / "html"
    assert (html_dir / "_static" / "mathjax" / "tex-chtml.js").exists()
    pages = browser.pages(html_dir)
    assert len(pages) == 3 + len(NOTEBOOKS), pages                  # intro, methods, references + notebooks
    seen = {}
    with browser.serve(html_dir) as url:
        for page in pages:
            seen[page] = browser.probe(html_dir, page, url)
    for page, found in seen.items():
        assert "error" not in found, (page, found)
        assert found["broken"] == [] and found["raw_tex"] == 0, (page, found)
        assert found["typeset"] == found["formulas"], (page, found)
    assert seen["book/methods.html"]["formulas"] > 50 and seen["book/methods.html"]["mathjax"]
    assert all(seen[f"book/experiments/{name}.html"]["images"] > 0 for name in NOTEBOOKS)


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
                                   "auto, full, long, quick, smoke")


@pytest.mark.parametrize("variable, line", [
    ("PROFILE=bogus", "error: PROFILE='bogus' is not allowed; expected one of auto, full, long, quick, smoke"),
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


def test_every_notebook_is_in_the_toc_and_every_experiment_page_has_a_notebook():
    """_toc.yml orders the notebooks make report executes: none may be missing from it."""
    assert sorted(NOTEBOOKS) == sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    assert NOTEBOOKS[-1] == "comparison" and CHAPTERS == NOTEBOOKS[:-1]


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


def test_comparison_never_retrains_even_when_forced(monkeypatch, tmp_path):
    """FORCE=1 retrains in the chapters; the comparison after them only loads."""
    from gen_core.report import session

    seen = []
    monkeypatch.setattr(session, "load_or_train",
                        lambda cfg, *a, force, **k: seen.append(force) or SimpleNamespace(yardstick={}))
    monkeypatch.setattr(session, "reference", lambda dataset, ctx: None)
    monkeypatch.setattr(session, "measure_run", lambda run, ref, device: {})
    ctx = session.setup("smoke", "data", str(tmp_path / "runs"), force=True)
    session.all_runs(ctx)
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


def test_the_published_book_builds_without_warnings_and_cites_its_references(repo):
    make(repo, "book")                                                           # strict: -W
    html = repo / "_build" / "html"
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


# ---- an incremental make report ---------------------------------------------------------------

def test_with_nothing_changed_make_report_only_builds_the_book(smoke_book):
    proc = make(smoke_book["repo"], "report", *smoke_book["variables"])
    assert ": running" not in proc.stdout
    assert sorted(re.findall(r"\] (\w+): up to date", proc.stdout)) == sorted(NOTEBOOKS)
    assert "book: " in proc.stdout


def test_an_edited_notebook_parameter_executes_that_chapter_and_the_comparison(smoke_book):
    """The issue's example: MLP A of gan_mnist at z=17 in the notebook, then make report."""
    repo, book = smoke_book["repo"], smoke_book["root"]
    notebook = repo / "notebooks" / "gan_mnist.py"
    source = notebook.read_text()
    assert "\nmlp_a_latents = None" in source
    notebook.write_text(source.replace("\nmlp_a_latents = None", "\nmlp_a_latents = [17]", 1))
    proc = make(repo, "report", *smoke_book["variables"])
    # the pool read the edited parameters cell: one new run, which the notebook trains with every thread
    assert "train: one run to train: its notebook trains it, with every thread" in proc.stdout
    assert re.findall(r"\] (\w+): running", proc.stdout) == ["gan_mnist", "comparison"]
    assert sorted(re.findall(r"\] (\w+): up to date", proc.stdout)) == sorted(set(CHAPTERS) - {"gan_mnist"})
    assert len(list(smoke_book["runs"].glob("gan-mnist-mlpa-z17-*/summary.json"))) == 1
    chapter = _outputs(book, "gan_mnist")
    assert "MLP A, z=17" in chapter and "MLP A, z=100" not in chapter and "MLP A, z=200" not in chapter
    assert "MLP A, z=17" in _outputs(book, "comparison")
    page = (book / "_build" / "html" / "book" / "experiments" / "gan_mnist.html").read_text()
    assert "MLP A, z=17" in page and "PARAMS=&#x27;{&quot;mlp_a_latents&quot;: [17]}&#x27;" in page


def test_make_report_name_with_params_and_the_same_with_p(smoke_book):
    """PARAMS on make report-NAME reaches the notebook (and its reproduce box); -p with the same
    values is then up to date, so both spell the same parameters."""
    repo, book = smoke_book["repo"], smoke_book["root"]
    proc = make(repo, "report-vae_mnist", "PARAMS={mlp_b_latents: [3], overrides: {lr: 0.002}}",
                *smoke_book["variables"])
    assert "workers: 6 runs selected, 0 already done, 6 to train or measure" in proc.stdout
    assert re.findall(r"\] (\w+): running", proc.stdout) == ["vae_mnist", "comparison"]
    assert "book: " in proc.stdout
    text = _outputs(book, "vae_mnist")
    assert "MLP B, z=3 (lr=0.002)" in text and "MLP A, z=50 (lr=0.002)" in text
    assert "MLP B, z=3 (lr=0.002)" in _outputs(book, "comparison")
    nb = nbformat.read(book / "book" / "experiments" / "vae_mnist.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])).source
    assert "mlp_b_latents = [3]" in injected and "overrides = {\"lr\": 0.002}" in injected
    env = {**os.environ, "PROFILE": "smoke", "GEN_DATA_DIR": DATA_DIR, "GEN_RUNS_DIR": str(smoke_book["runs"]),
           "GEN_SMOKE_DIR": str(book), "FORCE": "0"}
    proc = subprocess.run([str(repo / ".venv" / "bin" / "python"), "-m", "gen_core.book", "notebook", "vae_mnist",
                           "-p", "mlp_b_latents", "[3]", "-p", "overrides", "{lr: 0.002}"],
                          cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "[1/7] vae_mnist: up to date", proc.stderr[-2000:]


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
    from gen_core import book, workers
    from gen_core.report import session

    monkeypatch.setattr(workers, "train_in_pool", lambda *a, **k: pytest.fail("the pool ran"))
    forced = session.setup("smoke", DATA_DIR, str(tmp_path / "runs"), force=True)
    assert book.train_runs(forced, NOTEBOOKS) == 0
    assert book.train_runs(session.setup("smoke", DATA_DIR, str(tmp_path / "runs")), NOTEBOOKS, workers=1) == 0
    assert capsys.readouterr().out.splitlines() == ["train: the notebooks train their runs (FORCE=1)",
                                                    "train: the notebooks train their runs (one worker)"]
    code = book.main(["train", "gan_mnist", "vae_mnist", "--params", "{epochs: 2}", "--profile", "smoke",
                      "--runs-dir", str(tmp_path / "runs")])
    assert code == 2
    assert capsys.readouterr().err.strip() == ("error: PARAMS sets one notebook's parameters; name exactly one "
                                               "notebook to train")


def test_the_pool_reads_the_notebooks_parameters_cell(tmp_path, monkeypatch):
    from gen_core import book

    assert book.notebook_defaults("gan_mnist") == {"mlp_a_latents": None, "mlp_b_latents": None,
                                                   "dcgan_latents": None, "epochs": None, "overrides": {}}
    nb = tmp_path / "gan_mnist.py"
    nb.write_text((book.NOTEBOOK_DIR / "gan_mnist.py").read_text()
                  .replace("\nmlp_a_latents = None", "\nmlp_a_latents = [17, 3]", 1)
                  .replace("\nepochs = None", "\nepochs = 2 * 3", 1))          # not a literal: left to the notebook
    monkeypatch.setattr(book, "NOTEBOOK_DIR", tmp_path)
    assert book.notebook_defaults("gan_mnist")["mlp_a_latents"] == [17, 3]
    assert "epochs" not in book.notebook_defaults("gan_mnist")
    assert book.notebook_expressions("gan_mnist") == ["epochs"]
    labels = [c.label for c in book.chapter_configs("gan_mnist", "smoke", {"dcgan_latents": [8]})]
    assert labels == ["MLP A, z=17", "MLP A, z=3", "MLP B, z=200", "DCGAN, z=8"]
    assert book.chapter_configs("comparison", "smoke") == []


@pytest.mark.parametrize("edit, literals, expressions", [
    ("epochs: int = 4", {"epochs": 4}, []),                                   # annotated, still a literal
    ("epochs = 4\nepochs += 1", {}, ["epochs"]),
    ("epochs, mlp_a_latents = 4, [8]", {}, ["epochs", "mlp_a_latents"]),
    ("epochs = 4\nif True:\n    epochs = 5", {}, ["epochs"]),
    ("mlp_a_latents = [8]\nmlp_a_latents[0] = 9", {}, ["mlp_a_latents"]),
    ("overrides = {}\noverrides['lr'] = 0.1", {}, ["overrides"]),
    ("for epochs in range(3):\n    pass", {}, ["epochs"]),
    ("mlp_a_latents = [8]\nmlp_a_latents.append(9)", {}, ["mlp_a_latents"]),      # a method changes it
    ("overrides = {}\noverrides.update(lr=0.1)", {}, ["overrides"]),
    ("from math import pi as epochs", {}, ["epochs"]),
    ("def epochs():\n    return 3", {}, ["epochs"]),
    ("epochs = 4\nlimit = min(epochs, 3)", {}, ["epochs"]),                       # read: left to the kernel too
    ("unrelated = 2 * 3\nepochs = 4", {"epochs": 4}, []),                    # not a parameter: ignored
])
def test_any_binding_but_key_equals_literal_leaves_the_parameter_to_the_notebook(tmp_path, monkeypatch, edit,
                                                                                  literals, expressions):
    from gen_core import book

    nb = tmp_path / "gan_mnist.py"
    nb.write_text((book.NOTEBOOK_DIR / "gan_mnist.py").read_text().replace("\nepochs = None", "\n" + edit, 1))
    monkeypatch.setattr(book, "NOTEBOOK_DIR", tmp_path)
    defaults = book.notebook_defaults("gan_mnist")
    assert {k: defaults[k] for k in literals} == literals
    assert not set(expressions) & set(defaults)
    assert book.notebook_expressions("gan_mnist") == expressions


def test_a_parameters_cell_that_does_not_parse_is_one_line_naming_the_notebook(tmp_path, monkeypatch):
    from gen_core import book

    nb = tmp_path / "gan_mnist.py"
    nb.write_text((book.NOTEBOOK_DIR / "gan_mnist.py").read_text().replace("\nepochs = None", "\nepochs = (", 1))
    monkeypatch.setattr(book, "NOTEBOOK_DIR", tmp_path)
    with pytest.raises(ConfigError, match=r"^notebooks/gan_mnist\.py: its parameters cell is not valid Python "
                                          r"\(.+, line \d+ of the cell\); fix the cell, then run again$"):
        book.notebook_defaults("gan_mnist")


def test_a_parameter_set_by_an_expression_leaves_its_chapter_to_its_notebook(tmp_path, monkeypatch, capsys):
    """The pool cannot know what `epochs = 2 * 3` trains, so it must not train (wrong) runs for that chapter."""
    from gen_core import book, workers
    from gen_core.report import session

    for name in ("gan_mnist", "vae_mnist"):
        (tmp_path / f"{name}.py").write_text((book.NOTEBOOK_DIR / f"{name}.py").read_text())
    nb = tmp_path / "gan_mnist.py"
    nb.write_text(nb.read_text().replace("\nepochs = None", "\nepochs = 2 * 3", 1))
    monkeypatch.setattr(book, "NOTEBOOK_DIR", tmp_path)
    trained = []
    monkeypatch.setattr(workers, "train_in_pool", lambda configs, *a, **k: trained.extend(configs) or 0)
    ctx = session.setup("smoke", DATA_DIR, str(tmp_path / "runs"))
    assert book.train_runs(ctx, ["gan_mnist", "vae_mnist"], workers=2) == 0
    assert capsys.readouterr().out.splitlines() == [
        "train: notebooks/gan_mnist.py sets epochs with an expression; its notebook trains its runs"]
    assert trained and {c.family for c in trained} == {"vae"}
    trained.clear()                             # PARAMS setting it makes it known again
    assert book.train_runs(ctx, ["gan_mnist"], {"epochs": 1}, workers=2) == 0
    assert {c.family for c in trained} == {"gan"} and {c.epochs for c in trained} == {1}


def test_params_with_make_report_is_refused():
    proc = subprocess.run(["make", "report", "PROFILE=smoke", "PARAMS={epochs: 2}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0 and ": running" not in proc.stdout
    assert "error: PARAMS sets one notebook's parameters; use make report-NAME PARAMS=..." in proc.stderr


@pytest.mark.parametrize("text, value", [("[17]", [17]), ("{lr: 1e-4}", {"lr": 1e-4}), ('{"lr": 0.0001}', {"lr": 1e-4}),
                                         ("None", None), ("3", 3), ("true", True), ("adam", "adam")])
def test_parameter_values_parse_as_python_or_yaml_literals(text, value):
    from gen_core.book import parse_value

    assert parse_value(text) == value and type(parse_value(text)) is type(value)


# ---- every Makefile target, end to end at a tiny size -------------------------------------------

def test_make_help_lists_the_targets_and_variables():
    proc = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    for word in ("make report", "make report-NAME", "make book", "make train", "make bench", "make data",
                 "make test", "make setup", "make clean", "PROFILE", "GEN_DATA_DIR", "GEN_RUNS_DIR", "FORCE",
                 "PARAMS", "GEN_SMOKE_DIR", "TRAIN_ARGS", "BENCH_ARGS"):
        assert word in proc.stdout, word
    assert all(name in proc.stdout for name in NOTEBOOKS)


def test_make_train_trains_and_measures_the_selected_runs(repo, tmp_path):
    proc = make(repo, "train", "PROFILE=smoke", f"GEN_DATA_DIR={DATA_DIR}", f"GEN_RUNS_DIR={tmp_path / 'runs'}",
                "TRAIN_ARGS=--family vae --dataset mnist --variant 'MLP A' --latent 50")
    assert re.search(r"\[1/1\] vae-mnist-mlpa-z50-\w+: complete, FD [\d.e+]+ \(\d+ s\)", proc.stdout), proc.stdout
    assert len(list((tmp_path / "runs").glob("vae-mnist-mlpa-z50-*/yardstick.json"))) == 1


def bench_case_arch(family: str, dataset: str, variant: str) -> str:
    from gen_core.grid import rows
    return next(r.arch for r in rows(family, dataset) if r.variant == variant)


def test_make_bench_runs_every_case_and_counts_flops(repo):
    proc = make(repo, "bench", f"GEN_DATA_DIR={DATA_DIR}",
                "BENCH_ARGS=--profile smoke --seconds 0.02 --estimate-profile smoke --flops-profile smoke")
    from gen_core.bench import cases

    from gen_core.grid import uses_bf16

    assert re.search(r"bf16 img/s +x fp32 +grid +\d+ workers img/s +x 1 proc$", proc.stdout, re.M), proc.stdout[:1500]
    for family, dataset, variant in cases():
        arch = bench_case_arch(family, dataset, variant)
        used = "bf16" if uses_bf16("smoke", family, dataset, arch, variant) else "fp32"
        # steps, project, reference, ratio, [goal], bf16 img/s, x fp32, grid, workers img/s, x 1 proc
        assert re.search(rf"^{family} {dataset} {variant} z=\d+ +\d+ .* [\d,]+ +[\d.]+ +{used} +[\d,]+ +[\d.]+$",
                         proc.stdout, re.M), (family, variant, proc.stdout[:3000])
    assert "smoke report on this machine, estimated from 30 timed steps of each of its 29 runs" in proc.stdout
    assert re.search(r"smoke grid: [\d.e+-]+ PFLOP of matmuls and convolutions to train all 29 runs", proc.stdout)


def test_make_data_writes_both_datasets(repo, tmp_path):
    """In this checkout (CI and development have ../shared beside it); elsewhere it says where to look."""
    proc = make(repo, "data", f"GEN_DATA_DIR={tmp_path / 'elsewhere'}")       # the copy has no ../shared
    assert "see the README's \"Offline use\" section" in proc.stdout and not (tmp_path / "elsewhere").exists()
    make(ROOT, "data", f"GEN_DATA_DIR={tmp_path / 'data'}")
    assert (tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte").stat().st_size == 16 + 60000 * 784
    assert len(list((tmp_path / "data" / "cifar-10-batches-py").glob("data_batch_*"))) == 5


def test_make_clean_removes_build_and_runs(repo):
    for name in ("_build", "runs"):
        (repo / name / "x").mkdir(parents=True, exist_ok=True)
    make(repo, "clean")
    assert not (repo / "_build").exists() and not (repo / "runs").exists()
    assert (repo / "gen_core").exists() and (repo / "book" / "experiments").exists()
