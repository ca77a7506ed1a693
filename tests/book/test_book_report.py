"""The smoke report end to end: papermill runs every notebook, jupyter-book builds the pages;
then the incremental report and notebook parameters at a tiny size.

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

from gen_core import book
from gen_core.book import CHAPTERS, NOTEBOOKS, ROOT, BookError, layout

from book_repo import DATA_DIR, make


def _tree_state(path: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in path.glob("*")} if path.exists() else {}


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
    # the pool trains each classifier once, as its first tasks (one line each on stdout), before any run; then
    # -j 3 starts vae_mnist, vae_cifar10 and gan_mnist together (the _toc.yml order), and both MNIST chapters
    # load the MNIST classifier: no chapter trains one again (its progress bar, on stderr, never starts)
    for dataset, arch in (("mnist", "LeNet"), ("cifar10", "ResNet-8")):
        trained = re.findall(rf"classifier {dataset} \({arch}\): test accuracy [\d.]+% \(\d+ s\)", smoke_book["stdout"])
        assert len(trained) == 1, (dataset, len(trained))
        assert smoke_book["stdout"].index(trained[0]) < smoke_book["stdout"].index("[1/29] "), "a run finished first"
        assert not re.findall(rf"classifier {dataset} {arch}:\s+0%", smoke_book["stderr"]), dataset
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
        assert "A smoke build, not the published book (make report PROFILE=long publishes it): results from " \
               "profile smoke" in text, f"{page} lacks the provenance banner"
        assert "; trained on " in text and ", 1 thread, torch " in text and "of training, one run after another (" in text


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
    """Every yardstick cell of the comparison table carries its interval; the answers come first, as a
    table, and every verdict on smoke's one seed says it is provisional; the 26 claims get a row each."""
    nb = nbformat.read(smoke_book["root"] / "book" / "experiments" / "comparison.ipynb", as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    table = next(c for c in nb.cells if c.cell_type == "code" and "tables.comparison_table" in c.source)
    html = table.outputs[0]["data"]["text/html"]
    assert html.count(" [") >= 29 * 5                     # FD, precision, recall, density, coverage per run
    for verdict in ("at the end of training?**", "**And at equal generator updates?**",
                    "**And at equal training time?**"):
        assert outputs.count(verdict) == 2, verdict         # MNIST and CIFAR-10
    answers = next(c for c in nb.cells if c.cell_type == "code" and "comparison.answers_table" in c.source)
    first = answers.outputs[0]["data"]["text/html"]
    assert "<th" in first and "question" in first               # the table comes before the prose
    rows = first.count('class="data row') // 4                  # question, answer, numbers, seeds
    assert rows >= 10 and first.count("(one seed: provisional)") == rows   # in every answer
    claims = next(c for c in nb.cells if c.cell_type == "code" and "claims.claim_results" in c.source)
    shown = claims.outputs[-1]["data"]["text/html"]
    for claim in [f"M{i}." for i in range(1, 10)] + [f"C{i}." for i in range(1, 18)]:
        assert f">{claim} " in shown, claim


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


def test_help_names_long_and_full_as_the_published_profiles():
    """The published book is executed from long (or full); quick and smoke stage copies, never book/experiments."""
    proc = subprocess.run([sys.executable, "-m", "gen_core.book", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0
    assert any(re.match(r"^  long +book/experiments/, the published book: it is executed from this profile", x)
               for x in lines)
    assert any(re.match(r"^  full +book/experiments/: published too", x) for x in lines)
    assert any(re.match(r"^  quick +never book/experiments/: .*not for publishing", x) for x in lines)
    quick = next(i for i, x in enumerate(lines) if x.startswith("  quick "))
    assert "under _build/quick/" in lines[quick] + lines[quick + 1]
    assert any(re.match(r"^  smoke +never book/experiments/", x) for x in lines)
    assert "The quick and full profiles write" not in proc.stdout


def test_every_notebook_is_in_the_toc_and_every_experiment_page_has_a_notebook():
    """_toc.yml orders the notebooks make report executes: none may be missing from it."""
    assert sorted(NOTEBOOKS) == sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    assert NOTEBOOKS[-1] == "comparison" and CHAPTERS == NOTEBOOKS[:-1]


def test_missing_data_fails_before_any_notebook_runs(tmp_path, monkeypatch, capsys):
    """Offline with an empty GEN_DATA_DIR: one line naming the path and the fix, exit 2."""
    import torchvision.datasets as tvd

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(tvd, "MNIST", offline)
    monkeypatch.setattr(layout, "execute_notebook", lambda *a, **k: pytest.fail("a notebook ran"))
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
    monkeypatch.setattr(session, "measured_run",
                        lambda cfg, ctx, force=None, **k: seen.append(force) or SimpleNamespace(yardstick={}))
    ctx = session.setup("smoke", "data", str(tmp_path / "runs"), force=True)
    session.all_runs(ctx)
    assert seen == [False] * 29                 # never None: that would take the forced context's choice


def test_a_diverged_run_gets_a_note_and_its_notebook_still_executes(tmp_path, monkeypatch):
    """A NaN in one run's loss: the run is kept as diverged, the chapter executes and says so."""
    import gen_core.losses
    from gen_core import results
    from gen_core.grid import grid

    real_loss = gen_core.losses.vae_loss

    def nan_loss(logits, x, mu, logvar):                 # every step of this run: NaN
        total, bce, kl = real_loss(logits, x, mu, logvar)
        return total * float("nan"), bce, kl

    cfg = grid("vae", "mnist", "smoke")[0]
    run_dir = tmp_path / "runs" / cfg.run_name()        # before the stand-in: the run's name hashes the real loss
    monkeypatch.setattr(gen_core.losses, "vae_loss", nan_loss)
    run = results.train_and_save(cfg, DATA_DIR, run_dir, "cpu", progress=False)
    monkeypatch.undo()
    assert run.summary["status"] == "diverged" and run.summary["diverged_at"]["epoch"] == 1
    assert json.loads((run.dir / "history.json").read_text())["steps"]["loss"]     # its curve so far is kept

    params = {"profile": "smoke", "data_dir": DATA_DIR, "runs_dir": str(tmp_path / "runs"), "force": False}
    out = layout.execute_notebook("vae_mnist", tmp_path / "book", params)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert f"{cfg.label} (seed 0) diverged** at epoch 1, step 1" in json.dumps(outputs)


def _staged_copy_of_the_published_book(dest: Path) -> Path:
    root = layout.stage_book(dest)
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
    root = _staged_copy_of_the_published_book(tmp_path / "book")
    methods = root / "book" / "methods.md"
    methods.write_text(methods.read_text() + "\nSee {ref}`no-such-section`.\n")
    with pytest.raises(BookError) as err:
        layout.build_book(root)
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




def test_only_long_and_full_write_the_published_book_quick_and_smoke_stage_their_own(tmp_path):
    assert layout.book_root_for("long", tmp_path) == layout.book_root_for("full", tmp_path) == ROOT
    assert layout.book_root_for("smoke", tmp_path / "s") == tmp_path / "s"                 # GEN_SMOKE_DIR
    assert layout.book_root_for("quick", tmp_path) == ROOT / "_build" / "quick"


def test_the_announcement_of_an_unpublished_build_says_it_is_not_the_published_book(tmp_path):
    prov = {"profile": "quick", "device": "cpu", "data": "data (x)", "commit": "abc", "date": "2026-01-01 00:00 UTC",
            "training": {"runs": 29, "trained": 29, "machines": ["C (AVX-512), 1 thread, torch 2"], "bf16_runs": 20,
                         "train_seconds": 2100.0, "cpu_seconds": 2000.0}}
    (tmp_path / layout.PROVENANCE).parent.mkdir(parents=True)
    (tmp_path / layout.PROVENANCE).write_text(json.dumps(prov))
    assert layout.announcement(tmp_path) == (
        "A quick build, not the published book (make report PROFILE=long publishes it): results from profile quick "
        "on cpu, data from the folder data (x), commit abc, 2026-01-01 00:00 UTC; trained on C (AVX-512), 1 thread, "
        "torch 2; bf16 in 20 of 29 runs; 35.0 min of training, one run after another (29 of 29 runs)")
    (tmp_path / layout.PROVENANCE).write_text(json.dumps({**prov, "profile": "long"}))
    assert layout.announcement(tmp_path).startswith("Results from profile long on cpu, data from the folder data (x)")
    del prov["training"]                                   # a provenance.json written before the machines were named
    (tmp_path / layout.PROVENANCE).write_text(json.dumps({**prov, "profile": "long"}))
    assert layout.announcement(tmp_path) == ("Results from profile long on cpu, data from the folder data (x), "
                                             "commit abc, 2026-01-01 00:00 UTC")
