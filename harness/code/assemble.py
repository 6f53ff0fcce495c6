"""Assembling a runnable source text from a HumanEval-X record and a model's reply.

Two modes:

- **completion**: the model continued the prompt, so the program is
  prompt + completion + test (the upstream CodeGeeX evaluator's layout,
  including its per-language import helpers and Go's import handling).
- **instruction**: the model answered a chat-style request. Code is taken
  from the reply's ``` fences (the ones tagged with the language first; the
  whole reply when there are none). When it defines the function itself it
  replaces the declaration; when it is only a body it is appended to the
  declaration, closing any braces the body leaves open.

Everything here is pure text manipulation; nothing runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Upstream IMPORT_HELPER, minus numpy (not in the sandbox's python3).
_PY_HELPER = (
    "import math\nimport re\nimport sys\nimport copy\nimport datetime\nimport itertools\n"
    "import collections\nimport heapq\nimport functools\nimport hashlib\nimport string\n"
    "from typing import *\nfrom collections import *\n"
)
CPP_PCH_INCLUDES = (
    "#include<stdlib.h>\n#include<algorithm>\n#include<math.h>\n#include<stdio.h>\n#include<string>\n"
    "#include<vector>\n#include<map>\n#include<set>\n#include<climits>\n#include<cstring>\n#include<iostream>\n"
)
PCH_HEADER = "harness_pch.h"  # CPP_PCH_INCLUDES, precompiled once (harness.code.languages)
_CPP_HELPER = f'#include "{PCH_HEADER}"\nusing namespace std;\n'
GO_HELPER_PACKAGES = ("math", "strings", "fmt", "strconv", "time", "bytes", "regexp", "sort", "math/rand", "crypto/md5")

_LITERALS = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|`[^`]*`", re.DOTALL)
_FENCE = re.compile(r"```[ \t]*([\w+#-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_FENCE_TAGS = {
    "python": {"python", "py", "python3"},
    "cpp": {"cpp", "c++", "cc", "cxx", "c"},
    "java": {"java"},
    "js": {"js", "javascript", "node", "jsx"},
    "go": {"go", "golang"},
    "rust": {"rust", "rs"},
}
# Upstream's Rust layout: an empty main, then the declaration (the `use` lines and the signature),
# the prompt's doc comment, the body and the #[cfg(test)] module (built with `rustc --test`).
_RUST_MAIN = "fn main(){}\n"


def entry_point(row: Mapping[str, Any], language: str) -> str:
    """The name of the function under test, read from the declaration."""
    decl = str(row["declaration"])
    patterns = {
        "python": r"def\s+(\w+)\s*\(",
        "go": r"func\s+(\w+)\s*\(",
        "js": r"(?:const|let|var|function)\s+(\w+)",
        "java": r"(\w+)\s*\([^()]*\)\s*(?:throws[^{]*)?\{\s*$",
        "cpp": r"(\w+)\s*\([^()]*\)\s*\{?\s*$",
        "rust": r"fn\s+(\w+)\s*[(<]",
    }
    names = re.findall(patterns[language], decl.rstrip(), flags=re.MULTILINE)
    if not names:
        raise ValueError(f"{row.get('task_id')}: no function found in the declaration")
    return str(names[-1])


def completion_program(row: Mapping[str, Any], completion: str, language: str, example_test: bool = False) -> str:
    """prompt + completion + test, laid out as the upstream evaluator does."""
    test = str(row["example_test"] if example_test and row.get("example_test") else row["test"])
    prompt = str(row["prompt"])
    if language == "python":
        return _PY_HELPER + prompt + completion + "\n" + test + "\n"
    if language == "cpp":
        return _CPP_HELPER + prompt + completion + "\n" + test
    if language == "go":
        body = prompt.replace(str(row.get("import", "")), "") + completion
        return _go_file(row, body, test)
    if language == "rust":
        return _RUST_MAIN + str(row["declaration"]) + prompt + completion + "\n" + test
    return prompt + completion + "\n" + test  # java, js


def extract_code(reply: str, language: str) -> str:
    """The code in a chat reply: tagged fences, else any fences, else the reply."""
    blocks = _FENCE.findall(reply)
    if not blocks:
        return reply
    tagged = [code for tag, code in blocks if tag.lower() in _FENCE_TAGS.get(language, {language})]
    return "\n".join(tagged or [code for _, code in blocks])


def instruction_program(row: Mapping[str, Any], reply: str, language: str, example_test: bool = False) -> str:
    """Source text from a chat reply that holds either the whole function or its body."""
    code = extract_code(reply, language)
    test = str(row["example_test"] if example_test and row.get("example_test") else row["test"])
    name = entry_point(row, language)
    decl = str(row["declaration"])
    if not _defines(code, name, language):
        # Rust's completion layout already writes the declaration before the prompt
        head = "" if language == "rust" else decl
        return completion_program({**row, "prompt": head}, _body(code, language, decl), language, example_test)
    if language == "python":
        head = decl[: decl.rfind(_def_line(decl, name))]
        return _PY_HELPER + head + code + "\n" + test + "\n"
    if language == "cpp":
        code = _cut(code, re.compile(r"^\s*int\s+main\s*\(", re.MULTILINE))
        return _CPP_HELPER + _includes(decl) + code + "\n" + test
    if language == "java":
        code = _cut(code, re.compile(r"^\s*(public\s+)?class\s+Main\b", re.MULTILINE))
        if not re.search(r"\bclass\s+Solution\b", code):  # the method alone: wrap it
            code = "class Solution {\n" + code + "\n}\n"
        imports = "".join(line + "\n" for line in decl.splitlines() if line.startswith("import "))
        return imports + code + "\n" + test
    if language == "go":
        code = re.sub(r"^\s*package\s+\w+\s*$", "", code, flags=re.MULTILINE)
        code = re.sub(r"^\s*import\s*(\([^)]*\)|\"[^\"]*\")", "", code, flags=re.MULTILINE)
        return _go_file(row, code, test)
    if language == "rust":
        code = _cut(code, _CLASHES["rust"])
        uses = "".join(line + "\n" for line in decl.splitlines() if line.startswith("use "))
        return _RUST_MAIN + uses + code + "\n" + test
    return code + "\n" + test  # js


def _defines(code: str, name: str, language: str) -> bool:
    patterns = {
        "python": rf"^\s*def\s+{name}\s*\(",
        "go": rf"\bfunc\s+{name}\s*\(",
        "js": rf"\b(?:const|let|var|function)\s+{name}\b",
        "java": rf"\b{name}\s*\([^()]*\)\s*(?:throws[^{{]*)?\{{",
        "cpp": rf"\b{name}\s*\([^()]*\)\s*\{{",
        "rust": rf"\bfn\s+{name}\s*[(<]",
    }
    return re.search(patterns[language], code, flags=re.MULTILINE) is not None


def _def_line(decl: str, name: str) -> str:
    return next(line for line in reversed(decl.splitlines()) if re.match(rf"\s*def\s+{name}\s*\(", line))


def _body(code: str, language: str, decl: str) -> str:
    """A function body to append to the declaration, indented and closed."""
    if language == "python":
        lines = code.strip("\n").splitlines()
        if lines and not lines[0].startswith((" ", "\t")):
            lines = ["    " + line if line.strip() else line for line in lines]
        return "\n".join(lines) + "\n"
    opened = _braces(decl + code)
    return code.rstrip() + "\n" + "}\n" * max(0, opened)


def _braces(text: str) -> int:
    """Open minus closed braces, ignoring string/char literals and comments."""
    text = _LITERALS.sub("", text)
    return text.count("{") - text.count("}")


def _cut(code: str, start: re.Pattern[str]) -> str:
    """Drop the reply's own main (it would clash with the test's)."""
    m = start.search(code)
    return code[: m.start()] if m else code


def _includes(decl: str) -> str:
    return "".join(line + "\n" for line in decl.splitlines() if line.startswith(("#include", "using ")))


def _go_file(row: Mapping[str, Any], code: str, test: str) -> str:
    """test_setup (package + testing imports) + the helper packages the code uses + code + test."""
    setup = str(row.get("test_setup") or 'package main\n\nimport (\n    "testing"\n)\n')
    bare = _LITERALS.sub("", code)  # "strings." in a comment is not a use (Go/158)
    used = [p for p in GO_HELPER_PACKAGES if f'"{p}"' not in setup and re.search(rf"\b{p.split('/')[-1]}\.", bare)]
    imports = "import (\n" + "".join(f'    "{p}"\n' for p in used) + ")\n" if used else ""
    return setup + "\n" + imports + "\n" + code + "\n" + test


_PY_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert ")


_CLASHES = {
    "cpp": re.compile(r"^\s*int\s+main\s*\(", re.MULTILINE),
    "java": re.compile(r"^\s*(public\s+)?class\s+Main\b", re.MULTILINE),
    "go": re.compile(r"^\s*func\s+(main|Test\w*)\s*\(", re.MULTILINE),
    "rust": re.compile(r"^\s*(fn\s+main\s*\(|#\[cfg\(test\)\])", re.MULTILINE),
}


def truncate_completion(prompt: str, completion: str, language: str) -> str:
    """Cut what a completion wrote after the solution, as upstream post-processing does.

    Python: at the first top-level `def`/`class`/`if __name__`/`print(`/
    `assert`. C++/Java/Go: at the completion's own `main` / `class Main` /
    test function, which would clash with the test's. Helper functions
    written after the solution are kept (Go/72's canonical solution has one).
    """
    del prompt  # the cut does not depend on it today; kept for callers' symmetry
    if language == "python":
        cuts = [i for i in (completion.find(s) for s in _PY_STOPS) if i >= 0]
        return completion[: min(cuts)] if cuts else completion
    clash = _CLASHES.get(language)
    m = clash.search(completion) if clash else None
    return completion[: m.start()] if m else completion
