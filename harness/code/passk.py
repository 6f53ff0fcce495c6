"""The unbiased pass@k estimator of Chen et al. (2021), "Evaluating Large
Language Models Trained on Code", section 2.1.

With n candidates of which c pass, pass@k = 1 - C(n-c, k) / C(n, k): the
chance that at least one of k candidates drawn without replacement passes.
The product form 1 - prod_{i=n-c+1}^{n} (1 - k/i) avoids huge binomials.

pass@k is undefined for k > n (k candidates cannot be drawn from n):
`pass_at_k` returns None and scorers leave that key out rather than report
pass@n under the name pass@k.
"""

from __future__ import annotations

from collections.abc import Iterable


def pass_at_k(n: int, c: int, k: int) -> float | None:
    """Unbiased pass@k for one problem; None when k > n."""
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"need 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        return None
    if n - c < k:  # every draw of k contains a passing candidate
        return 1.0
    prob_all_fail = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_fail *= 1.0 - k / i
    return 1.0 - prob_all_fail


def pass_at_ks(n: int, c: int, ks: Iterable[int]) -> dict[str, float]:
    """{"pass@k": value} for each k in `ks` that is defined (k <= n)."""
    out: dict[str, float] = {}
    for k in sorted(set(ks)):
        value = pass_at_k(n, c, k)
        if value is not None:
            out[f"pass@{k}"] = value
    return out
