"""Hostile Rust programs (HumanEval-X Rust's toolchain) are contained like the Python ones.

Each program is a `#[test]` built with the language table's own `rustc --test` line and
the warm crates, and passes only if its attack worked. Skips without Debian's rustc and
crates (scripts/install-toolchains.sh rust).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from test_hostile_code import _accept, no_survivors  # noqa: F401  (autouse: no process outlives a test)

from harness.code import languages, sandbox
from harness.code.sandbox import Limits, Outcome

RUST = languages.LANGUAGES["rust"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(languages.missing_tools(RUST)), reason="rust toolchain missing: "
                       "run scripts/install-toolchains.sh rust"),
]


def run_rust(body: str, limits: Limits) -> Outcome:
    src = ("use std::io::Write;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn attack() {\n"
           f"{body}\n    }}\n}}\n")
    return sandbox.run_program(languages.program(RUST, src), limits)


def test_a_passing_test_passes_and_the_crates_link() -> None:
    out = run_rust('let _ = regex::Regex::new("a+").unwrap(); let _ = md5::compute(b"x"); '
                   "let _: u8 = rand::random();", Limits(timeout_s=20.0))
    assert out.passed, out.stderr


def test_infinite_loop_times_out() -> None:
    t0 = time.monotonic()
    out = run_rust("let mut i: u64 = 0; loop { i = i.wrapping_add(1); unsafe { std::ptr::write_volatile(&mut i, i) } }",
                   Limits(timeout_s=2.0))
    assert not out.passed and out.timed_out and out.phase == "run"
    assert time.monotonic() - t0 < 30  # the build takes part of it


def test_fork_bomb_through_command_is_contained() -> None:
    body = (
        "let mut kids = Vec::new();\n"
        "for _ in 0..100000 { if let Ok(c) = std::process::Command::new(\"/bin/sleep\").arg(\"30\").spawn() "
        "{ kids.push(c); } }\n"
        "std::thread::sleep(std::time::Duration::from_secs(30));"
    )
    t0 = time.monotonic()
    out = run_rust(body, Limits(timeout_s=3.0, max_processes=64))
    assert not out.passed and out.phase == "run" and (out.timed_out or out.exit_code != 0)
    assert time.monotonic() - t0 < 40


def test_network_is_unreachable() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[object] = []
    server.settimeout(5)
    threading.Thread(target=lambda: accepted.append(_accept(server)), daemon=True).start()
    body = (
        f'for a in ["127.0.0.1:{port}", "1.1.1.1:80"] {{\n'
        "  let addr: std::net::SocketAddr = a.parse().unwrap();\n"
        "  if std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_ok() "
        '{ println!("CONNECTED {}", a); return; }\n}\n'
        'panic!("blocked");'
    )
    out = run_rust(body, Limits(timeout_s=20.0))
    server.close()
    assert not out.passed and out.phase == "run" and "CONNECTED" not in out.stdout
    assert accepted in ([], [None])


def test_env_secrets_are_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-planted-rust-0123456789"
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    body = (
        "let mut seen = format!(\"{:?}\", std::env::vars().collect::<Vec<_>>());\n"
        'if let Ok(dir) = std::fs::read_dir("/proc") { for e in dir.flatten() {\n'
        '  if let Ok(b) = std::fs::read(e.path().join("environ")) { seen.push_str(&String::from_utf8_lossy(&b)); }\n'
        "} }\n"
        'std::io::stdout().write_all(seen.as_bytes()).unwrap();\n'
        'assert!(seen.contains("sk-planted"));'
    )
    out = run_rust(body, Limits(timeout_s=20.0))
    assert not out.passed and out.phase == "run"
    assert secret not in out.stdout + out.stderr and "GEMINI_API_KEY" not in out.stdout
