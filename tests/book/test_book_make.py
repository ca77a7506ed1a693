"""Every Makefile target, end to end at a tiny size, and how make hands the steps of one report
their settings: one profile per make; bad variables and PARAMS named before the data is read."""
import json
import re
import subprocess
import sys
import textwrap

import pytest

from gen_core.book import NOTEBOOKS, ROOT

from book_repo import DATA_DIR, make


@pytest.mark.parametrize("variable, line", [
    ("PROFILE=bogus", "error: PROFILE='bogus' is not allowed; expected one of auto, full, long, quick, smoke"),
    ("FORCE=maybe", "error: force='maybe' is not allowed; expected true/false or 1/0"),
    ("GEN_DATA_DIR=", "error: data_dir='' is not allowed; expected a directory path"),
    ("GEN_RUNS_DIR=", "error: runs_dir='' is not allowed; expected a directory path"),
    ("GEN_BF16=yes", "error: GEN_BF16='yes' is not allowed; expected auto (bf16 where this CPU computes it natively), "
     "1 (on every row whose measurement allows it) or 0 (never)"),
])
def test_make_report_with_a_bad_variable_stops_with_one_line(variable, line):
    proc = subprocess.run(["make", "report", variable], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert [x for x in proc.stderr.splitlines() if x.startswith("error:")] == [line]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "report: profile" not in proc.stdout              # stopped before prepare checked the data
    assert ": running" not in proc.stdout                    # and before any notebook


def test_params_with_make_report_is_refused():
    proc = subprocess.run(["make", "report", "PROFILE=smoke", "PARAMS={epochs: 2}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0 and ": running" not in proc.stdout
    assert "error: PARAMS sets one notebook's parameters; use make report-NAME PARAMS=..." in proc.stderr


@pytest.mark.parametrize("goal, params, line", [
    ("report-gan_mnist", "{epochs: 0}",
     "error: epochs=0 is not allowed; expected None (the profile's epochs) or an integer >= 1"),
    ("report-comparison", "{epochs: 2}",
     "error: parameter 'epochs' is not allowed for notebook comparison; it takes none besides PROFILE, GEN_DATA_DIR, "
     "GEN_RUNS_DIR and FORCE"),
])
def test_make_report_name_checks_params_before_the_data(goal, params, line, tmp_path):
    """prepare is told which notebook PARAMS is for, so a bad value stops it before it reads the data."""
    proc = subprocess.run(["make", goal, "PROFILE=smoke", f"PARAMS={params}", f"GEN_DATA_DIR={DATA_DIR}",
                           f"GEN_RUNS_DIR={tmp_path / 'runs'}", f"GEN_SMOKE_DIR={tmp_path / 'book'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert [x for x in proc.stderr.splitlines() if x.startswith("error:")] == [line]
    assert "report: profile" not in proc.stdout and not (tmp_path / "book").exists()


def test_a_second_report_never_switches_the_first_reports_profile(repo, tmp_path):
    """make report PROFILE=smoke; while its runs train, make report PROFILE=quick starts in the same
    checkout and its prepare finishes. Every later step of the smoke report still runs at smoke
    (they used to read the profile from one shared file, which the second prepare rewrote)."""
    log, step = tmp_path / "steps.jsonl", tmp_path / "step.py"
    python = str(ROOT / ".venv" / "bin" / "python")
    # make's REPORT: the real prepare; any other step only says which profile and arguments it got
    step.write_text(textwrap.dedent(f"""\
        import json, os, subprocess, sys
        args = sys.argv[1:]
        if args[0] == "prepare":
            sys.exit(subprocess.call([{python!r}, "-m", "gen_core.book", *args]))
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps([os.environ["PROFILE"], *args]) + "\\n")
        if args[0] == "train":              # the second report, with make's own settings out of its way
            env = {{k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}}
            subprocess.run(["make", "notebook-prepare", "PROFILE=quick", "REPORT={python} {step}"], env=env,
                           check=True)
    """))
    variables = [f"GEN_DATA_DIR={DATA_DIR}", f"GEN_RUNS_DIR={tmp_path / 'runs'}", f"GEN_SMOKE_DIR={tmp_path / 'book'}",
                 f"REPORT={python} {step}"]
    proc = make(repo, "report", "PROFILE=smoke", *variables, timeout=600)
    assert "report: profile quick on" in proc.stdout                     # the second prepare did run meanwhile
    steps = [json.loads(line) for line in log.read_text().splitlines()]
    assert steps == ([["smoke", "train"]] + [["smoke", "notebook", name] for name in NOTEBOOKS]
                     + [["smoke", "finish"]])


def test_profile_prints_what_profile_resolves_to():
    """make resolves PROFILE=auto with it once per report: full on CUDA, else quick."""
    import torch

    def profile(value):
        proc = subprocess.run([sys.executable, "-m", "gen_core.book", "profile", "--profile", value], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        return proc.returncode, proc.stdout.strip(), proc.stderr.strip()

    assert profile("auto") == (0, "full" if torch.cuda.is_available() else "quick", "")
    assert profile("long") == (0, "long", "")
    assert profile("bogus") == (2, "", "error: PROFILE='bogus' is not allowed; expected one of auto, full, long, "
                                       "quick, smoke")


# ---- every Makefile target, end to end at a tiny size -------------------------------------------

def test_make_help_lists_the_targets_and_variables():
    proc = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    for word in ("make report", "make report-NAME", "make book", "make train", "make bench", "make data",
                 "make test", "make setup", "make clean", "PROFILE", "GEN_DATA_DIR", "GEN_RUNS_DIR", "FORCE",
                 "PARAMS", "GEN_SMOKE_DIR", "GEN_BF16=auto|1|0", "TRAIN_ARGS", "BENCH_ARGS", "LAUNCHER=slurm",
                 "long publishes the book", "BENCH_ARGS=--profile-steps", "share of limit",
                 "quick and smoke a copy", "under _build/<profile>/"):
        assert word in proc.stdout, word
    assert "LAUNCHER=local" not in proc.stdout                          # retired
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
