"""Every code path that runs only on a CUDA device, in one place.

We have never executed these on a GPU (this project trains on CPUs); they were reviewed by
reading and `tests/test_cuda.py` keeps `torch.cuda` and `torch.backends` out of every other
module, so nothing CUDA-only hides elsewhere. `make bench` times on CUDA with its own
synchronisation (bench.py) and the `auto` profile asks `available()`.

    available(), is_cuda(device)   whether torch sees a GPU; whether a device is one
    default_device()        cuda when torch sees a GPU, else cpu
    prepare(device)         TF32 matmuls and cuDNN autotuning on CUDA; nothing on CPU
    rng_state(device), set_rng_state(state, device)   the CUDA generator's state in a
                            checkpoint, so a resumed run draws the same noise on the GPU as
                            an uninterrupted one
    synchronize(device)     wait for queued kernels before reading a clock (the bench)
    loader_options(device)  pinned memory and a worker for the bench's reference loader
    device_name(device)     the GPU's name, which a run's summary records as its machine; None on CPU
"""
from __future__ import annotations

import torch


def available() -> bool:
    return torch.cuda.is_available()


def is_cuda(device) -> bool:
    return torch.device(device).type == "cuda"


def default_device() -> torch.device:
    return torch.device("cuda" if available() else "cpu")


def prepare(device) -> None:
    """On CUDA: float32 matmuls as TF32, as cuDNN convolutions already run by default, and cuDNN
    picks the fastest convolution for the grid's fixed shapes once. No effect on CPU.

    `make bench` counts the full grid at 37 PFLOP: about 550 s at an H100's FP32 peak, 75 s at
    its TF32 peak. Without this the full profile cannot fit a short GPU session.
    """
    if is_cuda(device):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.benchmark = True


def rng_state(device) -> dict:
    """The CUDA generator's state on `device` ({} elsewhere), for a checkpoint."""
    return {"cuda": torch.cuda.get_rng_state(torch.device(device))} if is_cuda(device) else {}


def set_rng_state(state: dict, device) -> None:
    """Restore what `rng_state` saved. torch.load(map_location="cuda") moves the saved byte
    tensor to the GPU, and torch wants generator states on the CPU: hence .cpu()."""
    if "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), torch.device(device))


def synchronize(device) -> None:
    """Wait for the GPU's queued work, so a clock read after it measures it. No effect on CPU."""
    if is_cuda(device):
        torch.cuda.synchronize(device)


def loader_options(device) -> dict:
    """DataLoader options of the pytorch/examples reference loop the bench compares against: on
    CUDA one worker process and pinned memory, as examples/mnist does; nothing on CPU."""
    return dict(num_workers=1, pin_memory=True) if is_cuda(device) else {}


def device_name(device) -> str | None:
    """The GPU's name on CUDA (a run records it as the machine that trained it); None on the CPU."""
    return torch.cuda.get_device_name(torch.device(device)) if is_cuda(device) else None
