"""Program assembly from HumanEval-X-shaped rows, run for real in the sandbox."""

from __future__ import annotations

import pytest

from harness.code import assemble, languages, sandbox

ROW = {
    "task_id": "T/0",
    "prompt": 'from typing import List\n\n\ndef add(a: int, b: int) -> int:\n    """Add."""\n',
    "declaration": "from typing import List\n\n\ndef add(a: int, b: int) -> int:\n",
    "test": "\n\ndef check(f):\n    assert f(2, 3) == 5\n\ncheck(add)\n",
}
JS_ROW = {
    "task_id": "JavaScript/0",
    "prompt": "/* add */\nconst add = (a, b) => {\n",
    "declaration": "\nconst add = (a, b) => {\n",
    "test": "console.assert(add(2, 3) === 5)\n",
}
JAVA_ROW = {
    "task_id": "Java/0",
    "prompt": "import java.util.*;\n\nclass Solution {\n    /** add */\n    public int add(int a, int b) {\n",
    "declaration": "import java.util.*;\n\nclass Solution {\n    public int add(int a, int b) {\n",
    "test": "public class Main {\n    public static void main(String[] args) {\n"
    "        if (new Solution().add(2, 3) != 5) throw new AssertionError();\n    }\n}\n",
}


def run(language: str, source: str) -> sandbox.Outcome:
    lang = languages.LANGUAGES[language]
    if languages.missing_tools(lang):
        pytest.skip(f"{language} toolchain missing: run scripts/install-toolchains.sh {language}")
    return sandbox.run_program(languages.program(lang, source), languages.limits_for(lang, 20.0, 1024))


@pytest.mark.parametrize(
    "reply",
    [
        "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```",  # whole function
        "Here you go:\n```python\n    return a + b\n```\nDone.",  # body only, indented
        "```\nreturn a + b\n```",  # body only, not indented, untagged fence
        "def add(a, b):\n    return a + b\n",  # no fences at all
        "```text\nexplanation\n```\n```py\nimport math\n\ndef add(a, b):\n    return int(math.fsum([a, b]))\n```",
    ],
)
def test_python_instruction_replies_pass(reply: str) -> None:
    out = run("python", assemble.instruction_program(ROW, reply, "python"))
    assert out.passed, out.stderr


def test_python_wrong_reply_fails() -> None:
    assert not run("python", assemble.instruction_program(ROW, "```python\n    return a - b\n```", "python")).passed


def test_completion_is_truncated_at_the_next_top_level_def() -> None:
    completion = "    return a + b\n\ndef add(a, b):\n    return 0\n"
    assert assemble.truncate_completion(ROW["prompt"], completion, "python") == "    return a + b\n"
    out = run("python", assemble.completion_program(ROW, "    return a + b\n", "python"))
    assert out.passed


def test_brace_completion_keeps_helpers_and_drops_its_own_main() -> None:
    prompt = "#include<stdio.h>\nint add(int a, int b){\n"
    completion = "    return helper(a) + b;\n}\nint helper(int x){ return x; }\nint main(){ return 3; }\n"
    cut = assemble.truncate_completion(prompt, completion, "cpp")
    assert "int helper" in cut and "main" not in cut


@pytest.mark.parametrize(
    ("reply", "passed"),
    [
        ("```javascript\nconst add = (a, b) => {\n  return a + b;\n}\n```", True),
        ("```js\n  return a + b;\n```", True),  # body only: the closing brace is added
        ("```js\n  return a - b;\n}\n```", False),  # console.assert prints to stderr, exit 0: a failure
    ],
)
def test_js_instruction_replies(reply: str, passed: bool) -> None:
    out = run("js", assemble.instruction_program(JS_ROW, reply, "js"))
    assert out.passed is passed, out.stderr
    if not passed:
        assert out.exit_code == 0 and out.reason == "stderr not empty"


@pytest.mark.parametrize(
    "reply",
    [
        "```java\nimport java.util.*;\nclass Solution {\n    public int add(int a, int b) {\n        return a + b;\n"
        "    }\n}\npublic class Main {\n    public static void main(String[] a) {}\n}\n```",  # with its own Main
        "```java\n        return a + b;\n```",  # body only: method and class are closed
        "```java\npublic int add(int a, int b) {\n    return a + b;\n}\n```",  # method without class
    ],
)
def test_java_instruction_replies_pass(reply: str) -> None:
    out = run("java", assemble.instruction_program(JAVA_ROW, reply, "java"))
    assert out.passed, out.stderr


def test_entry_point_names() -> None:
    assert assemble.entry_point(ROW, "python") == "add"
    assert assemble.entry_point(JS_ROW, "js") == "add"
    assert assemble.entry_point(JAVA_ROW, "java") == "add"
