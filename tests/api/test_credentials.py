from __future__ import annotations

import pytest

import s3flow
from s3flow import ConfigError, CredentialsError


async def names(endpoint: str, **kwargs) -> list[str]:
    async with s3flow.connect(endpoint_url=endpoint, **kwargs) as s3:
        return [b.name for b in await s3.list_buckets()]


async def test_env_credentials_and_endpoint(moto_server, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.secret_key)
    monkeypatch.setenv("S3FLOW_ENDPOINT_URL", moto_server.endpoint_url)
    async with s3flow.connect() as s3:
        assert isinstance(await s3.list_buckets(), list)


async def test_profile_from_shared_credentials(moto_server, isolate_aws_env, monkeypatch) -> None:
    creds = isolate_aws_env / "creds"
    creds.write_text(
        f"[work]\naws_access_key_id = {moto_server.access_key}\n"
        f"aws_secret_access_key = {moto_server.secret_key}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    assert isinstance(await names(moto_server.endpoint_url, profile="work"), list)
    with pytest.raises(CredentialsError, match="profile"):
        await names(moto_server.endpoint_url, profile="missing")


@pytest.mark.parametrize("where", ["home", "BOTO_CONFIG"])
async def test_legacy_boto_file(moto_server, isolate_aws_env, monkeypatch, where) -> None:
    text = (
        "[Credentials]\n"
        f"aws_access_key_id = {moto_server.access_key}\n"
        f"aws_secret_access_key = {moto_server.secret_key}\n"
    )
    if where == "home":
        (isolate_aws_env / ".boto").write_text(text)
    else:
        path = isolate_aws_env / "elsewhere.cfg"
        path.write_text(text)
        monkeypatch.setenv("BOTO_CONFIG", str(path))
    from s3flow.backend.aws import AioBotocoreBackend, resolve
    from s3flow.config import ConnectConfig

    config = ConnectConfig(endpoint_url=moto_server.endpoint_url)
    setup = await resolve(config)
    assert setup.credentials is not None
    assert setup.credentials.latest.access_key == moto_server.access_key
    async with AioBotocoreBackend.open(config, setup) as b:
        assert isinstance(await b.list_buckets(), list)


async def test_no_credentials_is_a_clear_error(moto_server) -> None:
    with pytest.raises(CredentialsError, match="no credentials found") as info:
        await names(moto_server.endpoint_url)
    assert "\n" not in str(info.value)


async def test_half_given_keys(moto_server) -> None:
    with pytest.raises(CredentialsError, match="both"):
        await names(moto_server.endpoint_url, access_key="only-this")


async def test_malformed_endpoint(moto_server) -> None:
    with pytest.raises(ConfigError, match="endpoint URL"):
        await names("not a url", access_key="a", secret_key="b")
