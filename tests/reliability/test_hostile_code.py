"""Hostile programs run in harness.code.sandbox: each is contained and scored as a failure.

Every hostile program exits 0 only if its attack worked, so "not passed" plus
the specific assertion is the containment check. An autouse fixture asserts
that no process outlives its test.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.code import sandbox
from harness.code.sandbox import Limits, Outcome, Program

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox needs Linux")

FAST = Limits(timeout_s=3.0, memory_mb=512)
ISO = sandbox.isolation()
needs = {f: pytest.mark.skipif(f not in ISO, reason=f"this machine does not allow {f} isolation") for f in ISO or ()}


def _needs(feature: str) -> pytest.MarkDecorator:
    return needs.get(feature) or pytest.mark.skip(reason=f"this machine does not allow {feature} isolation (not root?)")


def _procs() -> dict[int, tuple[int, int, str]]:
    """pid -> (uid, ppid, cmdline) for every live process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            status = Path(f"/proc/{name}/status").read_text()
            if "\nState:\tZ" in status:  # a zombie is dead; init reaps it
                continue
            cmd = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        out[int(name)] = (int(fields["Uid"].split()[0]), int(fields["PPid"]), cmd)
    return out


def _descendants(root: int, procs: dict[int, tuple[int, int, str]]) -> set[int]:
    kids: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {p for p, (_, ppid, _) in procs.items() if ppid in frontier} - kids
        kids |= frontier
    return kids


@pytest.fixture(autouse=True)
def no_survivors() -> Iterator[None]:
    yield
    procs = _procs()
    pool = range(sandbox.UID_BASE, sandbox.UID_BASE + sandbox.UID_POOL)
    leftovers = {p: v for p, v in procs.items() if v[0] in pool or "hostile-token" in v[2]}
    leftovers.update({p: procs[p] for p in _descendants(os.getpid(), procs) if p in procs})
    assert not leftovers, f"processes outlived the test: {leftovers}"


def run_py(code: str, limits: Limits = FAST) -> Outcome:
    return sandbox.run_program(Program(files={"main.py": code}, run=("python3", "main.py")), limits)


def test_plain_program_passes_and_failure_fails() -> None:
    ok = run_py("print('hi')")
    assert ok.passed and ok.exit_code == 0 and ok.stdout == "hi\n" and ok.phase == "run"
    bad = run_py("raise SystemExit(3)")
    assert not bad.passed and bad.exit_code == 3 and bad.reason == "exit code 3"


def test_infinite_loop_times_out() -> None:
    t0 = time.monotonic()
    out = run_py("while True:\n    pass\n", Limits(timeout_s=1.5))
    assert not out.passed and out.timed_out and out.reason == "timeout"
    assert time.monotonic() - t0 < 5


def test_fork_bomb_is_contained() -> None:
    code = (
        "import os, time\n"
        "for _ in range(100000):\n"
        "    try:\n        os.fork()\n    except OSError:\n        pass\n"
        "time.sleep(30)  # hostile-token\n"
    )
    t0 = time.monotonic()
    out = run_py(code, Limits(timeout_s=2.0, max_processes=64))
    assert not out.passed and (out.timed_out or out.exit_code != 0)
    assert time.monotonic() - t0 < 15


def test_allocating_10_gb_fails() -> None:
    out = run_py("x = bytearray(10 * 2**30)\nprint(len(x))\n")
    assert not out.passed and "MemoryError" in out.stderr


def test_growing_memory_in_a_loop_fails() -> None:
    out = run_py("xs = []\nwhile True:\n    xs.append(bytearray(64 * 2**20))\n")
    assert not out.passed and "MemoryError" in out.stderr


def test_one_huge_file_is_cut_by_the_file_size_limit() -> None:
    code = "with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * 2**20)\n"
    out = run_py(code, Limits(timeout_s=10.0, file_size_mb=8))
    assert not out.passed and out.exit_code is not None and out.exit_code != 0  # SIGXFSZ or EFBIG


@_needs("tmpfs")
def test_filling_the_disk_with_many_files_stops_at_the_quota() -> None:
    code = (
        "import os\nn = 0\n"
        "for where in ('.', '/tmp', '/dev/shm'):\n"
        "    try:\n"
        "        for i in range(10**6):\n"
        "            with open(os.path.join(where, f'f{i}'), 'wb') as f:\n"
        "                f.write(b'x' * 2**20)\n"
        "            n += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "print(n)\nraise SystemExit(0 if n > 1000 else 1)\n"
    )
    out = run_py(code, Limits(timeout_s=20.0, disk_mb=64))
    assert not out.passed
    assert int(out.stdout) <= 64 + 16 + 16  # work dir quota + the private /tmp and /dev/shm


