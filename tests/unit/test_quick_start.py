"""When connect() may start without botocore: only where botocore would resolve the same."""

from __future__ import annotations

import pytest

from s3flow.backend.profile import read_profile
from s3flow.backend.route import FromProcess, quick_start
from s3flow.config import ConnectConfig

LOCAL = ConnectConfig(endpoint_url="http://127.0.0.1:8333")


def start(
    config=LOCAL, *, access_key=None, secret_key=None, token=None, profile=None, settings=None
):
    return quick_start(
        config,
        access_key=access_key,
        secret_key=secret_key,
        session_token=token,
        profile=profile,
        settings=settings,
    )


def test_explicit_keys_and_env_keys(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    creds, region = start(access_key="AK", secret_key="s", token="t")
    assert (creds.access_key, creds.secret_key, creds.session_token, region) == (
        "AK",
        "s",
        "t",
        "us-east-1",
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "EAK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "es")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "et")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    creds, region = start()
    assert (creds.access_key, creds.session_token, creds.source, region) == (
        "EAK",
        "et",
        "env",
        "eu-west-3",
    )
    assert start(access_key="AK", secret_key="s")[0].access_key == "AK"  # explicit wins


@pytest.mark.parametrize(
    "case",
    [
        "half keys",
        "profile",
        "AWS_PROFILE",
        "expiring env keys",
        "no keys",
        "config file",
        "no endpoint",
    ],
)
def test_everything_else_goes_through_botocore(monkeypatch, tmp_path, case) -> None:
    config_file = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "EAK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "es")
    config, kwargs = LOCAL, {}
    if case == "half keys":
        kwargs = {"access_key": "AK"}
    elif case == "profile":
        kwargs = {"profile": "other"}
    elif case == "AWS_PROFILE":
        monkeypatch.setenv("AWS_PROFILE", "other")
    elif case == "expiring env keys":
        monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z")
    elif case == "no keys":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    elif case == "config file":  # it may name the region (or more) for this profile
        config_file.write_text("[default]\nregion = eu-west-1\n")
    elif case == "no endpoint":
        config = ConnectConfig(region="us-east-1")
    assert start(config, **kwargs) is None
    if case == "config file":  # with the region given, the file cannot change it
        assert start(ConnectConfig(endpoint_url="http://127.0.0.1:8333", region="x")) is not None


def test_virtual_hosted_custom_endpoint_starts_without_botocore(monkeypatch, tmp_path) -> None:
    # The fast path addresses BUCKET.host itself now (issue 13), so this is a quick start too.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    config = ConnectConfig(endpoint_url="http://s3.test:8333", addressing_style="virtual")
    assert start(config, access_key="AK", secret_key="s") is not None


def _profile_files(tmp_path, monkeypatch, config: str, credentials: str = "") -> None:
    (tmp_path / "config").write_text(config)
    (tmp_path / "credentials").write_text(credentials)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)


PROCESS = "[profile dev]\nregion = eu-north-1\ncredential_process = helper --json\n"


def test_a_credential_process_profile_starts_without_botocore(monkeypatch, tmp_path) -> None:
    _profile_files(tmp_path, monkeypatch, PROCESS)
    found, region = quick_start(
        LOCAL,
        access_key=None,
        secret_key=None,
        session_token=None,
        profile="dev",
        settings=read_profile("dev"),
    )
    assert found == FromProcess("helper --json", "dev") and region == "eu-north-1"
    assert "helper" not in repr(found)  # the command may carry a secret


@pytest.mark.parametrize(
    ("config", "credentials", "env"),
    [
        # botocore's chain tries these before credential_process
        (PROCESS + "role_arn = arn:aws:iam::1:role/r\nsource_profile = base\n", "", {}),
        (PROCESS + "sso_session = corp\n", "", {}),
        (PROCESS + "web_identity_token_file = /t\n", "", {}),
        (PROCESS, "[dev]\naws_access_key_id = AK\naws_secret_access_key = s\n", {}),
        (PROCESS, "", {"AWS_ROLE_ARN": "arn:aws:iam::1:role/r"}),
        # env keys and a named profile: botocore decides
        (PROCESS, "", {"AWS_ACCESS_KEY_ID": "EAK", "AWS_SECRET_ACCESS_KEY": "es"}),
        # [dev] without "profile " is not a profile in the config file, for botocore
        ("[dev]\ncredential_process = helper\n", "", {}),
    ],
)
def test_credential_process_only_where_botocore_would_run_it(
    monkeypatch, tmp_path, config, credentials, env
) -> None:
    _profile_files(tmp_path, monkeypatch, config, credentials)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = read_profile("dev")
    assert start(profile="dev", settings=settings) is None


def test_credential_process_in_the_credentials_file_and_profile_order(
    monkeypatch, tmp_path
) -> None:
    _profile_files(
        tmp_path,
        monkeypatch,
        "[profile other]\nregion = ap-south-1\n",
        "[other]\ncredential_process = from-credentials-file\n",
    )
    monkeypatch.setenv("AWS_PROFILE", "dev")
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "other")  # botocore reads this one first
    found, region = start(settings=read_profile())
    assert found == FromProcess("from-credentials-file", "other") and region == "ap-south-1"
