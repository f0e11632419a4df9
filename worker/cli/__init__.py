"""The `agent-runtime` command line (CONTRACT.md, Command line)."""

from worker.cli.main import main

__all__ = ["main"]
