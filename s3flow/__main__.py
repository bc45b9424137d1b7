"""``python -m s3flow``: the console script."""

from __future__ import annotations

from s3flow.cli.main import main

if __name__ == "__main__":
    main()
