"""A real single-node Slurm cluster for the tests (no tests in here; the fixture is in conftest.py).

`start(workdir)` makes sure munged runs, writes `workdir/slurm.conf` for this machine (short hostname,
os.cpu_count() CPUs, one partition `debug`, no accounting), starts slurmctld and slurmd in the foreground
(-D) as children of the test process, points SLURM_CONF at the file (in os.environ too, so sbatch, squeue,
scancel and sinfo run later by submitit find it), and waits until the node is idle. Nothing is written
to /etc/slurm. `Cluster.stop()` cancels what is left, stops the daemons (SIGTERM, then SIGKILL), stops
munged only if start() started it, and puts SLURM_CONF back.

Every daemon started here carries GEN_SLURM_OWNER=<pid>:<start time> of the test process in its
environment. A later start() kills the daemons (and slurmstepd) of a session whose owner is gone,
e.g. a pytest run killed with SIGKILL. Daemons of a live session, and Slurm daemons not started here,
are left alone: each cluster gets its own free ports, conf, state and spool folders, so they coexist.

Needs root (slurmd runs the jobs as the submitting user; the daemons run as root).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PARTITION = "debug"
CLUSTER_NAME = "gentest"
OWNER_VAR = "GEN_SLURM_OWNER"
MUNGE_KEY = Path("/etc/munge/munge.key")
MUNGE_RUN = Path("/run/munge")
NEEDED = ("slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo", "srun", "munged", "munge", "unmunge")
_SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin", "/bin"])


class SlurmStartError(RuntimeError):
    pass


def _which(name: str) -> str | None:
    return shutil.which(name, path=_SEARCH)


def available() -> str | None:
    """None when this machine can run the cluster, else a one-line reason."""
    missing = [name for name in NEEDED if _which(name) is None]
    if missing:
        return ("Slurm/munge binaries missing: " + ", ".join(missing)
                + " (apt-get install slurmctld slurmd slurm-client munge)")
    if os.geteuid() != 0:
        return "the single-node Slurm cluster needs root (daemons run as root)"
    return None


# ---- processes -------------------------------------------------------------------------------

def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: start time in clock ticks since boot


def _owner_token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{_start_time(pid)}"


def _owner_alive(token: str) -> bool:
    pid, _, started = token.partition(":")
    return pid.isdigit() and _start_time(int(pid)) == started


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def _processes(names: tuple[str, ...]) -> list[tuple[int, str]]:
    """(pid, name) of the live (not zombie) processes whose name is one of `names`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if name in names and state != "Z":
            found.append((int(entry.name), name))
    return found


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if _start_time(pid) is not None and not _is_zombie(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _kill_pids(pids: list[int], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL for whatever is still there after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        pids = _wait_gone(pids, wait)
        if not pids:
            return


def _stop_popen(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _with_descendants(pids: list[int]) -> list[int]:
    """`pids` and every process below them (a job's processes are children of its slurmstepd)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def kill_stale_daemons() -> list[str]:
    """Kill the Slurm daemons, slurmstepd and their jobs left by a fixture session whose test process is gone.

    Returns one line per killed process. Daemons of live sessions and daemons not started by this
    module (no GEN_SLURM_OWNER in their environment) are left alone."""
    stale = []
    for pid, name in _processes(("slurmctld", "slurmd", "slurmstepd")):
        token = _environ(pid).get(OWNER_VAR)
        if token and not _owner_alive(token):
            stale.append((pid, name, token))
    _kill_pids(_with_descendants([pid for pid, _, _ in stale]))
    return [f"{name} pid {pid} (owner {token} is gone)" for pid, name, token in stale]


def _other_live_sessions() -> bool:
    """Whether a slurmctld of another live session of this fixture is running (it may use munged)."""
    mine = _owner_token()
    for pid, _ in _processes(("slurmctld",)):
        token = _environ(pid).get(OWNER_VAR)
        if token and token != mine and _owner_alive(token):
            return True
    return False


# ---- munge -----------------------------------------------------------------------------------

def _munge_works() -> bool:
    munge, unmunge = _which("munge"), _which("unmunge")
    try:
        cred = subprocess.run([munge, "-n"], capture_output=True, timeout=10)
        if cred.returncode != 0:
            return False
        check = subprocess.run([unmunge], input=cred.stdout, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return check.returncode == 0


def _ensure_munge(workdir: Path) -> subprocess.Popen | None:
    """Reuse a working munged (returns None) or start one as the munge user (returns its process)."""
    if _munge_works():
        return None
    import pwd

    user = pwd.getpwnam("munge")
    for folder, mode in ((MUNGE_RUN, 0o755), (Path("/var/lib/munge"), 0o711), (Path("/var/log/munge"), 0o700)):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
        os.chmod(folder, mode)
    if not MUNGE_KEY.exists():
        MUNGE_KEY.parent.mkdir(parents=True, exist_ok=True)
        mungekey = _which("mungekey")
        if mungekey is None:
            raise SlurmStartError(f"{MUNGE_KEY} is missing and there is no mungekey to create it")
        subprocess.run([mungekey, "--create", "--keyfile", str(MUNGE_KEY)], check=True, capture_output=True)
    os.chown(MUNGE_KEY, user.pw_uid, user.pw_gid)
    os.chmod(MUNGE_KEY, 0o400)
    log = open(workdir / "munged.out", "ab")
    proc = subprocess.Popen([_which("munged"), "--foreground"], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                            start_new_session=True)
    log.close()
    deadline = time.monotonic() + 15
    while not _munge_works():
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_popen(proc)
            if _munge_works():  # a concurrent session's munged won the socket: use that one
                return None
            raise SlurmStartError("munged did not start:\n" + _tail(workdir / "munged.out")
                                  + _tail(Path("/var/log/munge/munged.log")))
        time.sleep(0.2)
    if proc.poll() is not None:  # ours lost the race to a concurrent session's munged, which works
        return None
    return proc


# ---- slurm.conf ------------------------------------------------------------------------------

def short_hostname() -> str:
    try:
        name = subprocess.run(["hostname", "-s"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        name = ""
    return name or socket.gethostname().split(".")[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _real_memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return max(1, int(line.split()[1]) // 1024 - 1000)
    return 1


def write_conf(workdir: Path, hostname: str, cpus: int, memory_mb: int, ctld_port: int, slurmd_port: int) -> Path:
    for sub in ("state", "spool"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    conf = workdir / "slurm.conf"
    conf.write_text(f"""\
# written by tests/slurm_cluster.py for one test session; not a production configuration
ClusterName={CLUSTER_NAME}
SlurmctldHost={hostname}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
# job step credential lifetime; also how long a requeued job waits before it may start again (default 120 s)
AuthInfo=cred_expire=10
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# schedule pending jobs (e.g. requeued ones whose BeginTime has passed) every 2 s, not every 30-60 s
SchedulerParameters=sched_interval=2,bf_interval=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdParameters=config_overrides
StateSaveLocation={workdir / 'state'}
SlurmdSpoolDir={workdir / 'spool'}
SlurmctldPidFile={workdir / 'slurmctld.pid'}
SlurmdPidFile={workdir / 'slurmd.pid'}
SlurmctldLogFile={workdir / 'slurmctld.log'}
SlurmdLogFile={workdir / 'slurmd.log'}
SlurmctldDebug=info
SlurmdDebug=info
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName={hostname} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={hostname} Default=YES MaxTime=INFINITE State=UP
""")
    return conf


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return f"--- {path}: (missing)\n"
    return f"--- {path} (last {len(text)} lines):\n" + "\n".join(text) + "\n"


# ---- the cluster -----------------------------------------------------------------------------

@dataclass
class Cluster:
    conf: Path
    hostname: str
    workdir: Path
    partition: str = PARTITION
    slurmctld: subprocess.Popen | None = None
    slurmd: subprocess.Popen | None = None
    munged: subprocess.Popen | None = None  # None: munged was already running and is left alone
    startup_seconds: float = 0.0
    killed_stale: list[str] = field(default_factory=list)
    _old_conf: str | None = None
    _stopped: bool = False

    @property
    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in
                (("slurmctld", self.slurmctld), ("slurmd", self.slurmd), ("munged", self.munged)) if proc}

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def logs(self) -> str:
        return "".join(_tail(self.workdir / name) for name in
                       ("slurmctld.log", "slurmctld.out", "slurmd.log", "slurmd.out"))

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            if self.slurmctld is not None and self.slurmctld.poll() is None:
                # running jobs live in slurmstepd, which outlives slurmd: cancel them first
                jobs = subprocess.run([_which("squeue"), "-h", "-o", "%i"], env=self.env(), capture_output=True,
                                      text=True, timeout=20).stdout.split()
                if jobs:
                    subprocess.run([_which("scancel"), *jobs], env=self.env(), capture_output=True, timeout=20)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    out = subprocess.run([_which("squeue"), "-h", "-o", "%i"], env=self.env(),
                                         capture_output=True, text=True, timeout=20)
                    if out.returncode != 0 or not out.stdout.strip():
                        break
                    time.sleep(0.3)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            _stop_popen(self.slurmd)
            _stop_popen(self.slurmctld)
            # slurmstepd of this cluster that survived the cancel
            mine = _owner_token()
            _kill_pids(_with_descendants([pid for pid, _ in _processes(("slurmstepd",))
                                          if _environ(pid).get(OWNER_VAR) == mine]))
            if self.munged is not None and not _other_live_sessions():
                _stop_popen(self.munged)
            if os.environ.get("SLURM_CONF") == str(self.conf):
                if self._old_conf is None:
                    os.environ.pop("SLURM_CONF", None)
                else:
                    os.environ["SLURM_CONF"] = self._old_conf


def _spawn(argv: list[str], out: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(out, "ab") as log:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


def node_state(cluster: Cluster) -> str:
    out = subprocess.run([_which("sinfo"), "-h", "-N", "-o", "%N %T"], env=cluster.env(), capture_output=True,
                         text=True, timeout=20)
    for line in out.stdout.splitlines():
        name, _, state = line.strip().partition(" ")
        if name == cluster.hostname:
            return state
    return out.stderr.strip() or "(node not listed)"


def start(workdir: Path, timeout: float = 60.0) -> Cluster:
    """Start munged (if needed), slurmctld and slurmd for a one-node cluster configured in `workdir`."""
    reason = available()
    if reason:
        raise SlurmStartError(reason)
    t0 = time.monotonic()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    killed = kill_stale_daemons()
    hostname = short_hostname()
    ctld_port = _free_port()
    slurmd_port = _free_port()
    while slurmd_port == ctld_port:
        slurmd_port = _free_port()
    conf = write_conf(workdir, hostname, os.cpu_count() or 1, _real_memory_mb(), ctld_port, slurmd_port)
    cluster = Cluster(conf=conf, hostname=hostname, workdir=workdir, killed_stale=killed,
                      _old_conf=os.environ.get("SLURM_CONF"))
    try:
        cluster.munged = _ensure_munge(workdir)
        env = {**cluster.env(), OWNER_VAR: _owner_token()}
        cluster.slurmctld = _spawn([_which("slurmctld"), "-D", "-i", "-f", str(conf)], workdir / "slurmctld.out", env)
        cluster.slurmd = _spawn([_which("slurmd"), "-D", "-f", str(conf), "-N", hostname], workdir / "slurmd.out", env)
        os.environ["SLURM_CONF"] = str(conf)
        deadline = time.monotonic() + timeout
        state = ""
        while True:
            dead = [name for name, proc in (("slurmctld", cluster.slurmctld), ("slurmd", cluster.slurmd))
                    if proc.poll() is not None]
            if dead:
                raise SlurmStartError(f"{' and '.join(dead)} exited during startup (node state {state!r})\n"
                                      + cluster.logs())
            state = node_state(cluster)
            if state == "idle":
                break
            if time.monotonic() > deadline:
                raise SlurmStartError(f"node {hostname} not idle after {timeout:.0f} s (state {state!r})\n"
                                      + cluster.logs())
            time.sleep(0.25)
    except BaseException:
        cluster.stop()
        raise
    cluster.startup_seconds = time.monotonic() - t0
    return cluster
