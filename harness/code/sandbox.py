"""The one place where untrusted code runs.

`run_program(program, limits)` writes a program's files into a fresh work
directory, runs its build commands and then its run command, and returns an
`Outcome`. `run_programs` does the same for many programs on a thread pool
(each thread waits on its own child processes, so `workers` programs run at
once).

What is contained, and how (see docs/code.md for the full table):

- **Privileges.** As root, each running program gets its own numeric uid/gid
  from a pool (62000+; a file lock per uid keeps two harness processes from
  sharing one) and drops to it before exec, with no supplementary groups and
  `PR_SET_NO_NEW_PRIVS` (setuid binaries gain nothing). It can write only its
  work directory and cannot read root-only files. Without root the program
  runs as the harness's own user (weaker; recorded in `Outcome.isolation`).
- **Namespaces** (root only, probed once): a new network namespace (only a
  downed loopback: no network), a new PID namespace with its own /proc (the
  harness's processes are invisible; when the program's first process exits,
  the kernel kills everything left in the namespace), and a new mount
  namespace with small private tmpfs mounts on /tmp, /var/tmp and /dev/shm.
- **Disk.** As root the work directory is a size-limited tmpfs
  (`Limits.disk_mb`); everywhere RLIMIT_FSIZE caps any single file.
- **Resources.** RLIMIT_CPU, RLIMIT_DATA (heap/anonymous memory),
  RLIMIT_AS (where the language tolerates it), RLIMIT_NPROC (counted per
  uid, so effective with the per-program uid), RLIMIT_NOFILE, RLIMIT_CORE=0.
  The program may lower these but never raise them.
- **Time and output.** A wall-clock deadline per phase; stdout/stderr are read
  with a cap (kept text is truncated; a flood kills the program).
- **Environment.** Built from scratch: PATH, HOME and TMPDIR (the work dir),
  LANG, plus the language's own variables. Nothing of the harness's
  environment (API keys) is passed on.
- **Clean-up.** Every child is killed at the end: the process group, then a
  scan of /proc for any process of the program's uid (as root) or session
  (otherwise), repeated until none is left; this catches processes that
  called setsid() or double-forked.

Setup that must happen between fork and exec (namespaces, rlimits, dropping
privileges) is done by a tiny trampoline, `python -I -S -c _TRAMPOLINE`,
rather than a `preexec_fn`, which is unsafe in a threaded program.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
UID_BASE = 62000
UID_POOL = 64
_KILL_AT_OUTPUT_FACTOR = 64  # a program printing this many times the cap is killed


@dataclass(frozen=True)
class Program:
    """Files to write, commands to build them (once), and the command to run.

    `{workdir}` in an env value is replaced by the work directory's path.
    `seed_dirs` maps a relative destination to a trusted directory copied in
    before the build (the warm Go build cache). With `require_empty_stderr`
    the run passes only if it printed nothing to stderr (HumanEval-X JS).
    `export` = (relative dir, host dir): after a passing run that directory is
    copied out (root-owned when run as root); for trusted warm-ups only.
    """

    files: Mapping[str, str]
    run: tuple[str, ...]
    build: tuple[tuple[str, ...], ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    seed_dirs: Mapping[str, str] = field(default_factory=dict)
    require_empty_stderr: bool = False
    export: tuple[str, str] | None = None


@dataclass(frozen=True)
class Limits:
    """Per-program limits. `address_space_mb=None` leaves RLIMIT_AS unset
    (V8 and the JVM reserve far more address space than they use)."""

    timeout_s: float = 15.0  # wall clock of the run phase
    build_timeout_s: float = 60.0  # wall clock of each build command
    memory_mb: int = 2048  # RLIMIT_DATA
    address_space_mb: int | None = None  # RLIMIT_AS
    file_size_mb: int = 64
    disk_mb: int = 256
    max_processes: int = 128  # RLIMIT_NPROC: threads count too
    max_open_files: int = 1024
    max_output_bytes: int = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    """What happened to one program. `exit_code` is negative for a signal."""

    passed: bool
    exit_code: int | None
    timed_out: bool
    stdout: str
    stderr: str
    duration_s: float
    phase: str  # "build" or "run": the phase that decided the outcome
    reason: str  # "passed", "exit code 1", "timeout", "stderr not empty", ...
    isolation: tuple[str, ...] = ()


# --------------------------------------------------------------- trampoline

# Runs as the harness's user with cwd = work dir; argv[1] is a JSON config.
# Exit 125 with a message on stderr means the sandbox itself failed.
_TRAMPOLINE = r"""
import ctypes, json, os, resource, signal, sys
cfg = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
def die(msg):
    os.write(2, ("sandbox: " + msg + "\n").encode()); os._exit(125)
