"""HumanEval-X Rust: program assembly (upstream's layout) and the missing-toolchain message."""

from __future__ import annotations

import dataclasses

import pytest

from harness.code import assemble, languages
from harness.core.errors import ConfigError

ROW = {
    "task_id": "Rust/0",
    "prompt": "\n/*\n Add two numbers.\n*/\n",
    "declaration": "\nuse std::collections::HashMap;\nuse rand::Rng;\n\nfn add(a: i32, b: i32) -> i32{\n",
    "test": "\n#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn t() { assert_eq!(add(1, 2), 3) }\n}\n",
}


def test_completion_is_main_declaration_prompt_body_test() -> None:
    src = assemble.completion_program(ROW, "    a + b\n}\n", "rust")
    assert src == "fn main(){}\n" + ROW["declaration"] + ROW["prompt"] + "    a + b\n}\n" + "\n" + ROW["test"]


def test_instruction_reply_with_the_whole_function_keeps_the_uses_and_drops_its_main() -> None:
    reply = "```rust\nfn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\nfn main() {\n    println!(\"hi\");\n}\n```"
    src = assemble.instruction_program(ROW, reply, "rust")
    assert src == ("fn main(){}\nuse std::collections::HashMap;\nuse rand::Rng;\n"
                   "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n" + "\n" + ROW["test"])


def test_instruction_reply_with_a_body_only_is_appended_to_the_declaration_once() -> None:
    src = assemble.instruction_program(ROW, "```rust\na + b\n```", "rust")
    assert src.count("fn add(") == 1
    assert src == "fn main(){}\n" + ROW["declaration"] + "a + b\n}\n" + "\n" + ROW["test"]


def test_entry_point_and_truncation() -> None:
    assert assemble.entry_point(ROW, "rust") == "add"
    cut = assemble.truncate_completion("", "    a + b\n}\n\nfn main() {}\n", "rust")
    assert cut == "    a + b\n}\n"  # the blank line before main goes too, as for Go and C++


def test_rust_without_its_toolchain_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    rust = languages.LANGUAGES["rust"]
    gone = dataclasses.replace(rust, needs=("rustc", "/nonexistent/cargo/registry/rand-0.8.5"))
    monkeypatch.setitem(languages.LANGUAGES, "rust", gone)
    with pytest.raises(ConfigError, match=r"language 'rust' .*needs /nonexistent/cargo/registry/rand-0\.8\.5.*"
                                          r"run scripts/install-toolchains\.sh rust"):
        languages.get_language("rust")
