from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3flow.bulk.filters import Filters, Rule


def test_aws_cli_examples() -> None:
    f = Filters.of(("exclude", "*"), ("include", "*.txt"))
    assert f.allows("a.txt") and f.allows("dir/b.txt") and not f.allows("c.jpg")
    g = Filters.of(("exclude", "logs/*"), ("include", "logs/keep*"))
    assert g.allows("other") and not g.allows("logs/x") and g.allows("logs/keep/1")
    assert Filters.of(("include", "*.txt"), ("exclude", "*")).allows("a.txt") is False
    assert Filters.of(("exclude", "[ab]?")).allows("c1")
    assert not Filters.of(("exclude", "*")).allows("line\nbreak")
    assert not Filters() and Filters().allows("anything")


def test_bad_rule() -> None:
    with pytest.raises(ValueError, match="include"):
        Rule("ignore", "*")  # type: ignore[arg-type]


rules = st.lists(
    st.tuples(st.sampled_from(["include", "exclude"]), st.text(alphabet="ab*?/.", max_size=4)),
    max_size=5,
)


@given(rules, st.text(alphabet="ab/.", max_size=6))
def test_last_matching_rule_wins(pairs: list[tuple[str, str]], key: str) -> None:
    expected = True
    for kind, pattern in pairs:
        if fnmatch.fnmatchcase(key, pattern):
            expected = kind == "include"
    assert Filters.of(*pairs).allows(key) is expected  # type: ignore[arg-type]
