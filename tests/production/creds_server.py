"""A local container-credentials endpoint (``AWS_CONTAINER_CREDENTIALS_FULL_URI``) that rotates keys."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence


class RotatingCredentials:
    """Answers each GET with the next key pair, expiring ``15 min + lifetime`` from now.

    botocore refreshes 15 minutes before expiry, so a client asks again about
    every ``lifetime`` seconds: the keys rotate that often.
    """

    def __init__(self, keys: Sequence[tuple[str, str]], *, lifetime: float) -> None:
        self.keys = list(keys)
        self.lifetime = lifetime
        self.served: list[str] = []  # access keys, in the order handed out
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                access, secret = outer.keys[min(len(outer.served), len(outer.keys) - 1)]
                if len(outer.served) >= len(outer.keys):  # then cycle
                    access, secret = outer.keys[len(outer.served) % len(outer.keys)]
                outer.served.append(access)
                expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=900 + outer.lifetime)
                body = json.dumps(
                    {
                        "AccessKeyId": access,
                        "SecretAccessKey": secret,
                        "Token": "",  # SeaweedFS refuses any session token it did not issue
                        "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/credentials"

    @contextlib.contextmanager
    def running(self) -> Iterator[RotatingCredentials]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(10)
