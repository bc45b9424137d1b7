"""Where connect() finds its keys, proven against SeaweedFS, which checks every signature.

Each source is tried with the server's keys (the listing works) and with a wrong
secret (CredentialsError), so a pass shows that those keys, and no others, signed.
moto checks no signatures: there, any keys at all would pass.
"""

from __future__ import annotations

import pytest

import s3flow
from s3flow import CredentialsError

WRONG = "wrong-secret-0123456789abcdef"


async def names(**kwargs) -> list[str]:
    async with s3flow.connect(**kwargs) as s3:
        return [b.name for b in await s3.list_buckets()]


async def refused(**kwargs) -> None:
    with pytest.raises(CredentialsError, match="refused the credentials") as info:
        await names(**kwargs)
    assert WRONG not in str(info.value)


def profile(name: str, access_key: str, secret_key: str) -> str:
    return f"[{name}]\naws_access_key_id = {access_key}\naws_secret_access_key = {secret_key}\n"


async def test_explicit_keys(seaweed_server) -> None:
    url, ak = seaweed_server.endpoint_url, seaweed_server.access_key
    await names(endpoint_url=url, access_key=ak, secret_key=seaweed_server.secret_key)
    await refused(endpoint_url=url, access_key=ak, secret_key=WRONG)


async def test_env_keys_and_endpoint_win_over_the_credentials_file(
    seaweed_server, isolate_aws_env, monkeypatch
) -> None:
    creds = isolate_aws_env / "creds"
    creds.write_text(profile("default", seaweed_server.access_key, WRONG))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("S3FLOW_ENDPOINT_URL", seaweed_server.endpoint_url)
    await refused()  # the file's default profile alone: its secret is wrong
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweed_server.secret_key)
    assert isinstance(await names(), list)  # the environment's keys signed
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", WRONG)
    await refused()


async def test_named_profile_from_the_credentials_file(
    seaweed_server, isolate_aws_env, monkeypatch
) -> None:
    ak, sk = seaweed_server.access_key, seaweed_server.secret_key
    creds = isolate_aws_env / "creds"
    creds.write_text(profile("default", ak, WRONG) + profile("work", ak, sk))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    url = seaweed_server.endpoint_url
    await names(endpoint_url=url, profile="work")
    await refused(endpoint_url=url)  # default profile
    monkeypatch.setenv("AWS_PROFILE", "work")
    await names(endpoint_url=url)
    with pytest.raises(CredentialsError, match="profile"):
        await names(endpoint_url=url, profile="missing")


@pytest.mark.parametrize("where", ["home", "BOTO_CONFIG"])
async def test_legacy_boto_file(seaweed_server, isolate_aws_env, monkeypatch, where) -> None:
    path = isolate_aws_env / (".boto" if where == "home" else "elsewhere.cfg")
    if where == "BOTO_CONFIG":
        monkeypatch.setenv("BOTO_CONFIG", str(path))
    url, ak = seaweed_server.endpoint_url, seaweed_server.access_key
    path.write_text(profile("Credentials", ak, seaweed_server.secret_key))
    await names(endpoint_url=url)
    path.write_text(profile("Credentials", ak, WRONG))
    await refused(endpoint_url=url)
