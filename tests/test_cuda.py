"""gen_core/cuda.py: the one module with code that runs only on CUDA (never executed by us)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import torch

from gen_core import cuda

PACKAGE = Path(cuda.__file__).resolve().parent
# what a CUDA-only path looks like: the CUDA API, backend switches, or a branch on the device type
CUDA_ONLY = re.compile(r"torch\.cuda|torch\.backends|\.type\s*==\s*[\"']cuda[\"']")


def test_no_other_module_has_a_cuda_only_path():
    found = [f"{p.relative_to(PACKAGE)}:{i}: {line.strip()}"
             for p in sorted(PACKAGE.rglob("*.py")) if p.name != "cuda.py"
             for i, line in enumerate(p.read_text().splitlines(), 1) if CUDA_ONLY.search(line)]
    assert found == []


def test_the_module_docstring_names_every_function():
    tree = ast.parse(Path(cuda.__file__).read_text())
    names = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert len(names) == 9
    assert [n for n in names if f"{n}(" not in cuda.__doc__] == []


def test_on_cpu_every_function_leaves_torch_as_it_was():
    tf32, bench = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark
    cuda.prepare("cpu")
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.benchmark) == (tf32, bench)
    assert cuda.rng_state("cpu") == {} and cuda.loader_options(torch.device("cpu")) == {}
    cuda.set_rng_state({"torch": torch.get_rng_state()}, "cpu")      # no "cuda" key: nothing to restore
    cuda.synchronize("cpu")
    assert not cuda.is_cuda("cpu") and cuda.is_cuda("cuda:1") and cuda.is_cuda(torch.device("cuda"))
    assert cuda.default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_cpu_has_no_device_name_so_a_run_names_its_cpu():
    from gen_core.bf16 import this_cpu
    from gen_core.train import machine

    assert cuda.device_name("cpu") is None
    assert machine("cpu").startswith(f"{this_cpu()}, ")
