"""The "reproduce this page" box and the banner."""
from __future__ import annotations

from pathlib import Path

from gen_core.report import provenance
from gen_core.report.session import Context


def test_reproduce_box_names_the_make_command_and_parameters():
    ctx = Context("quick", Path("data"), Path("runs"), False, "cpu")
    box = provenance.reproduce_box(ctx, "wgan_mnist")
    assert "<code>make report-wgan_mnist PROFILE=quick</code>" in box
    assert "<code>profile = &#x27;quick&#x27;</code>, <code>data_dir = &#x27;data&#x27;</code>" in box
    assert " FORCE=1</code>" not in box and "PARAMS" not in box                # defaults: nothing extra
    ctx = Context("smoke", Path("/d"), Path("/r"), True, "cpu")
    box = provenance.reproduce_box(ctx, "comparison")
    assert "<code>make report-comparison PROFILE=smoke GEN_DATA_DIR=/d GEN_RUNS_DIR=/r FORCE=1</code>" in box
    assert "<code>force = True</code>" in box


def test_reproduce_box_names_changed_parameters_in_params():
    ctx = Context("smoke", Path("data"), Path("runs"), False, "cpu")
    command = provenance.make_command(ctx, "gan_mnist", {"mlp_a_latents": [17], "overrides": {"lr": 0.0001}})
    assert command == ("make report-gan_mnist PROFILE=smoke "
                       "PARAMS='{\"mlp_a_latents\": [17], \"overrides\": {\"lr\": 0.0001}}'")
    box = provenance.reproduce_box(ctx, "gan_mnist", {"mlp_a_latents": [17]})
    assert "PARAMS=&#x27;{&quot;mlp_a_latents&quot;: [17]}&#x27;" in box
    assert "<code>mlp_a_latents = [17]</code>" in box and "differ from the notebook's defaults" in box


RECORD = {"runs": 96, "trained": 96, "machines": ["AMD EPYC (family 25 model 17; AVX-512), 1 thread, torch 2.14.1"],
          "bf16_runs": 0, "train_seconds": 51120.0, "cpu_seconds": 50000.0}


def test_banner_names_every_source():
    prov = {"profile": "quick", "device": "cpu", "data": "data (x)", "commit": "abc", "date": "2026-01-01 00:00 UTC",
            "training": RECORD}
    assert provenance.banner(prov) == ("**Built from:** profile `quick` · device `cpu` · data from the folder data (x) · "
                                       "commit `abc` · 2026-01-01 00:00 UTC · trained on AMD EPYC (family 25 model 17; "
                                       "AVX-512), 1 thread, torch 2.14.1; no bf16; 14.2 h of training, one run after "
                                       "another (96 of 96 runs)")                      # 51120 s / 3600 = 14.2 h


def test_the_training_phrase_names_every_machine_the_bf16_runs_and_the_runs_not_trained():
    two = {**RECORD, "trained": 40, "bf16_runs": 12, "train_seconds": 3000.0,
           "machines": ["A (AVX-512), 1 thread, torch 2.14.1", "B (AVX2, no AVX-512), 1 thread, torch 2.14.1"]}
    assert provenance.training_phrase(two) == ("trained on A (AVX-512), 1 thread, torch 2.14.1 and B (AVX2, no AVX-512), "
                                               "1 thread, torch 2.14.1; bf16 in 12 of 40 runs; 50.0 min of training, "
                                               "one run after another (40 of 96 runs)")
    assert provenance.training_phrase({**RECORD, "trained": 0}) == "no run of the 96 trained yet"


def test_the_training_record_adds_up_the_profiles_finished_runs(tmp_path):
    """Three smoke grid runs on disk by hand: two finished (on two machines, one twice), one not (a
    checkpoint only); a folder outside the grid is not counted."""
    import json

    from gen_core.grid import full_grid

    runs = full_grid("smoke")
    a, b, c = runs[0], runs[1], runs[2]
    for cfg, summary in ((a, {"machines": ["m1"], "wall_seconds": 100.0, "cpu_seconds": 90.0}),
                         (b, {"machines": ["m1", "m2"], "wall_seconds": 50.5, "cpu_seconds": 40.0})):
        (tmp_path / cfg.run_name()).mkdir()
        (tmp_path / cfg.run_name() / "summary.json").write_text(json.dumps(summary))
    (tmp_path / c.run_name()).mkdir()
    (tmp_path / c.run_name() / "checkpoint.pt").write_bytes(b"")
    (tmp_path / "vae-mnist-other-z3-0123456789ab").mkdir()
    (tmp_path / "vae-mnist-other-z3-0123456789ab" / "summary.json").write_text('{"wall_seconds": 1e6}')
    record = provenance.training_record("smoke", tmp_path)
    assert record == {"runs": len(runs), "trained": 2, "machines": ["m1", "m2"], "bf16_runs": int(a.amp) + int(b.amp),
                      "train_seconds": 150.5, "cpu_seconds": 130.0}


def test_banner_names_the_data_folder_once_not_data_data(tmp_path):
    """The default folder is itself called "data": the banner reads "data from the folder data (...)"."""
    ctx = Context("quick", tmp_path / "data", Path("runs"), False, "cpu")
    text = provenance.banner(provenance.provenance(ctx))
    assert f" · data from the folder {tmp_path}/data (torchvision layout) · commit `" in text
    assert "data data" not in provenance.banner({**provenance.provenance(ctx), "data": "data (torchvision layout)"})
