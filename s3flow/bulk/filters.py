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
