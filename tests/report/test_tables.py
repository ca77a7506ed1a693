"""Tables of hand-made runs: ranking, floors, family columns, and a chapter's configs."""
from __future__ import annotations

from conftest import fake_run
from gen_core.grid import grid
from gen_core.report import experiment, runsets, tables
from report.test_runsets import wgan_runs

FLOORS = {"mnist": 2.0, "cifar10": 0.5}


def test_comparison_table_ranks_by_fd_within_each_dataset():
    mnist = grid("gan", "mnist", "quick")[:3]
    runs = [fake_run(mnist[0], 30.0), fake_run(mnist[1], 10.0), fake_run(mnist[2], 20.0),
            fake_run(grid("vae", "cifar10", "quick")[0], 1.0)]
    table = tables.comparison_table(runs, FLOORS)
    assert list(table.loc["MNIST"]["FD"]) == ["10 [9.9, 10.1]", "20 [19.9, 20.1]", "30 [29.9, 30.1]"]
    assert list(table.loc["MNIST"].index) == [1, 2, 3]
    assert table.loc[("MNIST", 1), "FD / floor"] == 5.0            # 10 / floor 2
    assert table.loc[("CIFAR-10", 1), "FD / floor"] == 2.0          # 1 / floor 0.5


def test_comparison_lists_wgan_gp_as_its_own_family():
    table = tables.comparison_table(wgan_runs(30.0, 20.0), FLOORS)
    gp_rows = table[table["run"] == "DC-WGAN-GP, z=64"]
    assert list(gp_rows["family"]) == ["WGAN-GP"] and list(gp_rows["FD"]) == ["20 [19.9, 20.1]"]
    assert set(table["family"]) == {"WGAN", "WGAN-GP"}


def test_summary_table_takes_the_estimate_and_extra_columns_from_the_family():
    vae = tables.summary_table([fake_run(grid("vae", "mnist", "quick")[0], 3.0)])
    assert list(vae.columns[:5]) == ["status", "train -ELBO", "test -ELBO", "test BCE", "test KL"]
    assert vae.loc["MLP A, z=50", "train -ELBO"] == 1.0 and vae.loc["MLP A, z=50", "test -ELBO"] == 100.0
    gan = tables.summary_table([fake_run(grid("gan", "mnist", "quick")[0], 3.0)])
    assert list(gan.columns[:3]) == ["status", "JSD estimate", "FD"]
    assert gan.loc["MLP A, z=100", "FD"] == "3 [2.9, 3.1]" and gan.loc["MLP A, z=100", "collapse"] == "not collapsed"


def test_cells_show_the_interval_and_mark_runs_still_improving():
    cfg = grid("gan", "mnist", "quick")[0]
    falling = fake_run(cfg, 10.0, half=0.5, curve=[(1, 100, 30.0), (3, 300, 10.0)])
    table = tables.summary_table([falling])
    assert table.loc["MLP A, z=100", "FD"] == "10 [9.5, 10.5]"
    assert table.loc["MLP A, z=100", "precision"] == "0.5 [0, 1]"        # 0.5 +- 0.5, two digits
    assert table.loc["MLP A, z=100", "still improving"] == "yes"
    flat = fake_run(cfg, 10.0, half=0.5, curve=[(1, 100, 10.2), (3, 300, 10.0)])
    assert tables.summary_table([flat]).loc["MLP A, z=100", "still improving"] == "no"
    assert tables.cell(fake_run(cfg, 10.0, half=None), "fd") == 10.0     # no interval recorded: the number


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
    assert table.loc[("MNIST", 1), "FD"] == "30 [29.9, 30.1]"
    assert list(table.loc["MNIST"]["FD"].isna()) == [False, True, True]
    assert table.loc[("MNIST", 1), "FD / floor"] == 15.0                     # 30 / floor 2
    summary = tables.summary_table(runs[1:2])
    assert summary.loc["MLP A, z=200", "status"] == "unmeasurable" and summary.loc["MLP A, z=200", "FD"] is None
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
