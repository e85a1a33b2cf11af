"""Words one slip of the fingers away from a known form: one letter wrong, missing or extra, or
two neighbouring letters swapped (an edit distance of 1, transpositions counted as one)."""

from __future__ import annotations

from collections.abc import Iterable


def one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by exactly one edit."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class NearForms:
    """Known forms, found from a word one edit away by their one-letter deletions (a form and
    a word one edit apart always share one), so a look-up costs a few dictionary reads."""

    def __init__(self, forms: Iterable[str]) -> None:
        self._by_variant: dict[str, set[str]] = {}
        for form in forms:
            for variant in (form, *_deletes(form)):
                self._by_variant.setdefault(variant, set()).add(form)

    def near(self, word: str) -> set[str]:
        """The forms exactly one edit away from ``word``."""
        found: set[str] = set()
        for variant in (word, *_deletes(word)):
            forms = self._by_variant.get(variant)
            if forms:
                found.update(f for f in forms if one_edit(word, f))
        return found
