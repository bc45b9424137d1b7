"""The ``s3flow`` console script: click verbs (main), their bodies (commands, copying), output (render).

The CLI is the top layer: it imports the client, config, models, errors and
progress events, and is the one place errors become messages and exit codes.
"""

from __future__ import annotations

from s3flow.cli.main import main

__all__ = ["main"]
