"""A run's name changes only when its training does (gen_core/digest.py, config.training_digest).

Each test edits one file of a copy of the package and lists the quick grid's run names in a fresh
process, against the names of the unedited copy: words (titles, chapter questions, curve labels,
bench goals, docstrings and comments) rename nothing; a step function, a network or a loss renames
exactly the runs of the families that execute it; the shared loop renames every run.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gen_core import digest

PACKAGE = Path(__file__).resolve().parents[1] / "gen_core"
LIST_NAMES = ("import json; from gen_core.grid import full_grid; "
              "print(json.dumps({f'{c.family} {c.dataset} {c.label} {c.seed}': c.run_name() "
              "for c in full_grid('quick')}))")


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of gen_core to edit, and the run names of the unedited copy (run in a fresh process)."""
    root = tmp_path_factory.mktemp("copy")
    shutil.copytree(PACKAGE, root / "gen_core", ignore=shutil.ignore_patterns("__pycache__"))
    return root, names_in(root)


def names_in(root: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(root), "GEN_BF16": "0"}
    proc = subprocess.run([sys.executable, "-c", LIST_NAMES], capture_output=True, text=True, env=env, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def renamed_after(package_copy, path: str, old: str, new: str) -> set[str]:
    """The families whose run names change when `old` becomes `new` in gen_core/`path` (the edit is undone after)."""
    root, before = package_copy
    file = root / "gen_core" / path
    text = file.read_text()
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    file.write_text(text.replace(old, new))
    try:
        after = names_in(root)
    finally:
        file.write_text(text)
    assert after.keys() == before.keys()
    changed = {key for key in before if after[key] != before[key]}
    families = {key.split()[0] for key in changed}
    # a family is renamed whole or not at all
    assert changed == {key for key in before if key.split()[0] in families}
    return families


WORDS = [
    ("families/vae.py", 'name, title = "vae", "VAE"', 'name, title = "vae", "Variational autoencoder"'),
    ("families/vae.py", '"**Latent size against the test ELBO.** ', '"**Test ELBO against latent size.** '),
    ("families/wgan.py", '("emd", "EMD estimate"), ("critic_loss", "critic loss")',
     '("emd", "Earth-Mover estimate"), ("critic_loss", "critic loss")'),
    ("families/gan.py", 'bench_goals = {"cpu": {"mlp": 1.1}', 'bench_goals = {"cpu": {"mlp": 1.2}'),
    ("families/base.py", 'title: str = ""                      # how the book names it',
     'title: str = "a family"              # how the book names it'),
    # a docstring and a comment inside a step function: the code it runs is the same
    ("families/vae.py", '"""Minimise -ELBO = BCE(x, decoder(z)) + KL(q(z|x) || N(0, I))',
     '"""Minimise the negative ELBO = BCE(x, decoder(z)) + KL(q(z|x) || N(0, I))'),
    ("families/gan.py", "# non-saturating G loss: maximise log D(G(z))", "# the non-saturating generator loss"),
]


@pytest.mark.parametrize("path, old, new", WORDS, ids=[f"{w[0]}:{w[1][:24]}" for w in WORDS])
def test_rewording_a_family_renames_no_run(package_copy, path, old, new):
    assert renamed_after(package_copy, path, old, new) == set()


TRAINING = [
    # step functions
    ("families/vae.py", "    total.backward()\n", "    total.backward(retain_graph=False)\n", {"vae"}),
    ("families/gan.py", "    d_loss.backward()\n", "    d_loss.backward(retain_graph=False)\n", {"gan"}),
    ("families/wgan.py", "    c_loss.backward()\n", "    c_loss.backward(retain_graph=False)\n", {"wgan"}),
    # g_step is the GAN module's, and the WGAN's generator step too
    ("families/gan.py", "    g_loss.backward()\n", "    g_loss.backward(retain_graph=False)\n", {"gan", "wgan"}),
    # networks
    ("models/vae.py", "        self.to_stats = nn.Linear(hidden[-1], 2 * latent_dim)",
     "        self.to_stats = nn.Linear(hidden[-1], 2 * latent_dim, bias=True)", {"vae"}),
    # losses
    ("losses.py", "    return -(real_scores.mean() - fake_scores.mean())",
     "    return fake_scores.mean() - real_scores.mean()", {"wgan"}),
    ("losses.py", "            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))",
     "            + F.binary_cross_entropy_with_logits(fake_logits, 0 * fake_logits))", {"gan"}),
    ("losses.py", "    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)",
     "    kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - 1 - logvar, dim=1)", {"vae"}),
]


@pytest.mark.parametrize("path, old, new, renamed", TRAINING, ids=[f"{t[0]}:{t[1].strip()[:24]}" for t in TRAINING])
def test_editing_training_code_renames_exactly_the_families_that_run_it(package_copy, path, old, new, renamed):
    assert renamed_after(package_copy, path, old, new) == renamed


def test_editing_the_loop_renames_every_run(package_copy):
    old = "    keys = sorted({k for stats in log for k in stats})"
    new = "    keys = sorted(set(k for stats in log for k in stats))"
    assert renamed_after(package_copy, "train.py", old, new) == {"vae", "gan", "wgan"}


def test_the_digest_is_the_same_in_every_process_and_covers_what_the_code_names():
    from gen_core import losses
    from gen_core.families.vae import vae_step

    assert digest.code_digest(vae_step) == digest.code_digest("gen_core.families.vae:vae_step")
    # vae_step names losses.vae_loss: a different digest from the loss alone, and it includes it
    assert digest.code_digest(vae_step) != digest.code_digest(losses.vae_loss)


# ---- the digest's reading of code, on a probe module of its own ---------------------------------

PROBE = '''
import functools

OFFSET = 3
SHAPES = {"a": frozenset({"wx", "yz", "uv", "st", "qr"})}


def helper(x):
    return x + OFFSET


def scaled(x: float, factor: float = 2.0) -> float:
    """Scaled and shifted."""
    # a comment is not code
    return helper(x) * factor


def shapes():
    return SHAPES


class Base:
    def step(self):
        return helper(1)


class Child(Base):
    def step(self):
        return super().step() + 1

    @property
    def size(self):
        return helper(2)

    def uses_size(self):
        return self.size


partial_helper = functools.partial(helper)


def uses_partial():
    return partial_helper(1)
'''


PROBES = iter(range(10**6))


def load_probe(tmp_path, text: str = PROBE, name: str | None = None):
    """The probe as a gen_core module (the digest follows gen_core code only), from a file of its own,
    under `name` (default: a new one each time; the digest's caches forgotten for a name used again)."""
    import importlib.util

    name = name or f"gen_core._digest_probe_{next(PROBES)}"
    digest._module.cache_clear()
    digest._cached_digest.cache_clear()
    path = tmp_path / f"{name.rsplit('.', 1)[1]}_{next(PROBES)}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_code_is_read_as_source_without_docstrings_comments_or_annotations(tmp_path):
    probe = load_probe(tmp_path)
    assert digest.source_text(probe.scaled) == "def scaled(x, factor=2.0):\n    return helper(x) * factor"


@pytest.mark.parametrize("entry, old, new, changes", [
    ("scaled", "OFFSET = 3", "OFFSET = 4", True),                                 # a value it reaches
    ("scaled", '"""Scaled and shifted."""', '"""Shifted, then scaled."""', False),  # its docstring
    ("Child.step", "        return helper(1)", "        return helper(5)", True),  # through super()
    ("Child.uses_size", "        return helper(2)", "        return helper(6)", True),  # through a property
    ("uses_partial", "    return x + OFFSET", "    return x - OFFSET", True),        # through functools.partial
])
def test_the_digest_follows_what_the_code_reaches(tmp_path, entry, old, new, changes):
    name = f"gen_core._digest_probe_{next(PROBES)}"

    def digest_of(text):
        probe = load_probe(tmp_path, text, name)
        obj = probe
        for part in entry.split("."):
            obj = getattr(obj, part)
        return digest.code_digest(obj, owner=probe.Child if "." in entry else None)

    assert PROBE.count(old) == 1
    assert (digest_of(PROBE) != digest_of(PROBE.replace(old, new))) == changes


def test_a_monkeypatched_function_is_hashed_as_its_file_has_it(tmp_path, monkeypatch):
    """Names are resolved in the source files, never through live objects: a test's stand-in for a
    function (or a decorator's wrapper) changes nothing."""
    probe = load_probe(tmp_path)
    before = digest.code_digest(probe.scaled)
    monkeypatch.setattr(probe, "helper", lambda x: 0)
    digest._cached_digest.cache_clear()
    assert digest.code_digest(probe.scaled) == before


def test_a_set_inside_a_value_hashes_alike_under_every_hash_seed(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    script = ("import importlib.util, sys; from gen_core import digest; "
              f"spec = importlib.util.spec_from_file_location('gen_core._digest_probe', {str(tmp_path / 'probe.py')!r}); "
              "m = importlib.util.module_from_spec(spec); sys.modules[spec.name] = m; spec.loader.exec_module(m); "
              "print(digest.code_digest(m.shapes))")
    seen = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(seen) == 1
