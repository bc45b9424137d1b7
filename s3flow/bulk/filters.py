"""PURE: ``--include``/``--exclude`` glob filters with ``aws s3 sync`` semantics.

Every key is included unless a rule says otherwise; rules are applied in
order and the *last* matching rule wins. Patterns are matched against the
key relative to the sync root, ``*`` and ``?`` match any character including
``/`` (fnmatch, case-sensitive), exactly like the AWS CLI.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Filters", "Rule"]

RuleKind = Literal["include", "exclude"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``--include`` or ``--exclude`` pattern."""

    kind: RuleKind
    pattern: str

    def __post_init__(self) -> None:
        if self.kind not in ("include", "exclude"):
            raise ValueError(f"rule kind must be 'include' or 'exclude', got {self.kind!r}")


@dataclass(frozen=True, slots=True)
class Filters:
    """An ordered list of rules; the last rule matching a key decides.

    >>> f = Filters.of(("exclude", "*"), ("include", "*.jpg"))
    >>> f.allows("2024/cat.jpg"), f.allows("notes.txt")
    (True, False)
    """

    rules: tuple[Rule, ...] = ()
    _compiled: tuple[tuple[bool, re.Pattern[str]], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        compiled = tuple(
            (r.kind == "include", re.compile(fnmatch.translate(r.pattern), re.DOTALL))
            for r in self.rules
        )
        object.__setattr__(self, "_compiled", compiled)

    @classmethod
    def of(cls, *rules: tuple[RuleKind, str]) -> Filters:
        """Build from ``(kind, pattern)`` pairs in command-line order."""
        return cls(tuple(Rule(kind, pattern) for kind, pattern in rules))

    def allows(self, key: str) -> bool:
        """True when ``key`` (relative to the sync root) takes part in the job."""
        for include, regex in reversed(self._compiled):
            if regex.match(key):
                return include
        return True

    def __bool__(self) -> bool:
        return bool(self.rules)


WILDCARDS = "*?"


@dataclass(frozen=True, slots=True)
class Wildcard:
    """An s5cmd-style key pattern: ``*`` matches any run of characters (``/``
    included, so ``*`` and ``**`` both reach into sub-prefixes), ``?`` exactly one.

    ``base`` is the literal part up to the last ``/`` before the first wildcard:
    the prefix to list, and the root that matched keys are named relative to.

    >>> w = Wildcard.parse("logs/2024-*/*.gz")
    >>> w.base, w.matches("logs/2024-01/a.gz"), w.matches("logs/2023-01/a.gz")
    ('logs/', True, False)
    """

    pattern: str
    base: str
    _regex: re.Pattern[str] = field(repr=False, compare=False)

    @staticmethod
    def has(key: str) -> bool:
        """True when ``key`` contains a wildcard character."""
        return any(c in key for c in WILDCARDS)

    @classmethod
    def parse(cls, pattern: str) -> Wildcard:
        first = min(i for i in (pattern.find(c) for c in WILDCARDS) if i >= 0)
        base = pattern[: pattern.rfind("/", 0, first) + 1]
        parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        return cls(pattern, base, re.compile("".join(parts), re.DOTALL))

    def matches(self, key: str) -> bool:
        """True when the whole key matches the pattern."""
        return self._regex.fullmatch(key) is not None

    def filters(self) -> Filters:
        """The same match as sync filters over keys relative to ``base``."""
        relative = self.pattern[len(self.base) :].replace("[", "[[]")
        return Filters.of(("exclude", "*"), ("include", relative))
