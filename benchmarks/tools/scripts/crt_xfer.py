"""awscrt.s3.S3Client used directly: PUT_OBJECT / GET_OBJECT with files, path-style, plain HTTP."""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET

from _common import credentials, local_files, local_path, parse_args
from awscrt import auth, http, io, s3

MiB = 1024 * 1024
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _client(a) -> s3.S3Client:  # type: ignore[no-untyped-def]
    elg = io.EventLoopGroup()
    bootstrap = io.ClientBootstrap(elg, io.DefaultHostResolver(elg))
    ak, sk = credentials()
    provider = auth.AwsCredentialsProvider.new_static(ak, sk)
    signing = s3.create_default_s3_signing_config(region=a.region, credential_provider=provider)
    extra: dict[str, object] = {}  # tuned: the candidate's knobs; none given: the defaults
    if a.part_size_mib:
        extra["part_size"] = a.part_size_mib * MiB
    if a.throughput_gbps:
        extra["throughput_target_gbps"] = a.throughput_gbps
    return s3.S3Client(
        bootstrap=bootstrap,
        region=a.region,
        signing_config=signing,
        tls_mode=s3.S3RequestTlsMode.DISABLED,
        **extra,
    )


def _request(method: str, host: str, path: str, size: int | None = None) -> http.HttpRequest:
    headers = http.HttpHeaders([("Host", host)])
    if size is not None:
        headers.add("Content-Length", str(size))
    return http.HttpRequest(method, path, headers)


def _list(client: s3.S3Client, host: str, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    token = None
    while True:
        query = {"list-type": "2", "prefix": prefix}
        if token:
            query["continuation-token"] = token
        body = bytearray()
        req = _request("GET", host, f"/{bucket}?{urllib.parse.urlencode(query)}")
        client.make_request(
            type=s3.S3RequestType.DEFAULT,
            operation_name="ListObjectsV2",
            request=req,
            on_body=lambda chunk, _b=body, **_: _b.extend(chunk),
        ).finished_future.result()
        root = ET.fromstring(bytes(body))
        keys += [el.findtext(f"{_NS}Key") or "" for el in root.iter(f"{_NS}Contents")]
        token = root.findtext(f"{_NS}NextContinuationToken")
        if not token:
            return keys


def main() -> None:
    a = parse_args()
    client = _client(a)
    host = urllib.parse.urlsplit(a.endpoint).netloc

    def path(key: str) -> str:
        return f"/{a.bucket}/" + urllib.parse.quote(key, safe="/-_.~")

    if a.direction == "upload":
        pairs = local_files(a.local, a.key) if a.many else [(a.local, a.key)]
        requests = [
            client.make_request(
                type=s3.S3RequestType.PUT_OBJECT,
                send_filepath=str(p),
                request=_request("PUT", host, path(k), p.stat().st_size),
            )
            for p, k in pairs
        ]
    else:
        keys = _list(client, host, a.bucket, a.key) if a.many else [a.key]
        requests = [
            client.make_request(
                type=s3.S3RequestType.GET_OBJECT,
                request=_request("GET", host, path(k)),
                recv_filepath=str(local_path(a.local, a.key, k) if a.many else a.local),
            )
            for k in keys
        ]
    for r in requests:
        r.finished_future.result()


if __name__ == "__main__":
    main()
