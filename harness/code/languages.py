"""The one table of languages code tasks can run: files, build, run, env.

Every entry turns a full source text into a `sandbox.Program`. Commands are
looked up on the sandbox's PATH (/usr/local/bin:/usr/bin:/bin): toolchains
under a user's home (rustup's ~/.cargo) are not visible to the sandbox's
unprivileged uid. `scripts/install-toolchains.sh` installs the rest.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from harness.code import sandbox
from harness.code.assemble import CPP_PCH_INCLUDES, PCH_HEADER
from harness.code.sandbox import SANDBOX_PATH
from harness.core.errors import ConfigError, suggest

GOPATH = "/usr/share/gocode"  # Debian's golang-*-dev packages, testify included
_JVM = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xshare:auto")


@dataclass(frozen=True)
class Warm:
    """A trusted build run once; its `dir` is copied into every program."""

    dir: str
    files: dict[str, str]
    build: tuple[tuple[str, ...], ...]


_GO_WARM_IMPORTS = {
    "math": "Abs",
    "strings": "Split",
    "fmt": "Sprint",
    "strconv": "Itoa",
    "time": "Now",
    "bytes": "Compare",
    "regexp": "MustCompile",
    "sort": "Ints",
    "math/rand": "Intn",
    "crypto/md5": "Sum",
}
_GO_WARM_SRC = (
    'package main\n\nimport (\n    "testing"\n    "github.com/stretchr/testify/assert"\n'
    + "".join(f'    "{p}"\n' for p in _GO_WARM_IMPORTS)
    + ")\n\nfunc TestWarm(t *testing.T) {\n"
    + "".join(f"    _ = {p.split('/')[-1]}.{sym}\n" for p, sym in _GO_WARM_IMPORTS.items())
    + "    assert.Equal(t, 1, 1)\n}\n"
)
_CXX = ("g++", "-std=c++17", "-O0")

# Rust: Debian's rustc/cargo (/usr/bin, the sandbox's PATH) and the crates HumanEval-X's tests use,
# read offline from Debian's librust-*-dev packages as a cargo directory source. rustup's newer
# rustc under ~/.cargo is deliberately not used: the sandbox uid cannot see it, and the crates are
# packaged for Debian's compiler. The crates are built once (warm cache) into .rustlib/ under fixed
# names; each program is then one `rustc --test` linking them.
CARGO_REGISTRY = "/usr/share/cargo/registry"
_RUST_CRATES = ("rand", "regex", "md5")
_RUST_WARM = {
    "w/Cargo.toml": (
        '[package]\nname = "harness_warm"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n'
        'rand = "0.8"\nmd5 = "0.7"\n'
        # Debian packages regex without its optional aho-corasick/memchr speed-ups
        'regex = { version = "1", default-features = false, features = ["std", "unicode"] }\n'
    ),
    "w/src/lib.rs": "",
    "w/home/config.toml": (
        f'[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = "{CARGO_REGISTRY}"\n'
    ),
}
_RUST_COLLECT = (
    "mkdir -p .rustlib && cp w/target/debug/deps/*.rlib .rustlib/ && rm -f .rustlib/libharness_warm-*"
    + "".join(f" && mv .rustlib/lib{c}-*.rlib .rustlib/lib{c}.rlib" for c in _RUST_CRATES)
)
_RUSTC = (
    # std linked dynamically (Debian's libstd .so is on the default library path) and no debug info:
    # 0.2 CPU-s per program instead of 0.5, most of it the static link
    "rustc", "--edition", "2021", "--test", "-A", "warnings", "-C", "debuginfo=0", "-C", "strip=debuginfo",
    "-C", "prefer-dynamic", "-L", "dependency=.rustlib",
    *(a for c in _RUST_CRATES for a in ("--extern", f"{c}=.rustlib/lib{c}.rlib")),
)


@dataclass(frozen=True)
class Language:
    """How to build and run one language.

    `extra_address_space_mb` is added to the memory limit for RLIMIT_AS
    (None: no RLIMIT_AS, only RLIMIT_DATA). `needs` lists commands and paths
    that must exist for the language to be available.
    """

    name: str
    source: str  # file the assembled program is written to
    run: tuple[str, ...]
    build: tuple[tuple[str, ...], ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    extra_address_space_mb: int | None = 0
    require_empty_stderr: bool = False
    warm: Warm | None = None


LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language("python", "main.py", run=("python3", "main.py"), needs=("python3",)),
        Language(
            "cpp",
            "main.cpp",
            build=((*_CXX, "-I.pch", "main.cpp", "-o", "main", "-lcrypto"),),
            run=("./main",),
            needs=("g++",),
            warm=Warm(
                ".pch",
                {f".pch/{PCH_HEADER}": CPP_PCH_INCLUDES},
                ((*_CXX, "-x", "c++-header", f".pch/{PCH_HEADER}", "-o", f".pch/{PCH_HEADER}.gch"),),
            ),
        ),
        Language(
            "java",
            "Main.java",
            build=(("javac", "-encoding", "UTF-8", *(f"-J{f}" for f in _JVM), "-J-Xmx512m", "Main.java"),),
            run=("java", *_JVM, "-Xmx768m", "-cp", ".", "Main"),
            needs=("javac", "java"),
            extra_address_space_mb=2048,
        ),
        Language(
            "js",
            "main.js",
            run=("node", "main.js"),
            needs=("node",),
            extra_address_space_mb=2048,
            require_empty_stderr=True,  # console.assert prints but does not throw
        ),
        Language(
            "go",
            "main_test.go",
            build=(("go", "test", "-c", "-o", "main.test", "main_test.go"),),
            run=("./main.test",),
            env={
                "GOPATH": GOPATH,
                "GO111MODULE": "off",
                "GOCACHE": "{workdir}/.cache/go-build",
                "CGO_ENABLED": "0",
                "GOFLAGS": "-buildvcs=false",
            },
            needs=("go", f"{GOPATH}/src/github.com/stretchr/testify/assert"),
            warm=Warm(
                ".cache/go-build",
                {"main_test.go": _GO_WARM_SRC},
                (("go", "test", "-c", "-o", "w.test", "main_test.go"),),
            ),
            extra_address_space_mb=2048,
        ),
        Language(
            "rust",
            "main.rs",
            build=((*_RUSTC, "-o", "main", "main.rs"),),
            run=("./main", "--test-threads=1", "-q"),
            env={"CARGO_HOME": "{workdir}/w/home", "CARGO_TARGET_DIR": "{workdir}/w/target",
                 "CARGO_PROFILE_DEV_DEBUG": "0", "RUST_BACKTRACE": "0"},  # small crates: less to copy per program
            needs=("rustc", "cargo", *(f"{CARGO_REGISTRY}/{c}-{v}" for c, v in
                                       (("rand", "0.8.5"), ("regex", "1.7.1"), ("md5", "0.7.0")))),
            warm=Warm(
                ".rustlib",
                _RUST_WARM,
                (("cargo", "build", "--offline", "--quiet", "--manifest-path", "w/Cargo.toml"),
                 ("sh", "-c", _RUST_COLLECT)),
            ),
            extra_address_space_mb=None,
        ),
    )
}


def missing_tools(lang: Language) -> list[str]:
    """Commands or paths `lang` needs that this machine lacks."""
    return [
        need
        for need in lang.needs
        if not (os.path.exists(need) if need.startswith("/") else shutil.which(need, path=SANDBOX_PATH))
    ]


def known_language(name: str, where: str = "task.language") -> Language:
    """The table entry for `name`; ConfigError with close matches for an unknown one."""
    if name not in LANGUAGES:
        raise ConfigError(
            f"unknown language {name!r} at {where}{suggest(name, LANGUAGES)}; known: {', '.join(LANGUAGES)}"
        )
    return LANGUAGES[name]


def get_language(name: str, where: str = "task.language") -> Language:
    """The table entry for `name`; ConfigError for an unknown or uninstalled one."""
    lang = known_language(name, where)
    missing = missing_tools(lang)
    if missing:
        raise ConfigError(
            f"language {name!r} ({where}) needs {', '.join(missing)}, not found on {SANDBOX_PATH}; "
            f"run scripts/install-toolchains.sh {name}"
        )
    return lang


def limits_for(lang: Language, timeout_s: float, memory_mb: int) -> sandbox.Limits:
    """Sandbox limits for one language from a task's timeout and memory."""
    extra = lang.extra_address_space_mb
    return sandbox.Limits(
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        address_space_mb=None if extra is None else memory_mb + extra,
    )


