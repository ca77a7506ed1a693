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


def test_banner_names_every_source():
    prov = {"profile": "quick", "device": "cpu", "data": "data (x)", "commit": "abc", "date": "2026-01-01 00:00 UTC"}
    assert provenance.banner(prov) == ("**Built from:** profile `quick` · device `cpu` · data from the folder data (x) · "
                                       "commit `abc` · 2026-01-01 00:00 UTC")


def test_banner_names_the_data_folder_once_not_data_data(tmp_path):
    """The default folder is itself called "data": the banner reads "data from the folder data (...)"."""
    ctx = Context("quick", tmp_path / "data", Path("runs"), False, "cpu")
    text = provenance.banner(provenance.provenance(ctx))
    assert f" · data from the folder {tmp_path}/data (torchvision layout) · commit `" in text
    assert "data data" not in provenance.banner({**provenance.provenance(ctx), "data": "data (torchvision layout)"})
