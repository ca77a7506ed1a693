"""Tables of hand-made runs: ranking, floors, family columns, seed rows, and a chapter's configs."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import fake_run
from gen_core.grid import grid
from gen_core.report import experiment, runsets, tables
from report.test_runsets import wgan_runs

# the real sides' floor measures (real.floor): FD with its 95% interval, narrow enough to divide by
FLOORS = {"mnist": {"fd": 2.0, "fd_ci": [1.5, 2.5]}, "cifar10": {"fd": 0.5, "fd_ci": [0.4, 0.6]}}
ONE = "seed 0 (one seed)"


def first(table, *key):
    """The first row under a partial index key (a configuration's seed mean, or its one seed)."""
    return table.loc[key].iloc[0]


def seeded(cfg, fds, precisions=None, half=5.0):
    """One run per seed with FD fds[s] and its own FD interval [fd - half, fd + half]; precision as given."""
    runs = []
    for s, fd in enumerate(fds):
        run = fake_run(cfg, fd, seed=s)
        if fd is not None:
            run.yardstick["fd_ci"] = [fd - half, fd + half]
        if precisions:
            run.yardstick["precision"] = precisions[s]
            run.yardstick["precision_ci"] = [precisions[s] - 0.1, precisions[s] + 0.1]
        run.summary["final_epoch"] = {"jsd": 0.1 * (s + 1)}
        runs.append(run)
    return runs


def test_comparison_table_ranks_by_fd_within_each_dataset():
    mnist = grid("gan", "mnist", "quick")[:3]
    runs = [fake_run(mnist[0], 30.0), fake_run(mnist[1], 10.0), fake_run(mnist[2], 20.0),
            fake_run(grid("vae", "cifar10", "quick")[0], 1.0)]
    table = tables.comparison_table(runs, FLOORS)
    assert list(table.loc["MNIST"]["FD"]) == ["10 [9.9, 10.1]", "20 [19.9, 20.1]", "30 [29.9, 30.1]"]
    assert list(table.columns[:2]) == ["FD", "KID"]          # the ranked measure in view before the table scrolls
    assert list(table.loc["MNIST"].index.get_level_values("rank")) == [1, 2, 3]
    assert set(table.index.get_level_values("seed")) == {ONE}
    assert first(table, "MNIST", 1)["FD / floor"] == "5"                 # 10 / floor 2
    assert first(table, "CIFAR-10", 1)["FD / floor"] == "2"              # 1 / floor 0.5
    assert first(table, "MNIST", 1)["floor FD"] == "2 [1.5, 2.5]"


def test_a_configuration_with_seeds_shows_its_mean_then_each_seed_with_its_own_interval():
    """FD 100, 200, 400 over seeds 0-2, each with its own interval +- 5. The seed mean is geometric,
    (100 * 200 * 400)^(1/3) = 200; its interval on log FD: logs ln 200 -+ ln 2 and ln 200, sd ln 2 = 0.6931,
    half width t(0.975, 2) 0.6931 / sqrt(3) = 4.303 * 0.4002 = 1.7220, so 200 exp(-+1.7220) = 200 * 0.1787 and
    200 * 5.596 = [35.7, 1119].
    Precision 0.02, 0.5, 0.98: mean 0.5, sd 0.48, half 4.303 * 0.48 / sqrt(3) = 1.19, cut to [0, 1]; seed 0's
    own 0.02 +- 0.1 = [-0.08, 0.12] is cut to [0, 0.12]. The JSD estimate at the last epoch, 0.1, 0.2, 0.3 per
    seed, averages to 0.2."""
    cfgs = grid("gan", "mnist", "quick")
    runs = seeded(cfgs[0], (100.0, 200.0, 400.0), precisions=(0.02, 0.5, 0.98)) + [fake_run(cfgs[1], 50.0)]
    table = tables.summary_table(runs)
    assert list(table.index) == [("MLP A, z=100", "mean of 3 seeds"), ("MLP A, z=100", "seed 0"),
                                 ("MLP A, z=100", "seed 1"), ("MLP A, z=100", "seed 2"), ("MLP A, z=200", ONE)]
    assert list(table["FD"]) == ["200 [35.7, 1119]", "100 [95, 105]", "200 [195, 205]", "400 [395, 405]",
                                 "50 [49.9, 50.1]"]
    assert list(table["precision"])[:2] == ["0.5 [0, 1]", "0.02 [0, 0.12]"]
    assert list(table["JSD estimate"]) == [0.2, 0.1, 0.2, 0.3, 0.1]
    # the comparison: one rank per configuration, every row of it under that rank
    table = tables.comparison_table(runs + [fake_run(cfgs[2], 300.0)], FLOORS)
    assert [(rank, run, seed) for _, rank, _, run, seed in table.index] == [
        (1, "MLP A, z=200", ONE), (2, "MLP A, z=100", "mean of 3 seeds"), (2, "MLP A, z=100", "seed 0"),
        (2, "MLP A, z=100", "seed 1"), (2, "MLP A, z=100", "seed 2"), (3, "MLP B, z=200", ONE)]
    assert list(table["FD"])[1:5] == ["200 [35.7, 1119]", "100 [95, 105]", "200 [195, 205]", "400 [395, 405]"]
    assert list(table["FD / floor"]) == ["25", "100", "50", "100", "200", "150"]      # each FD / floor 2


def test_no_printed_interval_leaves_its_measures_range():
    """Every "v [lo, hi]" cell: FD and density above 0, shares in [0, 1], lo <= v <= hi."""
    cfgs = grid("gan", "mnist", "quick")
    runs = seeded(cfgs[0], (1.0, 2.0, 60.0), precisions=(0.02, 0.5, 0.98), half=0.5) + [fake_run(cfgs[1], 0.05, half=0.04)]
    for table in (tables.summary_table(runs), tables.comparison_table(runs, FLOORS)):
        for column in ("FD", "precision", "recall", "density", "coverage", "on data", "counted"):
            for text in (t for t in table[column] if isinstance(t, str)):    # else no interval, or no number
                v, lo, hi = (float(x) for x in re.fullmatch(r"(\S+)(?: ± \S+)? \[(\S+), (\S+)\]", text).groups())
                assert lo <= v <= hi, (column, text)
                assert (lo > 0 if column in ("FD", "density") else 0 <= lo and hi <= 1), (column, text)


def test_a_lost_seed_is_its_own_row_and_the_mean_says_how_many_seeds_it_rests_on():
    """Seeds 0 and 2 measured (FD 100 and 400: geometric mean 200, std sqrt(2 * 150^2) = 212), seed 1 diverged."""
    runs = seeded(grid("gan", "mnist", "quick")[0], (100.0, None, 400.0))
    runs[1] = fake_run(runs[1].config, None, seed=1, status="diverged")
    table = tables.summary_table(runs)
    assert list(table.index.get_level_values("seed")) == ["mean of 2 of 3 seeds", "seed 0", "seed 1", "seed 2"]
    assert list(table["status"]) == ["complete (1 of 3 seeds diverged)", "complete", "diverged", "complete"]
    assert table["FD"].iloc[0].startswith("200 [") and pd.isna(table["FD"].iloc[2])


def test_fd_over_floor_is_dropped_where_the_floors_interval_is_too_wide():
    """CIFAR-10's floor 0.01 [0.005, 0.021] spans 0.021 / 0.005 = 4.2 times, more than 2: no ratio, "n/a", and
    the floor with its interval beside it. MNIST's 1 [0.9, 1.2] spans 1.33 times: FD 10 / 1 = 10."""
    floors = {"mnist": {"fd": 1.0, "fd_ci": [0.9, 1.2]}, "cifar10": {"fd": 0.01, "fd_ci": [0.005, 0.021]}}
    runs = [fake_run(grid("gan", "mnist", "quick")[0], 10.0), fake_run(grid("vae", "cifar10", "quick")[0], 3.0)]
    table = tables.comparison_table(runs, floors)
    assert (first(table, "MNIST", 1)["FD / floor"], first(table, "MNIST", 1)["floor FD"]) == ("10", "1 [0.9, 1.2]")
    assert (first(table, "CIFAR-10", 1)["FD / floor"], first(table, "CIFAR-10", 1)["floor FD"]) == \
        ("n/a", "0.01 [0.005, 0.021]")
    frame = tables.comparison_frame(runs, floors).set_index("dataset")
    assert frame.loc["MNIST", "FD / floor"] == 10.0 and pd.isna(frame.loc["CIFAR-10", "FD / floor"])
    assert (frame.loc["MNIST", "FD lo"], frame.loc["MNIST", "FD hi"]) == (9.9, 10.1)


def test_floors_must_be_the_real_sides_measures():
    runs = [fake_run(grid("gan", "mnist", "quick")[0], 10.0)]
    with pytest.raises(ValueError, match=r"^floors\['mnist'\] is 2.0; it must be the real side's floor measures"):
        tables.comparison_frame(runs, {"mnist": 2.0})
    with pytest.raises(ValueError, match=r"^floors has no entry for dataset 'mnist'"):
        tables.comparison_table(runs, {"cifar10": FLOORS["cifar10"]})


def test_comparison_lists_wgan_gp_as_its_own_family():
    table = tables.comparison_table(wgan_runs(30.0, 20.0), FLOORS)
    gp_rows = table.xs("DC-WGAN-GP, z=64", level="run")
    assert list(gp_rows.index.get_level_values("family")) == ["WGAN-GP"] and list(gp_rows["FD"]) == ["20 [19.9, 20.1]"]
    assert set(table.index.get_level_values("family")) == {"WGAN", "WGAN-GP"}


def test_summary_table_takes_the_estimate_and_extra_columns_from_the_family():
    vae = tables.summary_table([fake_run(grid("vae", "mnist", "quick")[0], 3.0)])
    assert list(vae.columns[:5]) == ["status", "train -ELBO", "test -ELBO", "test BCE", "test KL"]
    assert vae.loc[("MLP A, z=50", ONE), "train -ELBO"] == 1.0 and vae.loc[("MLP A, z=50", ONE), "test -ELBO"] == 100.0
    gan = tables.summary_table([fake_run(grid("gan", "mnist", "quick")[0], 3.0)])
    assert list(gan.columns[:3]) == ["status", "JSD estimate", "FD"]
    assert gan.loc[("MLP A, z=100", ONE), "FD"] == "3 [2.9, 3.1]"
    assert gan.loc[("MLP A, z=100", ONE), "collapse"] == "not collapsed"


def test_cells_show_the_interval_and_mark_runs_still_improving():
    cfg = grid("gan", "mnist", "quick")[0]
    falling = fake_run(cfg, 10.0, half=0.5, curve=[(1, 100, 30.0), (3, 300, 10.0)])
    table = tables.summary_table([falling])
    assert table.loc[("MLP A, z=100", ONE), "FD"] == "10 [9.5, 10.5]"
    assert table.loc[("MLP A, z=100", ONE), "precision"] == "0.5 [0, 1]"        # 0.5 +- 0.5, two digits
    assert table.loc[("MLP A, z=100", ONE), "still improving"] == "yes"
    flat = fake_run(cfg, 10.0, half=0.5, curve=[(1, 100, 10.2), (3, 300, 10.0)])
    assert tables.summary_table([flat]).loc[("MLP A, z=100", ONE), "still improving"] == "no"
    assert tables.cell(fake_run(cfg, 10.0, half=None), "fd") == 10.0     # no interval recorded: the number


def test_seconds_over_seeds_are_whole_numbers_and_never_below_zero():
    """train seconds 10, 11, 12 (fake_run: 10 + seed): mean 11 ± sd 1, t interval 11 -+ 4.303 / sqrt(3) = 11 -+ 2.48."""
    runs = seeded(grid("gan", "mnist", "quick")[0], (1.0, 2.0, 3.0))
    assert tables.cell(runsets.average_seeds(runs)[0], "train_seconds", 0) == "11 [9, 13]"
    runs[2].summary["train_seconds"] = 100.0     # 10, 11, 100: mean 40.3, sd 51.7, half 128.5: from 0 up
    assert tables.cell(runsets.average_seeds(runs)[0], "train_seconds", 0) == "40 [0, 169]"


def test_grid_table_shows_what_the_parameters_changed():
    plain = tables.grid_table(grid("gan", "mnist", "quick"))
    assert "changed" not in plain.columns and list(plain["z"]) == [100, 200, 200, 64, 256]
    configs = experiment.chapter("gan", "mnist", mlp_a_latents=[17], overrides={"lr": 1e-4}).configs("quick")
    table = tables.grid_table(configs)
    assert list(table["z"]) == [17, 200, 64, 256]
    assert list(table["changed"]) == ["lr=0.0001"] * 4 and list(table["optimizer"])[0] == "adam 0.0001"


def unmeasurable_run(cfg, seed=0):
    """A run that trained (finite losses) but whose samples the yardstick could not measure."""
    run = fake_run(cfg, None, seed=seed)
    run.yardstick = {"unmeasurable": "16 of its 16 samples hold NaN or infinite pixels"}
    return run


def test_an_unmeasurable_run_shows_like_a_diverged_one_and_ranks_last():
    mnist = grid("gan", "mnist", "quick")[:3]
    runs = [fake_run(mnist[0], 30.0), unmeasurable_run(mnist[1]), fake_run(mnist[2], None, status="diverged")]
    table = tables.comparison_table(runs, FLOORS)
    assert list(table.loc["MNIST"]["status"]) == ["complete", "unmeasurable", "diverged"]
    assert first(table, "MNIST", 1)["FD"] == "30 [29.9, 30.1]"
    assert list(table.loc["MNIST"]["FD"].isna()) == [False, True, True]
    assert first(table, "MNIST", 1)["FD / floor"] == "15"                      # 30 / floor 2
    summary = tables.summary_table(runs[1:2])
    assert summary.loc[("MLP A, z=200", ONE), "status"] == "unmeasurable"
    assert summary.loc[("MLP A, z=200", ONE), "FD"] is None
    # no run with numbers at all: a table all the same, not a crash
    assert list(tables.comparison_table(runs[1:], FLOORS)["FD / floor"].isna()) == [True, True]


def test_seed_status_counts_diverged_and_unmeasurable_seeds():
    cfg = grid("gan", "mnist", "quick")[0]
    runs = [fake_run(cfg, 4.0, seed=0), unmeasurable_run(cfg, seed=1), fake_run(cfg, None, seed=2, status="diverged"),
            fake_run(cfg, 8.0, seed=3)]
    assert tables.status(runsets.average_seeds(runs)[0]) == "complete (1 of 4 seeds diverged, 1 unmeasurable)"
    assert tables.status(runsets.average_seeds([runs[0], runs[1]])[0]) == "complete (1 of 2 seeds unmeasurable)"
    assert tables.status(runsets.average_seeds([runs[1], unmeasurable_run(cfg, seed=5)])[0]) == \
        "unmeasurable (2 of 2 seeds unmeasurable)"


def test_the_published_fids_wrap_and_show_every_column_whole():
    styled = tables.published_fids()
    html = styled.to_html()
    assert 'class="dataframe wrap-text"' in html
    assert re.search(r"#T_published-fids td \{\s*white-space: normal;\s*max-width: 24em;", html)
    assert ">Lucic et al. 2018, as reprinted by Dai &amp; Wipf 2019, Table 1</td>" in html      # whole, not cut
    assert list(styled.data.columns) == ["Inception FID (not comparable)", "source", "setting"]
    css = (Path(__file__).resolve().parents[2] / "book" / "_static" / "tables.css").read_text()
    assert "div.cell_output table.wrap-text td" in css and "white-space: normal;" in css


def timed(run, wall, cpu, images=1200):
    """A run whose training steps took `wall` wall seconds and `cpu` CPU seconds over `images` images."""
    run.summary.update(train_seconds=wall, train_cpu_seconds=cpu, images_per_second=images / wall,
                       images_per_cpu_second=images / cpu)
    return run


def test_the_speed_columns_are_cpu_seconds_and_say_so():
    """Wall 20 s, CPU 8 s over 1200 images: the tables show 8 CPU s and 1200 / 8 = 150 images per CPU second,
    never the wall clock's 20 s and 60 images / s."""
    cfg = grid("gan", "mnist", "quick")[0]
    run = timed(fake_run(cfg, 10.0), wall=20.0, cpu=8.0)
    row = tables.summary_table([run]).loc[("MLP A, z=100", ONE)]
    assert (row["train CPU s"], row["images / CPU s"]) == (8, 150)
    frame = tables.comparison_frame([run], FLOORS).iloc[0]
    assert (frame["train CPU s"], frame["images / CPU s"]) == (8.0, 150.0)
    ranked = first(tables.comparison_table([run], FLOORS), "MNIST", 1)
    assert (ranked["train CPU s"], ranked["images / CPU s"]) == (8, 150)
    for table in (tables.summary_table([run]), tables.comparison_frame([run], FLOORS),
                  tables.comparison_table([run], FLOORS)):
        assert "train s" not in table.columns and "images / s" not in table.columns
    # three seeds at 8, 9, 10 CPU s: mean 9, sd 1, t interval 9 -+ 4.303 / sqrt(3) = 9 -+ 2.48 -> [6.52, 11.48]
    runs = [timed(fake_run(cfg, 10.0, seed=s), wall=30.0, cpu=8.0 + s) for s in range(3)]
    assert tables.summary_table(runs).loc[("MLP A, z=100", "mean of 3 seeds"), "train CPU s"] == "9 [7, 11]"
