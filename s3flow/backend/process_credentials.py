"""Credentials from a profile's ``credential_process``, run and refreshed without botocore.

Why not botocore's ProcessProvider: reaching it means importing botocore,
aiobotocore and aiohttp, about half a second of every process's start-up
(``python -X importtime``), which a migration run as many short commands pays
each time. The protocol is small and documented (AWS CLI "Sourcing credentials
with an external process"): run the command, read one JSON object
``{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?,
"Expiration"?}``. The refresh windows are botocore's, so both paths refresh
alike: advisory 15 minutes before expiry (one caller refreshes, the others
keep signing with the current keys), mandatory at 10 (everyone waits for that
one refresh).
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import anyio

from s3flow import redact
from s3flow.backend.credentials import Credentials
from s3flow.errors import CredentialsError

__all__ = ["ADVISORY_S", "MANDATORY_S", "ProcessCredentials", "parse_process_output"]

ADVISORY_S = 15 * 60
MANDATORY_S = 10 * 60

#: Runs argv, returns (exit code, stdout, stderr).
Runner = Callable[[list[str]], Awaitable[tuple[int, bytes, bytes]]]


async def _run(argv: list[str]) -> tuple[int, bytes, bytes]:
    done = await anyio.run_process(argv, check=False)
    return done.returncode, done.stdout, done.stderr


def parse_process_output(out: bytes, profile: str) -> tuple[Credentials, float | None]:
    """The keys and their expiry (epoch seconds, ``None`` if they never expire).

    >>> creds, expires = parse_process_output(
    ...     b'{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "s",'
    ...     b' "Expiration": "2030-01-01T00:00:00Z"}', "dev")
    >>> creds.access_key, expires
    ('AK', 1893456000.0)
    """
    where = f"could not get credentials: credential_process of profile {profile!r}"
    try:
        answer = json.loads(out)
    except ValueError:
        raise CredentialsError(f"{where} did not print a JSON object") from None
    if not isinstance(answer, dict) or answer.get("Version") != 1:
        raise CredentialsError(f'{where} must print a JSON object with "Version": 1')
    access, secret = _text(answer, "AccessKeyId"), _text(answer, "SecretAccessKey")
    if access is None or secret is None:
        raise CredentialsError(f"{where} printed no AccessKeyId or SecretAccessKey")
    token = _text(answer, "SessionToken")
    redact.register_secret(secret)
    redact.register_secret(token)
    credentials = Credentials(access, secret, token, source="credential_process")
    return credentials, _expiry(answer.get("Expiration"), where)


def _text(answer: dict[str, object], name: str) -> str | None:
    """A non-empty string field, else None."""
    value = answer.get(name)
    return value if isinstance(value, str) and value else None


def _expiry(expiration: object, where: str) -> float | None:
    if expiration is None:
        return None
    try:
        return datetime.fromisoformat(str(expiration)).timestamp()
    except ValueError:
        raise CredentialsError(
            f"{where}: Expiration {expiration!r} is not an ISO 8601 time"
        ) from None


class ProcessCredentials:
    """A CredentialSource over ``credential_process``; the first :meth:`current` runs it.

    Example: ``keys = await ProcessCredentials("my-sso-helper --json", profile="dev").current()``.
    """

    __slots__ = ("_argv", "_clock", "_expires", "_latest", "_lock", "_profile", "_run")

    def __init__(
        self,
        command: str,
        *,
        profile: str,
        run: Runner = _run,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._argv = shlex.split(command)  # as botocore's compat_shell_split on POSIX
        self._profile = profile
        self._run = run
        self._clock = clock
        self._lock = anyio.Lock()
        self._latest: Credentials | None = None
        self._expires: float | None = None

    def __repr__(self) -> str:  # the command may carry a secret argument: never shown
        return f"ProcessCredentials(profile={self._profile!r}, latest={self._latest!r})"

    @property
    def refreshable(self) -> bool:
        return self._expires is not None

    @property
    def latest(self) -> Credentials:
        if self._latest is None:
            raise RuntimeError("ProcessCredentials.current() was never awaited")
        return self._latest

    async def current(self) -> Credentials:
        left = self._left()
        if left > ADVISORY_S:
            return self.latest
        if left > MANDATORY_S:
            if not self._lock.locked():  # one caller refreshes; the rest sign with current keys
                async with self._lock:
                    if self._left() <= ADVISORY_S:
                        await self._advisory_refresh()
            return self.latest
        async with self._lock:
            if self._left() <= MANDATORY_S:
                await self._fetch()
        return self.latest

    async def refresh(self, stale: Credentials) -> Credentials:
        """Run the command again, unless another caller already replaced ``stale``."""
        async with self._lock:
            if self._latest == stale:
                await self._fetch()
        return self.latest

    def _left(self) -> float:
        if self._latest is None:
            return float("-inf")  # nothing yet: the first caller runs the process, the rest wait
        return float("inf") if self._expires is None else self._expires - self._clock()

    async def _advisory_refresh(self) -> None:
        # As botocore: a failed refresh in the advisory window keeps the current
        # keys, which are valid for ten more minutes at least.
        try:
            await self._fetch()
        except CredentialsError:
            return

    async def _fetch(self) -> None:
        where = f"could not get credentials: credential_process of profile {self._profile!r}"
        try:
            code, out, err = await self._run(self._argv)
        except OSError as exc:
            raise CredentialsError(f"{where} could not run: {exc.strerror or exc}") from None
        if code != 0:
            reason = err.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise CredentialsError(f"{where} exited with {code}: {reason[0]}")
        credentials, expires = parse_process_output(out, self._profile)
        if expires is not None and expires - self._clock() <= MANDATORY_S:
            # botocore refuses these too ("refreshed credentials are still expired")
            raise CredentialsError(
                f"{where} returned keys that expire in under 10 minutes; "
                "botocore and s3flow need longer-lived ones"
            )
        self._latest, self._expires = credentials, expires