def program(lang: Language, source: str) -> sandbox.Program:
    """The sandbox program that builds (once) and runs `source`."""
    seeds = {lang.warm.dir: str(warm_cache(lang))} if lang.warm else {}
    return sandbox.Program(
        files={lang.source: source},
        build=lang.build,
        run=lang.run,
        env=lang.env,
        seed_dirs=seeds,
        require_empty_stderr=lang.require_empty_stderr,
    )


# ----------------------------------------------------------- warm caches

_warm_lock = threading.Lock()


def warm_cache(lang: Language) -> Path:
    """A read-only directory of build products shared by every program of `lang`.

    Go: a build cache with testify and the usual imports compiled (a cold
    `go test -c` takes about 8 s, a warm one 1 s). C++: a precompiled header
    of the upstream include helper (3.7 s per compile without, 0.8 s with).
    It is built once per machine by a trusted program run in the sandbox,
    and each program gets its own copy, so no program can poison another's.
    """
    assert lang.warm is not None
    dest = Path(tempfile.gettempdir()) / f"harness-warm-{lang.name}-{os.geteuid()}"
    ready = dest / "READY"
    with _warm_lock:
        if ready.exists():
            return dest
        with open(dest.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another harness process may be warming it
            if ready.exists():
                return dest
            shutil.rmtree(dest, ignore_errors=True)
            warm = sandbox.Program(
                files=lang.warm.files,
                build=lang.warm.build,
                run=("true",),
                env=lang.env,
                export=(lang.warm.dir, str(dest)),
            )
            out = sandbox.run_program(warm, sandbox.Limits(build_timeout_s=300, address_space_mb=4096))
            if not out.passed:
                raise ConfigError(f"could not warm the {lang.name} toolchain ({out.reason}): {out.stderr[:500]}")
            ready.touch()
    return dest
