"""A ``credential_process`` for the refreshable-credentials benchmark: the server's keys, expiring.

botocore treats credentials with an ``Expiration`` as refreshable (the shape SSO, assumed roles
and instance profiles give), valid ``BENCH_CREDENTIALS_LIFETIME`` seconds: default 3600, an
hour as STS hands out; 905 makes botocore refresh about every 5 s (it refreshes 15 minutes
before expiry), several times per 1 GiB transfer.
"""

from __future__ import annotations

import datetime as dt
import json
import os

lifetime = int(os.environ.get("BENCH_CREDENTIALS_LIFETIME", "3600"))
expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime)
answer = {
    "Version": 1,
    "AccessKeyId": os.environ["BENCH_ACCESS_KEY"],
    "SecretAccessKey": os.environ["BENCH_SECRET_KEY"],
    "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
}
print(json.dumps(answer))
