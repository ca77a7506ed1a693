"""Figures from hand-made runs: what they draw, and a note in place of an empty chart."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from conftest import fake_run  # noqa: E402
from gen_core.grid import grid  # noqa: E402
from gen_core.report import plots, tables  # noqa: E402


def test_fd_over_training_draws_one_point_per_measurement_with_its_interval():
    cfgs = grid("gan", "mnist", "quick")[:2]
    runs = [fake_run(cfgs[0], 10.0, curve=[(1, 100, 30.0), (2, 200, 20.0), (3, 300, 10.0)]),
            fake_run(cfgs[1], 12.0, curve=[(1, 100, 25.0), (3, 300, 12.0)])]
    frame = plots.over_training_frame(runs)
    assert list(frame["epoch"]) == [1, 2, 3, 1, 3] and list(frame["lo"]) == [29.9, 19.9, 9.9, 24.9, 11.9]
    fig = plots.plot_fd_over_training(runs, floor_fd=2.0, title="MNIST")
    left, right = fig.axes[:2]
    assert left.get_xscale() == right.get_xscale() == left.get_yscale() == "log"
    assert left.get_xlabel() == "generator images" and right.get_xlabel() == "train seconds"
    assert fig._suptitle.get_text() == "MNIST"
    assert any(list(line.get_ydata()) == [2.0, 2.0] for line in left.get_lines())       # the floor


def test_label_histograms_of_no_run_on_the_data_is_a_note():
    fig = plots.plot_label_histograms([], [str(i) for i in range(10)], empty="nothing on the data")
    assert [t.get_text() for t in fig.axes[0].texts] == ["nothing on the data"]


def test_charts_of_yardstick_numbers_without_a_measured_run_are_a_note():
    """Every run diverged or was unmeasurable: the comparison's charts say so instead of crashing."""
    cfgs = grid("gan", "mnist", "quick")[:2]
    unmeasurable = fake_run(cfgs[0], None)
    unmeasurable.yardstick = {"unmeasurable": "16 of its 16 samples hold NaN or infinite pixels"}
    frame = tables.comparison_frame([unmeasurable, fake_run(cfgs[1], None, status="diverged")], {"mnist": 2.0})
    for fig in (plots.plot_class_bars(frame), plots.plot_fd_vs_latent(frame, {"MNIST": 2.0}),
                plots.plot_precision_recall(frame, {"MNIST": {"precision": 0.9, "recall": 0.8}})):
        assert [t.get_text() for t in fig.axes[0].texts] == [
            "no run here has yardstick numbers: each diverged or could not be measured"]
