from __future__ import annotations

import logging

from s3flow import redact


def test_patterns_and_registered_secrets(caplog) -> None:
    redact.install()
    redact.register_secret("my-very-secret-key")
    with caplog.at_level(logging.DEBUG, logger="botocore"):
        logging.getLogger("botocore.endpoint").debug(
            "headers %s url %s",
            {
                "X-Amz-Security-Token": "tok123456",
                "Authorization": "AWS4-HMAC-SHA256 "
                "Credential=AK/x, SignedHeaders=host, Signature=" + "ab" * 32,
            },
            "http://h/b/k?X-Amz-Signature=deadbeef&X-Amz-Security-Token=abc%2F",
        )
        logging.getLogger("s3flow").debug("creds secret_key='my-very-secret-key'")
        logging.getLogger("botocore.auth").debug("Signature:\n%s", "cd" * 32)
    text = caplog.text
    for leaked in ("tok123456", "ab" * 32, "cd" * 32, "deadbeef", "abc%2F", "my-very-secret-key"):
        assert leaked not in text
    assert "X-Amz-Signature=********" in text


def test_other_loggers_untouched(caplog) -> None:
    redact.install()
    with caplog.at_level(logging.INFO, logger="myapp"):
        logging.getLogger("myapp").info("Signature=%s", "ab" * 32)
    assert "ab" * 32 in caplog.text
