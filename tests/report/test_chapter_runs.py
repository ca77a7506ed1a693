"""A chapter through the funnel (gen_core.runs): a run whose weights are corrupt or missing is reported
once and retrained; a run whose samples cannot be measured is reported once, shown as unmeasurable in
the tables and the prose, and left out of every ranking, and the chapter and the comparison go on."""
from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import pytest
import torch

import gen_core.train as train_module
from conftest import make_split
from gen_core.classifier import Classifier, build_classifier, classifier_config, features_and_logits
from gen_core.data import to_unit
from gen_core.report import comparison, findings, plots, runsets, session, tables
from gen_core.yardstick import RealSide

matplotlib.use("Agg")


@pytest.fixture
def chapter(tmp_path, tiny_cfg, monkeypatch):
    """A smoke context whose MNIST real side is an untrained LeNet's, and a tiny GAN chapter run in it."""
    monkeypatch.setattr("gen_core.data.cached_split",
                        lambda name, root, train, device, size: make_split(32, name, seed=int(train)))
    torch.manual_seed(0)
    cfg = classifier_config("mnist", "smoke")
    summary = {"arch": "LeNet", "test_accuracy": 0.1, "test_images": 48, "epochs": 0, "train_images": 0,
               "profile": "smoke", "floor": 0.5, "below_floor": True}
    clf = Classifier(cfg, build_classifier(cfg).eval(), summary)
    test_features = features_and_logits(clf.model, to_unit(make_split(48, "mnist", seed=5).images))[0]   # (48, F)
    real = RealSide("mnist", 20, clf, test_features, {})
    monkeypatch.setattr("gen_core.runs._real_side", lambda *key: real)      # what runs.real_side builds and caches
    ctx = session.setup("smoke", "unused", str(tmp_path), False)
    run_cfg = tiny_cfg("gan", epochs=1, batch_size=16, n_samples=8, n_eval_samples=16)
    return SimpleNamespace(ctx=ctx, cfg=run_cfg, real=real, run=session.chapter_runs([run_cfg], "gan_mnist", ctx)[0])


def test_chapter_runs_retrains_a_run_whose_model_is_corrupt(chapter, capfd):
    """Reported with its path, trained again, measured: the chapter and the comparison go on."""
    first = chapter.run
    (first.dir / "yardstick.json").unlink()
    (first.dir / "model.pt").write_bytes(b"\x80")
    capfd.readouterr()
    again = session.chapter_runs([chapter.cfg], "gan_mnist", chapter.ctx)[0]
    err = capfd.readouterr().err
    assert f"run {first.dir}: model.pt is unreadable" in err and "training it again" in err
    timing = lambda y: {**y, "over_training_seconds": None,                 # noqa: E731
                        "over_training": [{**p, "train_seconds": None} for p in y["over_training"]]}
    assert timing(again.yardstick) == timing(first.yardstick)     # same seed, same weights, same measures


def test_a_figure_that_needs_the_weights_of_a_run_without_model_pt_says_so_and_retrains(chapter, capfd):
    path = chapter.run.dir / "model.pt"
    saved = torch.load(path, map_location="cpu", weights_only=True)
    path.unlink()
    capfd.readouterr()
    models = session.run_models(chapter.run, chapter.ctx)
    warnings = [line for line in capfd.readouterr().err.splitlines() if line.startswith("warning:")]   # not the bar
    assert warnings == [f"warning: run {chapter.run.dir}: model.pt is missing ({path}), and a figure on this page "
                        f"draws from its networks; training it again"]
    for name, state in saved.items():                              # same seed: the same weights again
        assert all(torch.equal(models[name].state_dict()[k], v) for k, v in state.items()), name


def test_an_unmeasurable_run_is_shown_as_such_and_the_chapter_goes_on(chapter, monkeypatch, capfd):
    """A run whose samples turn NaN (its losses stayed finite): warned about once, in the table's status
    and the prose, and left out of every ranking, without stopping the chapter or the comparison."""
    (chapter.run.dir / "yardstick.json").unlink()
    monkeypatch.setattr(train_module, "generate_many",
                        lambda cfg, models, n, *a, **k: torch.full((n, 1, 28, 28), float("nan")))
    capfd.readouterr()
    runs = session.chapter_runs([chapter.cfg], "gan_mnist", chapter.ctx)
    assert capfd.readouterr().err.count("the yardstick cannot measure its samples") == 1
    assert runs[0].yardstick == {"unmeasurable": "20 of its 20 samples hold NaN or infinite pixels"}
    table = tables.summary_table(runs)
    row = (chapter.cfg.label, "seed 0 (one seed)")
    assert table.loc[row, "status"] == "unmeasurable" and table.loc[row, "FD"] is None
    text = findings.chapter_findings(runs, chapter.real, "smoke")
    assert (f"**Unmeasurable runs.**\n- **{chapter.cfg.label} (seed 0) is unmeasurable**: 20 of its 20 samples hold "
            f"NaN or infinite pixels.") in text
    assert runsets.best_run(runs) is None and runsets.best_per_family(runs, "mnist") == []
    plots.plot_fd_over_training(runs, 1.0)
    plots.plot_label_histograms(runsets.on_the_data(runs), [str(i) for i in range(10)])
    # the comparison reads it back from yardstick.json, without a second warning
    again = session.chapter_runs([chapter.cfg], "gan_mnist", chapter.ctx)
    assert again[0].yardstick == runs[0].yardstick and "warning" not in capfd.readouterr().err
    assert "**Unmeasurable runs.** They are left out of the comparisons below." in \
        comparison.comparison_findings(again, {}, "smoke")
    floors = {"mnist": {"fd": 1.0, "fd_ci": [0.9, 1.1]}}
    assert tables.comparison_table(again, floors).loc[("MNIST", 1), "status"].tolist() == ["unmeasurable"]
    plots.plot_class_bars(tables.comparison_frame(again, floors))
