"""Figures from hand-made runs: what they draw, and a note in place of an empty chart."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from conftest import fake_run  # noqa: E402
from gen_core.grid import grid  # noqa: E402
from gen_core.report import plots, tables  # noqa: E402
from report.test_runsets import wgan_runs  # noqa: E402


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
    frame = tables.comparison_frame([unmeasurable, fake_run(cfgs[1], None, status="diverged")],
                                    {"mnist": {"fd": 2.0, "fd_ci": [1.5, 2.5]}})
    for fig in (plots.plot_class_bars(frame), plots.plot_fd_vs_latent(frame, {"MNIST": 2.0}),
                plots.plot_precision_recall(frame, {"MNIST": {"precision": 0.9, "recall": 0.8}})):
        assert [t.get_text() for t in fig.axes[0].texts] == [
            "no run here has yardstick numbers: each diverged or could not be measured"]


def _with_curves(runs, emd):
    """Give each run 100 logged steps: an EMD estimate rising linearly from emd[label] to 1.5 times it, the
    critic loss its negative, and a gradient penalty of 0.5 for the runs with one (WGAN-GP)."""
    for run in runs:
        start = emd[run.config.label]
        steps = {"emd": [start * (1 + 0.5 * i / 99) for i in range(100)]}
        steps["critic_loss"] = [-v for v in steps["emd"]]
        steps["g_loss"] = [1.0] * 100
        if run.config.gp:
            steps["gp"] = [0.5] * 100
        run.history = {"steps": steps, "epochs": {}}
    return runs


def _legend_colours(fig):
    (legend,) = fig.legends
    return {text.get_text(): handle.get_color() for text, handle in zip(legend.get_texts(), legend.legend_handles)}


def test_curves_of_runs_on_different_scales_get_an_axis_each_in_the_legends_colours():
    """Clipped critics' EMD 0.01 beside the penalised critic's 25: 25 * 1.5 / (0.01 * 1.5) = 2500 times the
    scale, over SHARED_AXIS_SPREAD (20), so a row per run; the penalty panel draws the WGAN-GP run, the last
    of four, in its own legend colour (the palette's 4th), not the palette's first."""
    runs = _with_curves(wgan_runs(30.0, 20.0), {"MLP A, z=100": 0.02, "DC-WGAN, z=256": 0.01,
                                                 "DC-WGAN, z=64": 0.01, "DC-WGAN-GP, z=64": 25.0})
    fig = plots.plot_curves(runs)
    colours = _legend_colours(fig)
    assert list(colours) == ["MLP A, z=100", "DC-WGAN, z=256", "DC-WGAN, z=64", "DC-WGAN-GP, z=64"]
    assert len(set(map(str, colours.values()))) == 4
    assert len(fig.axes) == 4 * 4                                        # 4 runs x 4 curves
    drawn = [(ax, line) for ax in fig.axes for line in ax.get_lines()]
    assert len(drawn) == 4 * 3 + 1                                       # the penalty: one run's line
    for ax, line in drawn:
        assert line.get_color() == colours[line.get_label()], line.get_label()
    (penalty,) = [line for ax, line in drawn if ax.get_title() == "" and list(line.get_ydata()) == [0.5] * 100]
    assert penalty.get_label() == "DC-WGAN-GP, z=64" and penalty.get_color() != colours["MLP A, z=100"]
    # the clipped critic's own axis reaches its values, 0.01 to 0.015, not 0 to 37.5
    (clipped,) = [ax for ax, line in drawn if line.get_label() == "DC-WGAN, z=64" and line.get_ydata()[0] == 0.01]
    low, high = clipped.get_ylim()
    assert 0.009 < low < 0.01 and 0.015 < high < 0.016


def test_curves_on_one_scale_share_one_panel_per_curve():
    """EMD 0.01 to 0.03 (3 times, under 20): one panel per curve, every run in it, no penalty panel (no run logs it)."""
    runs = _with_curves(wgan_runs(30.0, 20.0)[:3], {"MLP A, z=100": 0.03, "DC-WGAN, z=256": 0.01, "DC-WGAN, z=64": 0.02})
    fig = plots.plot_curves(runs)
    assert [ax.get_title() for ax in fig.axes] == ["EMD estimate", "critic loss", "generator loss"]
    colours = _legend_colours(fig)
    assert [line.get_label() for line in fig.axes[0].get_lines()] == list(colours)
    assert all(line.get_color() == colours[line.get_label()] for ax in fig.axes for line in ax.get_lines())


def test_fd_against_latent_size_draws_each_points_interval_and_names_each_variant():
    """MLP A at z=100 over 3 seeds (FD 100, 200, 400, each +- 5: the seed mean 200 [35.74, 1119.2], see
    test_tables) and at z=200 (one seed, 50 +- 0.1); MLP B at z=200 (300 +- 0.1)."""
    cfgs = grid("gan", "mnist", "quick")
    runs = []
    for s, fd in enumerate((100.0, 200.0, 400.0)):
        runs.append(fake_run(cfgs[0], fd, seed=s))
        runs[-1].yardstick["fd_ci"] = [fd - 5, fd + 5]
    runs += [fake_run(cfgs[1], 50.0), fake_run(cfgs[2], 300.0)]
    frame = tables.comparison_frame(runs, {"mnist": {"fd": 2.0, "fd_ci": [1.5, 2.5]}})
    fig = plots.plot_fd_vs_latent(frame, {"MNIST": 2.0})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["real-data floor", "GAN MLP A", "GAN MLP B"]
    mlp_a, mlp_b = ax.containers
    bars = [segment.tolist() for segment in mlp_a.lines[2][0].get_segments()]
    assert bars[0][0][0] == 100 and bars[0][0][1] == pytest.approx(35.74, abs=0.01)
    assert bars[0][1][1] == pytest.approx(1119.2, abs=0.1)
    assert bars[1] == [[200, pytest.approx(49.9)], [200, pytest.approx(50.1)]]
    assert [s.tolist() for s in mlp_b.lines[2][0].get_segments()] == [[[200, pytest.approx(299.9)],
                                                                        [200, pytest.approx(300.1)]]]
    assert ax.get_xscale() == ax.get_yscale() == "log"
