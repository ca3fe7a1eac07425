"""``agentrt-probe FILE MAX_AGE_SECONDS``: exit 0 while FILE was touched within MAX_AGE seconds.

Workers have no HTTP port; ``agentrt worker --heartbeat-file FILE`` touches the file while its
poll loop is alive, and Kubernetes' exec probe runs this (no shell, no interpreter start-up of the
whole runtime).
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: agentrt-probe FILE MAX_AGE_SECONDS", file=sys.stderr)
        return 2
    path, max_age = args[0], float(args[1])
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError:
        print(f"{path}: missing", file=sys.stderr)
        return 1
    if age > max_age:
        print(f"{path}: last heartbeat {age:.0f}s ago", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
