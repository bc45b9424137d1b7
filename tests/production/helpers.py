"""What the production-shape tests share with their fixtures."""

from __future__ import annotations

__all__ = ["DOMAIN"]

DOMAIN = "s3.test"  # SeaweedFS -s3.domainName: buckets answer as BUCKET.s3.test
