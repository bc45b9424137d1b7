"""credential_process without botocore: botocore's refresh windows, one refresh at a time,
one-line errors, and no secret in a repr."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import anyio
import pytest

from s3flow.backend.process_credentials import ProcessCredentials, parse_process_output
from s3flow.errors import CredentialsError

NOW = 1_900_000_000.0


class FakeProcess:
    """Prints key number n on its n-th run, valid ``lifetime`` seconds from the fake clock."""

    def __init__(self, lifetime: float | None = 3600, pause: float = 0.0) -> None:
        self.now = NOW
        self.lifetime = lifetime
        self.pause = pause
        self.runs = 0
        self.argv: list[str] = []
        self.fail_with: tuple[int, bytes, bytes] | None = None

    def clock(self) -> float:
        return self.now

    async def run(self, argv: list[str]) -> tuple[int, bytes, bytes]:
        self.argv = argv
        self.runs += 1
        await anyio.sleep(self.pause)
        if self.fail_with is not None:
            return self.fail_with
        answer: dict[str, object] = {
            "Version": 1,
            "AccessKeyId": f"AKID{self.runs:04d}",
            "SecretAccessKey": f"secret-{self.runs}",
            "SessionToken": f"token-{self.runs}",
        }
        if self.lifetime is not None:
            expires = datetime.fromtimestamp(self.now + self.lifetime, UTC)
            answer["Expiration"] = expires.isoformat()
        return 0, json.dumps(answer).encode(), b""


async def start(
    fake: FakeProcess, command: str = "helper --profile 'my dev'"
) -> ProcessCredentials:
    source = ProcessCredentials(command, profile="dev", run=fake.run, clock=fake.clock)
    await source.current()
    return source


async def test_the_command_is_split_as_a_shell_would() -> None:
    fake = FakeProcess()
    source = await start(fake)
    assert fake.argv == ["helper", "--profile", "my dev"]
    assert (await source.current()).access_key == "AKID0001"
    assert source.refreshable


async def test_keys_without_expiration_never_refresh() -> None:
    fake = FakeProcess(lifetime=None)
    source = await start(fake)
    fake.now += 10 * 365 * 86400
    assert (await source.current()).access_key == "AKID0001"
    assert not source.refreshable and fake.runs == 1


async def test_fresh_keys_are_reused_until_the_advisory_window() -> None:
    fake = FakeProcess(lifetime=3600)
    source = await start(fake)
    fake.now += 3600 - 15 * 60 - 1  # one second before botocore's advisory window
    assert (await source.current()).access_key == "AKID0001"
    fake.now += 2
    assert (await source.current()).access_key == "AKID0002"
    assert fake.runs == 2


@pytest.mark.parametrize(
    ("minutes_left", "fresh_callers"),
    [
        pytest.param(12, 1, id="advisory: one refreshes, the rest sign with current keys"),
        pytest.param(5, 5, id="mandatory: every caller waits for that one refresh"),
    ],
)
async def test_one_refresh_for_many_callers(minutes_left: int, fresh_callers: int) -> None:
    fake = FakeProcess(lifetime=3600, pause=0.05)
    source = await start(fake)
    fake.now += 3600 - minutes_left * 60
    seen: list[str] = []

    async def sign() -> None:
        seen.append((await source.current()).access_key)

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(sign)
    assert fake.runs == 2
    assert seen.count("AKID0002") == fresh_callers and seen.count("AKID0001") == 5 - fresh_callers


async def test_a_failed_advisory_refresh_keeps_the_current_keys() -> None:
    fake = FakeProcess(lifetime=3600)
    source = await start(fake)
    fake.now += 3600 - 12 * 60
    fake.fail_with = (1, b"", b"sso session expired\n")
    assert (await source.current()).access_key == "AKID0001"
    fake.now += 3 * 60  # now mandatory: the failure surfaces, one line, naming the profile
    with pytest.raises(CredentialsError, match="profile 'dev' exited with 1: sso session expired"):
        await source.current()


async def test_rejected_keys_refresh_once_for_every_holder() -> None:
    fake = FakeProcess(lifetime=3600, pause=0.02)
    source = await start(fake)
    stale = await source.current()
    results = []

    async def retry() -> None:
        results.append(await source.refresh(stale))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(retry)
    assert fake.runs == 2 and {c.access_key for c in results} == {"AKID0002"}


async def test_keys_shorter_lived_than_ten_minutes_are_refused_as_botocore_does() -> None:
    with pytest.raises(CredentialsError, match="expire in under 10 minutes"):
        await start(FakeProcess(lifetime=300))


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (b"not json", "did not print a JSON object"),
        (b'{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "s"}', '"Version": 1'),
        (b'{"Version": 1, "AccessKeyId": "A"}', "no AccessKeyId or SecretAccessKey"),
        (
            b'{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "s", "Expiration": "soon"}',
            "is not an ISO 8601 time",
        ),
    ],
)
def test_bad_output_is_one_line_naming_the_profile(output: bytes, message: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        parse_process_output(output, "dev")
    text = str(caught.value)
    assert message in text and "'dev'" in text and "\n" not in text


async def test_a_missing_command_is_one_line() -> None:
    with pytest.raises(CredentialsError, match="could not run"):
        await ProcessCredentials("/nonexistent/helper", profile="dev").current()


async def test_repr_shows_neither_the_command_nor_the_secrets() -> None:
    fake = FakeProcess()
    source = await start(fake, command="helper --password hunter22")
    text = repr(source) + str(source)
    assert "hunter22" not in text and "secret-1" not in text and "token-1" not in text