def call(name, *args):
    if getattr(libc, name)(*args) != 0:
        die(name + str(args[:2]) + ": " + os.strerror(ctypes.get_errno()))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
flags = (0x40000000 if cfg["netns"] else 0) | (0x20000000 | 0x00020000 if cfg["pidns"] else 0)
if flags:
    call("unshare", flags)
if cfg["pidns"]:
    pid = os.fork()
    if pid:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, lambda *a: os.kill(pid, signal.SIGKILL))
        _, status = os.waitpid(pid, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 125
        if code > 128 and code - 128 < signal.NSIG:  # the init below relays a signal as 128 + signal
            signal.signal(code - 128, signal.SIG_DFL)  # die the same way, so the harness sees it
            os.kill(os.getpid(), code - 128)
        os._exit(code)
    call("mount", b"none", b"/", None, 0x4000 | 0x40000, None)  # MS_REC|MS_PRIVATE
    call("mount", b"proc", b"/proc", b"proc", 2 | 4 | 8, None)  # nosuid,nodev,noexec
    wd = os.getcwd().encode()
    for d in (b"/tmp", b"/var/tmp", b"/dev/shm"):
        if os.path.isdir(d):
            call("mount", b"tmpfs", d, b"tmpfs", 2 | 4, b"size=16m,mode=1777")
    os.makedirs(wd, exist_ok=True)
    call("mount", b".", wd, None, 0x1000, None)  # MS_BIND: the hidden work dir back in place
    os.chdir(wd)
    # This process is the namespace's init. The program must not be: init ignores
    # its own default-action signals, so a C++ assert's SIGABRT would not kill it.
    call("prctl", 1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)  # when init exits, the kernel kills the rest
        os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
# Resolve the command now: after setuid the interpreter's own files may be unreadable.
exe = cfg["argv"][0]
if "/" not in exe:
    dirs = cfg["env"].get("PATH", "").split(":")
    exe = next((p for p in (os.path.join(d, exe) for d in dirs) if os.access(p, os.X_OK)), exe)
for name, value in cfg["rlimits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
if cfg["uid"] is not None:
    os.setgroups([])
    os.setgid(cfg["uid"])
    os.setuid(cfg["uid"])
call("prctl", 38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
call("prctl", 1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG, after setuid (which clears it)
try:
    os.execve(exe, cfg["argv"], cfg["env"])
except OSError as e:
    os.write(2, ("cannot run %r: %s\n" % (cfg["argv"][0], e)).encode()); os._exit(127)
"""


@functools.cache
def isolation() -> tuple[str, ...]:
    """The isolation this machine allows, probed once: a subset of
    ("uid", "netns", "pidns", "tmpfs") in that order; () when not root."""
    if os.geteuid() != 0:
        return ()
    have: list[str] = ["uid"]
    with tempfile.TemporaryDirectory() as d:
        for feature, cfg in (("netns", {"netns": True, "pidns": False}), ("pidns", {"netns": False, "pidns": True})):
            argv = _trampoline_argv(
                {**cfg, "rlimits": {}, "uid": None, "argv": ["true"], "env": {"PATH": "/bin:/usr/bin"}}
            )
            res = subprocess.run(argv, cwd=d, capture_output=True, timeout=30, check=False)
            if res.returncode == 0:
                have.append(feature)
        try:
            _mount_tmpfs(Path(d), 1)
            _umount(Path(d))
            have.append("tmpfs")
        except OSError:
            pass
    return tuple(have)


def _trampoline_argv(cfg: Mapping[str, object]) -> list[str]:
    return [sys.executable, "-I", "-S", "-c", _TRAMPOLINE, json.dumps(cfg)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount_tmpfs(path: Path, size_mb: int) -> None:
    opts = f"size={size_mb}m,mode=0700".encode()
    if _libc().mount(b"tmpfs", str(path).encode(), b"tmpfs", 2 | 4, opts) != 0:  # nosuid,nodev
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _umount(path: Path) -> None:
    _libc().umount2(str(path).encode(), 2)  # MNT_DETACH


# ------------------------------------------------------------------ uids


@contextlib.contextmanager
def _uid_slot() -> Iterator[int | None]:
    """A uid no other running program (in any harness process) is using."""
    if "uid" not in isolation():
        yield None
        return
    lock_dir = Path(tempfile.gettempdir()) / "harness-sandbox-locks"
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    while True:
        for uid in range(UID_BASE, UID_BASE + UID_POOL):
            fd = os.open(lock_dir / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                _kill_leftovers(uid=uid, sid=None)  # a crashed earlier run may have left some
                yield uid
            finally:
                os.close(fd)
            return
        time.sleep(0.05)


def _proc_ids(pid: str) -> tuple[int, int] | None:
    """(real uid, session id) of a live process, or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open(f"/proc/{pid}/status", "rb") as f:
            uid_line = next(line for line in f if line.startswith(b"Uid:"))
    except (OSError, StopIteration):
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):  # dead; only its parent's wait() is left
        return None
    return int(uid_line.split()[1]), int(fields[3])


def _kill_leftovers(uid: int | None, sid: int | None) -> int:
    """SIGKILL every process of `uid` (or, without one, of session `sid`)
    until none is left; returns how many were found."""
    me = os.getpid()
    found = 0
    for _ in range(100):
        victims = []
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me:
                continue
            ids = _proc_ids(name)
            if ids and ((uid is not None and ids[0] == uid) or (uid is None and sid is not None and ids[1] == sid)):
                victims.append(int(name))
        if not victims:
            return found
        found += len(victims)
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    return found


def _kill_all(proc: subprocess.Popen[bytes], uid: int | None) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # start_new_session: pgid == sid == pid
    _kill_leftovers(uid=uid, sid=proc.pid)


# ------------------------------------------------------------------- run


@dataclass
class _Phase:
    code: int | None
    timed_out: bool
    out: bytes
    err: bytes
    flooded: bool


def _read_capped(
    proc: subprocess.Popen[bytes], deadline: float, cap: int, uid: int | None
) -> tuple[bytes, bytes, bool, bool]:
    """Read both pipes until EOF or the deadline; keep at most `cap` bytes each.

    Once the program's own process has exited, whatever it left behind is
    killed, so a background child holding the pipes open cannot stall us."""
    assert proc.stdout is not None and proc.stderr is not None
    bufs = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    total = 0
    timed_out = flooded = reaped = False
    with selectors.DefaultSelector() as sel:
        for pipe in bufs:
            sel.register(pipe, selectors.EVENT_READ)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(timeout=min(left, 0.5)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = bufs[key.fileobj]  # type: ignore[index]
                buf += chunk[: max(0, cap + 1 - len(buf))]
                total += len(chunk)
            if total > cap * _KILL_AT_OUTPUT_FACTOR:
                flooded = True
                break
            if proc.poll() is not None and not reaped:
                reaped = True
                _kill_all(proc, uid)
                deadline = min(deadline, time.monotonic() + 2.0)
    return bytes(bufs[proc.stdout]), bytes(bufs[proc.stderr]), timed_out, flooded


def _run_phase(
    argv: Sequence[str],
    workdir: Path,
    env: Mapping[str, str],
    limits: Limits,
    timeout_s: float,
    uid: int | None,
    cpu_s: int,
) -> _Phase:
    iso = isolation()
    rlimits = {
        "RLIMIT_CPU": cpu_s,
        "RLIMIT_DATA": limits.memory_mb << 20,
        "RLIMIT_FSIZE": limits.file_size_mb << 20,
        "RLIMIT_NOFILE": limits.max_open_files,
        "RLIMIT_CORE": 0,
    }
    if limits.address_space_mb is not None:
        rlimits["RLIMIT_AS"] = limits.address_space_mb << 20
    if uid is not None:  # per-uid count: only meaningful with our own uid
        rlimits["RLIMIT_NPROC"] = limits.max_processes
    cfg = {
        "netns": "netns" in iso,
        "pidns": "pidns" in iso,
        "rlimits": rlimits,
        "uid": uid,
        "argv": list(argv),
        "env": dict(env),
    }
    proc = subprocess.Popen(
        _trampoline_argv(cfg),
        cwd=workdir,
        env={},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err, timed_out, flooded = _read_capped(proc, time.monotonic() + timeout_s, limits.max_output_bytes, uid)
    finally:
        _kill_all(proc, uid)
        code = proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    return _Phase(None if timed_out or flooded else code, timed_out, out, err, flooded)


def _text(data: bytes, cap: int) -> str:
    text = data[:cap].decode("utf-8", errors="replace")
    return text + "\n[... truncated]" if len(data) > cap else text


@contextlib.contextmanager
def _workdir(limits: Limits, uid: int | None) -> Iterator[Path]:
    base = Path(tempfile.gettempdir()) / "harness-sandbox"
    base.mkdir(mode=0o711, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=base))
    mounted = False
    try:
        if "tmpfs" in isolation():
            _mount_tmpfs(path, limits.disk_mb)
            mounted = True
        yield path
    finally:
        if mounted:
            _umount(path)
        shutil.rmtree(path, ignore_errors=True)


def run_program(program: Program, limits: Limits = Limits()) -> Outcome:
    """Build (once) and run one program; never raises for the program's faults."""
    start = time.monotonic()
    with _uid_slot() as uid, _workdir(limits, uid) as wd:
        for rel, text in program.files.items():
            dest = wd / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        for rel, src in program.seed_dirs.items():
            shutil.copytree(src, wd / rel, dirs_exist_ok=True)
        if uid is not None:
            for p in [wd, *wd.rglob("*")]:
                os.lchown(p, uid, uid)
        env = {"PATH": SANDBOX_PATH, "HOME": str(wd), "TMPDIR": str(wd), "LANG": "C.UTF-8"}
        env.update({k: v.replace("{workdir}", str(wd)) for k, v in program.env.items()})
        steps = [("build", cmd, limits.build_timeout_s) for cmd in program.build]
        steps.append(("run", program.run, limits.timeout_s))
        for phase_name, argv, timeout in steps:
            ph = _run_phase(argv, wd, env, limits, timeout, uid, cpu_s=int(timeout) + 1)
            cap = limits.max_output_bytes
            stderr = _text(ph.err, cap)
            if ph.timed_out:
                reason = "timeout"
            elif ph.flooded:
                reason = "output limit exceeded"
            elif ph.code != 0:
                reason = f"exit code {ph.code}" if ph.code and ph.code > 0 else f"killed by signal {-(ph.code or 0)}"
            elif phase_name == "run" and program.require_empty_stderr and ph.err:
                reason = "stderr not empty"
            else:
                reason = "passed" if phase_name == "run" else ""
            if reason == "passed" and program.export is not None:
                shutil.copytree(wd / program.export[0], program.export[1], dirs_exist_ok=True)
            if reason:
                return Outcome(
                    passed=reason == "passed",
                    exit_code=ph.code,
                    timed_out=ph.timed_out,
                    stdout=_text(ph.out, cap),
                    stderr=stderr,
                    duration_s=time.monotonic() - start,
                    phase=phase_name,
                    reason=reason if phase_name == "run" else f"build failed: {reason}",
                    isolation=isolation(),
                )
    raise AssertionError("unreachable: the run step always returns")


def run_programs(programs: Sequence[Program], limits: Limits = Limits(), workers: int = 2) -> list[Outcome]:
    """Run many programs, `workers` at a time; outcomes are in input order."""
    if not programs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sandbox") as pool:
        return list(pool.map(lambda p: run_program(p, limits), programs))
