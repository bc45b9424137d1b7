"""The production shape through the console script: HTTPS with a private CA given only by
AWS_CA_BUNDLE, and keys only from a credential_process profile whose credentials expire."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import textwrap
import urllib.request
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from s3flow.testing.servers import S3Server

pytestmark = pytest.mark.timeout(240)


def test_every_command_works(tls_server: S3Server, tmp_path: Path) -> None:
    assert tls_server.https_endpoint and tls_server.ca_file
    script = tmp_path / "creds.py"
    script.write_text(
        textwrap.dedent(f"""
        import datetime as dt, json
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=3600)
        print(json.dumps({{"Version": 1, "AccessKeyId": {tls_server.access_key!r},
                          "SecretAccessKey": {tls_server.secret_key!r},
                          "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}}))
        """)
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile prod]\nregion = us-east-1\ncredential_process = {sys.executable} {script}\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3FLOW_"))},
        "AWS_CA_BUNDLE": tls_server.ca_file,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_PROFILE": "prod",
        "AWS_EC2_METADATA_DISABLED": "true",
        "S3FLOW_STATE_DIR": str(tmp_path / "state"),
    }
    big = tmp_path / "big"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")

    def s3flow_cli(*args: str, stdin: bytes = b"") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "s3flow", "--endpoint-url", tls_server.https_endpoint, *args],  # type: ignore[list-item]
            env=env,
            input=stdin,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (args, done.stderr.decode())
        return done.stdout.decode()

    s3flow_cli("mb", "s3://prod-cli")
    assert "prod-cli" in s3flow_cli("ls")
    s3flow_cli("--part-size", "5MiB", "cp", str(big), "s3://prod-cli/big")
    s3flow_cli("cp", "s3://prod-cli/big", str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == big.read_bytes()
    s3flow_cli("cp", "-", "s3://prod-cli/piped", stdin=b"from stdin")
    assert s3flow_cli("cat", "s3://prod-cli/piped") == "from stdin"
    s3flow_cli("cp", "s3://prod-cli/piped", "s3://prod-cli/copied")
    url = s3flow_cli("presign", "s3://prod-cli/copied", "--expires-in", "60").strip()
    trust = ssl.create_default_context(cafile=tls_server.ca_file)
    with urllib.request.urlopen(url, context=trust, timeout=30) as response:
        assert response.read() == b"from stdin"
    s3flow_cli("sync", str(tree), "s3://prod-cli/tree/")
    s3flow_cli("cp", "--recursive", "s3://prod-cli/tree/", str(tmp_path / "tree-back"))
    assert (tmp_path / "tree-back" / "sub" / "b.txt").read_text() == "b"
    listed = s3flow_cli("--json", "ls", "--recursive", "s3://prod-cli")
    keys = {json.loads(line).get("key") for line in listed.splitlines() if line.strip()}
    assert {"big", "piped", "copied", "tree/a.txt", "tree/sub/b.txt"} <= keys, keys
    s3flow_cli("acl", "get", "s3://prod-cli/big")
    s3flow_cli("rm", "s3://prod-cli/big")
    s3flow_cli("rm", "--recursive", "s3://prod-cli/tree/")
    s3flow_cli("uploads", "ls", "s3://prod-cli")
    s3flow_cli("rb", "--force", "s3://prod-cli")
