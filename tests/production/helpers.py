"""Shared by this directory's tests and its conftest."""

DOMAIN = "s3.test"  # SeaweedFS -s3.domainName: buckets answer at BUCKET.s3.test
