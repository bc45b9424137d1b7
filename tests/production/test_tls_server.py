"""run_seaweedfs(https=True): TLS beside plain HTTP, trusted only through its own certificate."""

from __future__ import annotations

import dataclasses
import ssl
import urllib.error
import urllib.request

import pytest

from s3flow.testing.servers import S3Server, s3_request

pytestmark = pytest.mark.timeout(180)


def test_https_endpoint_serves_signed_requests_with_its_ca(tls_server: S3Server) -> None:
    assert tls_server.https_endpoint is not None and tls_server.ca_file is not None
    over_tls = dataclasses.replace(tls_server, endpoint_url=tls_server.https_endpoint)
    assert s3_request(over_tls, "PUT", "/tls-server").status == 200
    assert s3_request(over_tls, "PUT", "/tls-server/k", body=b"x").status == 200
    assert s3_request(tls_server, "GET", "/tls-server/k").body == b"x"  # same data over http
    # The spare keys are accepted for the same identity.
    for access, secret in tls_server.alternate_keys:
        other = dataclasses.replace(over_tls, access_key=access, secret_key=secret)
        assert s3_request(other, "GET", "/tls-server/k").body == b"x"
    assert s3_request(over_tls, "DELETE", "/tls-server/k").status == 204
    assert s3_request(over_tls, "DELETE", "/tls-server").status == 204


def test_https_endpoint_is_not_trusted_without_its_ca(tls_server: S3Server) -> None:
    assert tls_server.https_endpoint is not None
    with pytest.raises(urllib.error.URLError) as caught:
        urllib.request.urlopen(tls_server.https_endpoint + "/", timeout=10)
    assert isinstance(caught.value.reason, ssl.SSLCertVerificationError)
