"""Writes test.jsonl and train.jsonl: 20 tiny Python problems in HumanEval-X format.

Written for this project (not copied from any benchmark). Run from the repo
root: `.venv/bin/python tasks/code_mini/make_data.py`. Every canonical
solution is checked by tests/code/test_code_scorer.py through the sandbox.
Every problem is its own function, docstring and tests: train and test share
no problem (and no template; tasks/datagen.py is the generators' shared part).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datagen import write_jsonl

# (name, signature, docstring, body, asserts)
PROBLEMS = [
    (
        "add",
        "a: int, b: int) -> int",
        "Return the sum of a and b.",
        "return a + b",
        ["add(2, 3) == 5", "add(-1, 1) == 0"],
    ),
    (
        "double_all",
        "xs: list) -> list",
        "Return a list with every element of xs doubled.",
        "return [2 * x for x in xs]",
        ["double_all([1, 2]) == [2, 4]", "double_all([]) == []"],
    ),
    (
        "count_vowels",
        "s: str) -> int",
        "Count the vowels (aeiou, any case) in s.",
        "return sum(ch in 'aeiou' for ch in s.lower())",
        ["count_vowels('Hello') == 2", "count_vowels('xyz') == 0"],
    ),
    (
        "is_even",
        "n: int) -> bool",
        "Return True if n is even.",
        "return n % 2 == 0",
        ["is_even(4) is True", "is_even(7) is False"],
    ),
    (
        "reverse_words",
        "s: str) -> str",
        "Reverse the order of the words in s (split on spaces).",
        "return ' '.join(reversed(s.split()))",
        [
            "reverse_words('a b c') == 'c b a'",
            "reverse_words('hello big world') == 'world big hello'",
            "reverse_words('') == ''",
        ],
    ),
    (
        "max_of",
        "xs: list) -> int",
        "Return the largest element of a non-empty list.",
        "return max(xs)",
        ["max_of([3, 9, 2]) == 9", "max_of([-5]) == -5"],
    ),
    (
        "factorial",
        "n: int) -> int",
        "Return n! for n >= 0.",
        "result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result",
        ["factorial(0) == 1", "factorial(5) == 120"],
    ),
    (
        "fizz",
        "n: int) -> str",
        "Return 'Fizz' if n is divisible by 3, else str(n).",
        "return 'Fizz' if n % 3 == 0 else str(n)",
        ["fizz(9) == 'Fizz'", "fizz(4) == '4'"],
    ),
    (
        "unique_sorted",
        "xs: list) -> list",
        "Return the distinct elements of xs in ascending order.",
        "return sorted(set(xs))",
        ["unique_sorted([3, 1, 3, 2]) == [1, 2, 3]", "unique_sorted([]) == []"],
    ),
    (
        "is_palindrome",
        "s: str) -> bool",
        "Return True if s reads the same backwards.",
        "return s == s[::-1]",
        ["is_palindrome('abba') is True", "is_palindrome('abc') is False"],
    ),
    (
        "count_char",
        "s: str, ch: str) -> int",
        "Count how often the character ch occurs in s.",
        "return s.count(ch)",
        ["count_char('banana', 'a') == 3", "count_char('', 'a') == 0"],
    ),
    (
        "sum_squares",
        "n: int) -> int",
        "Return 1^2 + 2^2 + ... + n^2.",
        "return sum(i * i for i in range(1, n + 1))",
        ["sum_squares(3) == 14", "sum_squares(0) == 0"],
    ),
    (
        "first_word",
        "s: str) -> str",
        "Return the first space-separated word of s, or '' if there is none.",
        "parts = s.split()\n    return parts[0] if parts else ''",
        ["first_word('hi there') == 'hi'", "first_word('  ') == ''"],
    ),
    (
        "clamp",
        "x: int, lo: int, hi: int) -> int",
        "Limit x to the range [lo, hi].",
        "return max(lo, min(hi, x))",
        ["clamp(5, 0, 3) == 3", "clamp(-2, 0, 3) == 0", "clamp(2, 0, 3) == 2"],
    ),
    (
        "digits_sum",
        "n: int) -> int",
        "Return the sum of the decimal digits of a non-negative n.",
        "return sum(int(d) for d in str(n))",
        ["digits_sum(123) == 6", "digits_sum(0) == 0"],
    ),
    (
        "capitalize_words",
        "s: str) -> str",
        "Capitalize the first letter of every space-separated word.",
        "return ' '.join(w[:1].upper() + w[1:] for w in s.split(' '))",
        ["capitalize_words('hello world') == 'Hello World'", "capitalize_words('a') == 'A'"],
    ),
    (
        "running_sum",
        "xs: list) -> list",
        "Return the running totals of xs.",
        "out, total = [], 0\n    for x in xs:\n        total += x\n        out.append(total)\n    return out",
        ["running_sum([1, 2, 3]) == [1, 3, 6]", "running_sum([]) == []"],
    ),
    (
        "min_index",
        "xs: list) -> int",
        "Return the index of the first smallest element of a non-empty list.",
        "return xs.index(min(xs))",
        ["min_index([4, 1, 1]) == 1", "min_index([0]) == 0"],
    ),
    (
        "repeat_str",
        "s: str, n: int) -> str",
        "Return s repeated n times.",
        "return s * n",
        ["repeat_str('ab', 3) == 'ababab'", "repeat_str('x', 0) == ''"],
    ),
    (
        "gcd",
        "a: int, b: int) -> int",
        "Return the greatest common divisor of two positive integers.",
        "while b:\n        a, b = b, a % b\n    return a",
        ["gcd(12, 18) == 6", "gcd(7, 5) == 1"],
    ),
]


def record(i: int, name: str, sig: str, doc: str, body: str, asserts: list[str]) -> dict[str, str]:
    declaration = f"def {name}({sig}:\n"
    prompt = f'{declaration}    """{doc}"""\n'
    checks = "".join(f"    assert {a.replace(name + '(', 'candidate(')}\n" for a in asserts)
    return {
        "task_id": f"CodeMini/{i}",
        "prompt": prompt,
        "declaration": declaration,
        "canonical_solution": f"    {body}\n",
        "test": f"\n\ndef check(candidate):\n{checks}\ncheck({name})\n",
        "example_test": "",
        "text": doc,
    }


def main() -> None:
    here = Path(__file__).resolve().parent
    rows = [record(i, *p) for i, p in enumerate(PROBLEMS)]
    write_jsonl(here / "train.jsonl", rows[:4])
    write_jsonl(here / "test.jsonl", rows[4:])


if __name__ == "__main__":
    main()
