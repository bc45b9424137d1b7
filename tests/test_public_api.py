"""The public surface: __all__ matches what is exported, and every public callable is documented."""

from __future__ import annotations

import inspect

import s3flow
from s3flow.client import S3Client


def test_all_is_exactly_the_public_names() -> None:
    public = {n for n in vars(s3flow) if not n.startswith("_") and n not in {"annotations"}}
    modules = {n for n in public if inspect.ismodule(getattr(s3flow, n))}
    assert set(s3flow.__all__) == public - modules


def test_every_client_method_has_a_docstring_with_an_example() -> None:
    for name, member in inspect.getmembers(S3Client, inspect.isfunction):
        if name.startswith("_") or name == "close":
            continue
        doc = inspect.getdoc(member) or ""
        assert doc, f"S3Client.{name} has no docstring"
        assert "xample" in doc or "await s3." in doc or "s3." in doc, f"S3Client.{name}: no example"
    assert "async with s3flow.connect" in (s3flow.connect.__doc__ or "")


def test_errors_share_one_root() -> None:
    for name in s3flow.__all__:
        obj = getattr(s3flow, name)
        if inspect.isclass(obj) and issubclass(obj, Exception):
            assert issubclass(obj, s3flow.S3FlowError), name
