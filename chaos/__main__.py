"""``python -m chaos``: the command line (docs/cli.md)."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