@_needs("netns")
def test_network_is_unreachable() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[object] = []
    server.settimeout(5)
    threading.Thread(target=lambda: accepted.append(_accept(server)), daemon=True).start()
    code = (
        "import socket\n"
        "for host, port in (('127.0.0.1', PORT), ('1.1.1.1', 80), ('pypi.org', 443)):\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=2).close()\n"
        "        print('CONNECTED', host); raise SystemExit(0)\n"
        "    except OSError as e:\n"
        "        print('blocked', host, e)\n"
        "raise SystemExit(1)\n"
    ).replace("PORT", str(port))
    out = run_py(code, Limits(timeout_s=10.0))
    server.close()
    assert not out.passed and "CONNECTED" not in out.stdout
    assert accepted in ([], [None])


def _accept(server: socket.socket) -> object:
    try:
        return server.accept()
    except OSError:
        return None


def test_env_secrets_are_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-planted-0123456789abcdef"
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    code = (
        "import os, glob\n"
        "seen = repr(dict(os.environ))\n"
        "for path in glob.glob('/proc/*/environ'):\n"
        "    try:\n        seen += open(path, 'rb').read().decode(errors='replace')\n"
        "    except OSError:\n        pass\n"
        "print(seen)\n"
        "raise SystemExit(0 if 'sk-planted' in seen else 1)\n"
    )
    out = run_py(code)
    assert not out.passed
    assert secret not in out.stdout + out.stderr
    assert "GEMINI_API_KEY" not in out.stdout


@_needs("uid")
def test_files_outside_the_work_dir_cannot_be_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret-value")
    secret.chmod(0o600)
    code = (
        "got = ''\n"
        f"for path in ({str(secret)!r}, '/etc/shadow', '/root/.bashrc', {str(Path.cwd() / 'pyproject.toml')!r}):\n"
        "    try:\n        got += open(path).read()[:100]\n"
        "    except OSError as e:\n        print('denied', path, e)\n"
        "print(got)\n"
        "raise SystemExit(0 if 'top-secret' in got or 'root:' in got else 1)\n"
    )
    out = run_py(code)
    assert not out.passed and "top-secret-value" not in out.stdout


def test_background_processes_are_killed() -> None:
    code = (
        "import os, subprocess, time\n"
        "subprocess.Popen(['sleep', '300'], start_new_session=True)  # hostile-token\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(300)\n"
        "    os._exit(0)\n"
        "print('left children behind')\n"
        "raise SystemExit(1)\n"
    )
    t0 = time.monotonic()
    out = run_py(code, Limits(timeout_s=10.0))
    assert not out.passed and not out.timed_out
    assert time.monotonic() - t0 < 8  # escapees holding the pipes open do not stall the harness


def test_sleeping_past_the_timeout_after_forking() -> None:
    code = "import os, time\nos.fork()\nos.fork()\ntime.sleep(300)\n"
    t0 = time.monotonic()
    out = run_py(code, Limits(timeout_s=1.5))
    assert out.timed_out and not out.passed
    assert time.monotonic() - t0 < 6


def test_killing_its_parents_and_everyone_it_can() -> None:
    code = (
        "import os, signal, time\n"
        "if os.fork() == 0:  # a child, so that the group kill is not absorbed by a namespace init\n"
        "    for target in (os.getppid(), -1):\n"
        "        try:\n            os.kill(target, signal.SIGKILL)\n"
        "        except OSError as e:\n            print('denied', target, e, flush=True)\n"
        "    os.killpg(os.getpgid(0), signal.SIGKILL)\n"
        "time.sleep(1)\n"
        "for target in (os.getppid(), 0, -1):\n"
        "    try:\n        os.kill(target, signal.SIGKILL)\n"
        "    except OSError as e:\n        print('denied', target, e, flush=True)\n"
        "raise SystemExit(1)\n"
    )
    out = run_py(code)
    assert not out.passed
    assert run_py("print('still here')").passed  # the harness and its pool are fine


@_needs("uid")
def test_limits_cannot_be_raised() -> None:
    code = (
        "import resource\nraised = []\n"
        "for name in ('RLIMIT_CPU', 'RLIMIT_DATA', 'RLIMIT_NPROC', 'RLIMIT_FSIZE'):\n"
        "    lim = getattr(resource, name)\n"
        "    try:\n"
        "        resource.setrlimit(lim, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        "        raised.append(name)\n"
        "    except (ValueError, OSError) as e:\n"
        "        print('denied', name, e)\n"
        "print(raised)\nraise SystemExit(0 if raised else 1)\n"
    )
    out = run_py(code)
    assert not out.passed and "denied RLIMIT_CPU" in out.stdout


def test_huge_stdout_is_truncated_and_stopped() -> None:
    t0 = time.monotonic()
    out = run_py("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", Limits(timeout_s=30.0))
    assert not out.passed and out.reason == "output limit exceeded"
    assert len(out.stdout) <= FAST.max_output_bytes + 100 and out.stdout.endswith("[... truncated]")
    assert time.monotonic() - t0 < 20


