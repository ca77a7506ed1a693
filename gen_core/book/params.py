"""A notebook's parameters: the values -p and PARAMS give (Python or YAML literals), what its
parameters cell sets (the cell run as the kernel runs it, before papermill's values), and the
checks of both against its experiment.

    parse_params([["epochs", "2"]], "{mlp_a_latents: [17]}")   # -> {"mlp_a_latents": [17], "epochs": 2}
    check_notebooks(["gan_mnist"], params)     # at prepare: each cell run, its values and PARAMS checked
    chapter_configs("gan_mnist", "quick", params)               # the runs the chapter shows
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from ..errors import ConfigError, fail
from . import layout

COMMON_VARIABLES = (("profile", "PROFILE"), ("data_dir", "GEN_DATA_DIR"), ("runs_dir", "GEN_RUNS_DIR"),
                    ("force", "FORCE"))


def _yaml_loader():
    """YAML's safe loader, also reading 1e-4 as a float (YAML 1.1 wants 1.0e-4 and reads "1e-4" as text)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                                 re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"), list("-+0123456789."))
    return Loader


def parse_value(text: str):
    """A -p VALUE as papermill reads one: a Python literal, else YAML ("{lr: 1e-4}"), else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    import yaml

    try:
        value = yaml.load(text, Loader=_yaml_loader())
    except yaml.YAMLError:
        return text
    return text if value is None and text.strip() not in ("", "~", "null", "None") else value


def parse_params(pairs: list[list[str]] | None, mapping: str | None = None) -> dict:
    """-p KEY VALUE pairs (repeatable) and a PARAMS mapping ("{mlp_a_latents: [17]}") as one dict."""
    out = {}
    if mapping and mapping.strip():
        value = parse_value(mapping)
        if not isinstance(value, dict):
            fail("PARAMS", mapping, "a mapping such as '{mlp_a_latents: [17], epochs: 2}'")
        out.update(value)
    for key, text in pairs or []:
        out[key] = parse_value(text)
    return out


def notebook_parameters(profile: str, data_dir, runs_dir, force: bool, params: dict) -> dict:
    """Everything papermill gives notebook: the common parameters, then its own (`params`)."""
    return {"profile": profile, "data_dir": str(Path(data_dir)), "runs_dir": str(Path(runs_dir)), "force": force,
            **params}


def check_params(name: str, params: dict) -> None:
    """Every parameter exists in notebook `name`, and the chapter's experiment accepts the values."""
    from ..report import experiment

    own = experiment.parameter_names(name)[len(experiment.COMMON):]
    for key, variable in COMMON_VARIABLES:
        if key in params:
            raise ConfigError(f"parameter {key!r} is set by {variable} (or --{key.replace('_', '-')}), not by -p or "
                              f"PARAMS; " + (f"expected one of {', '.join(own)}" if own else
                                             f"notebook {name} takes no other parameters"))
    experiment.check_names(name, params)
    if name != "comparison":
        family, _, dataset = name.rpartition("_")
        experiment.chapter(family, dataset, **params)


def check_notebooks(names, params: dict) -> None:
    """What `prepare` checks before the data, for each notebook it prepares: its parameters cell runs,
    the values the cell leaves (expressions too, which only the kernel would otherwise tell) are
    allowed, and so are they with `params` (PARAMS) over them."""
    for name in names:
        values = cell_values(name)
        try:
            check_params(name, values)
        except ConfigError as err:
            raise ConfigError(f"notebooks/{name}.py, parameters cell: {err}") from None
        if params:
            check_params(name, {**values, **params})


def _cell_source(name: str) -> str:
    import jupytext

    cell = next((c for c in jupytext.read(layout.NOTEBOOK_DIR / f"{name}.py").cells
                 if "parameters" in c.metadata.get("tags", [])), None)
    return cell.source if cell else ""


def _not_valid_python(name: str, err: SyntaxError) -> ConfigError:
    return ConfigError(f"notebooks/{name}.py: its parameters cell is not valid Python ({err.msg}, line "
                       f"{err.lineno} of the cell); fix the cell, then run again")


def _own_names(name: str) -> tuple[str, ...]:
    from ..report import experiment

    return experiment.parameter_names(name)[len(experiment.COMMON):]


def cell_values(name: str) -> dict:
    """The experiment parameters as notebooks/<name>.py's parameters cell leaves them, the cell run in
    a fresh namespace as the kernel runs it before papermill's values (running it here runs nothing the
    kernel would not). A cell that fails: one line naming the notebook, the line and the error."""
    filename = f"notebooks/{name}.py parameters cell"
    try:
        code = compile(_cell_source(name), filename, "exec")
    except SyntaxError as err:
        raise _not_valid_python(name, err) from None
    namespace: dict = {}
    try:
        exec(code, namespace)
    except Exception as err:        # whatever the cell raises is the cell's fault: named, not a traceback
        tb, line = err.__traceback__, None
        while tb is not None:       # the innermost line of the cell itself, not of what it called
            line = tb.tb_lineno if tb.tb_frame.f_code.co_filename == filename else line
            tb = tb.tb_next
        raise ConfigError(f"notebooks/{name}.py: its parameters cell fails at line {line} of the cell "
                          f"({type(err).__name__}: {' '.join(str(err).split())}); fix the cell, then run again"
                          ) from None
    return {key: namespace[key] for key in _own_names(name) if key in namespace}


def chapter_configs(name: str, profile: str, params: dict | None = None) -> list:
    """The runs notebook `name` shows at `profile`: its parameters cell, then `params` over it (the
    comparison has none of its own)."""
    from ..report import experiment

    if name == "comparison":
        return []
    family, _, dataset = name.rpartition("_")
    return experiment.chapter(family, dataset, **{**cell_values(name), **(params or {})}).configs(profile)
