"""GEN_BF16 and this CPU: whether the grid rows whose measurement allows bf16 train with it here, and
the CPU's model name, which every run records (results.py) and the book's banner names.

The answer sets RunConfig.amp, so it joins the run names; a notebook's fingerprint records it
(gen_core/book/stamps.py). Torch-free for that reason: deciding that a notebook is up to date must
not pay for importing torch. gen_core.grid re-exports these names.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

from .errors import fail

BF16_CHOICES = ("auto", "0", "1")


def bf16_choice() -> str:
    """GEN_BF16 as set: auto (the default), 1 or 0; ConfigError naming the choices otherwise."""
    choice = os.environ.get("GEN_BF16", "auto").strip().lower() or "auto"
    if choice not in BF16_CHOICES:
        fail("GEN_BF16", os.environ["GEN_BF16"], "auto (bf16 where this CPU computes it natively), 1 (on every row "
                                                 "whose measurement allows it) or 0 (never)")
    return choice


def bf16_on_this_cpu(has_native=None) -> bool:
    """Whether the rows whose measurement allows bf16 use it here: GEN_BF16=1 or 0 forces it (the
    choice joins the run names, so a cluster whose nodes differ in CPU can pin it), auto (the
    default) asks the CPU: `has_native()`, by default cpu_has_native_bf16."""
    choice = bf16_choice()
    if choice == "auto":
        return (has_native or cpu_has_native_bf16)()
    return choice == "1"


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether this machine's CPU has a fast bf16 path: the families' measurements were made on
    one. Torch's oneDNN kernels need AVX-512 (avx512_core: F, BW, VL, DQ; or the newer avx512_bf16,
    amx_bf16); on an AVX2-only CPU bf16 is emulated, and a long run's first epoch took 12 times its
    float32 time (AMD EPYC), so there every row trains in float32."""
    try:
        return native_bf16(Path("/proc/cpuinfo").read_text())
    except OSError:                   # not Linux: no way to tell, so the safe choice
        return False


AVX512_CORE = {"avx512f", "avx512bw", "avx512vl", "avx512dq"}


def native_bf16(cpuinfo: str) -> bool:
    """From /proc/cpuinfo's text: whether a `flags` line has AVX-512 core, avx512_bf16 or amx_bf16."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            if AVX512_CORE <= flags or flags & {"avx512_bf16", "amx_bf16"}:
                return True
    return False


def cpu_model(cpuinfo: str) -> str | None:
    """From /proc/cpuinfo's text: the first processor's model name, with its x86 family and model numbers
    (a virtual machine may name only "AMD EPYC") and its vector width, which decides bf16 and much of the
    speed: "AMD EPYC (family 25 model 17; AVX-512)". None where no model name is given."""
    first = cpuinfo.split("\n\n", 1)[0]
    fields = {}
    for line in first.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), " ".join(value.split()))
    name = fields.get("model name") or fields.get("Model")
    if not name:
        return None
    flags = set(fields.get("flags", "").split())
    details = ([f"family {fields['cpu family']} model {fields['model']}"] if "cpu family" in fields and "model" in fields
               else []) + (["AVX-512"] if AVX512_CORE <= flags else ["AVX2, no AVX-512"] if "avx2" in flags else [])
    return name + (f" ({'; '.join(details)})" if details else "")


@functools.lru_cache(maxsize=1)
def this_cpu() -> str:
    """This machine's `cpu_model`; where /proc/cpuinfo cannot tell, platform.processor() or "unknown CPU"."""
    import platform

    try:
        model = cpu_model(Path("/proc/cpuinfo").read_text())
    except OSError:                   # not Linux
        model = None
    return model or platform.processor() or "unknown CPU"