@_needs("pidns")
def test_proc_does_not_show_the_harness() -> None:
    me = os.getpid()
    code = (
        "import os, signal\n"
        "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "print('visible', pids)\n"
        "hits = []\n"
        f"for probe in (lambda: open('/proc/{me}/environ').read(), lambda: os.kill({me}, 0)):\n"
        "    try:\n        probe(); hits.append(probe)\n"
        "    except OSError as e:\n        print('denied', e)\n"
        "raise SystemExit(0 if hits or len(pids) > 5 else 1)\n"
    )
    out = run_py(code)
    assert not out.passed, out.stdout


def test_many_hostile_programs_in_parallel() -> None:
    progs = [
        Program(files={"m.py": "while True: pass"}, run=("python3", "m.py")),
        Program(files={"m.py": "import os\nos.fork(); os.fork()\nwhile True: pass"}, run=("python3", "m.py")),
        Program(files={"m.py": "print('ok')"}, run=("python3", "m.py")),
        Program(files={"m.py": "raise SystemExit(1)"}, run=("python3", "m.py")),
    ]
    outs = sandbox.run_programs(progs, Limits(timeout_s=1.5), workers=2)
    assert [o.passed for o in outs] == [False, False, True, False]
    assert outs[0].timed_out and outs[1].timed_out


# ---- added by the reliability suite (docs/reliability.md): cases the file above did not have


def test_huge_stderr_is_truncated_and_stopped() -> None:
    t0 = time.monotonic()
    out = run_py("import sys\nwhile True:\n    sys.stderr.write('e' * 65536)\n", Limits(timeout_s=30.0))
    assert not out.passed and out.reason == "output limit exceeded"
    assert len(out.stderr) <= FAST.max_output_bytes + 100
    assert time.monotonic() - t0 < 20


def test_changing_the_limits_of_its_parent_or_init_is_refused() -> None:
    import resource

    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    code = (
        "import os, resource\nchanged = []\n"
        "for pid in (os.getppid(), 1, " + str(os.getpid()) + "):\n"
        "    try:\n"
        "        resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, 3))\n"
        "        changed.append(pid)\n"
        "    except (OSError, ValueError) as e:\n"
        "        print('denied', pid, e)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))  # lowering its own is allowed\n"
        "print(changed)\nraise SystemExit(0 if changed else 1)\n"
    )
    out = run_py(code)
    assert not out.passed, out.stdout
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == before  # the harness's own limits are untouched


def test_forked_sleepers_ignoring_sigterm_with_closed_pipes_are_killed_at_the_timeout() -> None:
    code = (
        "import os, signal, sys, time\n"
        "for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):\n"
        "    signal.signal(sig, signal.SIG_IGN)\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        os.close(1); os.close(2)  # the harness sees EOF on its pipes; the sleeper lives on\n"
        "        time.sleep(300)  # hostile-token\n"
        "        os._exit(0)\n"
        "os.close(1); os.close(2)\n"
        "time.sleep(300)\n"
    )
    t0 = time.monotonic()
    out = run_py(code, Limits(timeout_s=1.5))
    assert out.timed_out and not out.passed
    assert time.monotonic() - t0 < 8


@_needs("pidns")
def test_proc_tricks_do_not_reach_the_harness() -> None:
    me = os.getpid()
    code = (
        "import os, ctypes\nhits = []\n"
        "def attempt(name, fn):\n"
        "    try:\n        fn(); hits.append(name)\n"
        "    except Exception as e:\n        print('denied', name, e)\n"
        f"attempt('harness mem', lambda: open('/proc/{me}/mem', 'rb').read(1))\n"
        f"attempt('harness cwd', lambda: os.listdir('/proc/{me}/cwd'))\n"
        "attempt('parent environ', lambda: open(f'/proc/{os.getppid()}/environ').read() or 1/0)\n"
        "attempt('sysrq', lambda: open('/proc/sysrq-trigger', 'w').write('b'))\n"
        "attempt('kernel knob', lambda: open('/proc/sys/kernel/pid_max', 'w').write('300'))\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def ptrace_parent():\n"
        "    if libc.ptrace(16, os.getppid(), 0, 0) != 0:  # PTRACE_ATTACH\n"
        "        raise OSError(ctypes.get_errno(), 'ptrace refused')\n"
        "attempt('ptrace parent', ptrace_parent)\n"
        "print('hits', hits)\nraise SystemExit(0 if hits else 1)\n"
    )
    out = run_py(code)
    assert not out.passed, out.stdout
    assert "hits []" in out.stdout
    assert Path("/proc/sys/kernel/pid_max").read_text().strip() != "300"
