#!/usr/bin/env python3
"""The activate hook of the tour's hello-service: (re)starts the service from the release the
node just switched to.

Usage (as a node's deploy.hooks.<project>.activate command): supervise.py PORT PIDFILE
Stops the copy whose pid PIDFILE holds, starts $DEPLOY_RELEASE_DIR/server.py PORT in its own
session (so it outlives this hook), records its pid, and exits 0 once it answers on PORT, or 1
if it does not within 15 s.
"""
import os
import signal
import subprocess
import sys
import time
import urllib.request


def gone(pid):
    """True once the process has ended (a zombie nobody reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def stop(pidfile):
    try:
        with open(pidfile, encoding="utf-8") as f:
            pid = int(f.read().strip())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return
    for _ in range(30):
        if gone(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def main():
    port, pidfile = sys.argv[1], sys.argv[2]
    release = os.environ["DEPLOY_RELEASE_DIR"]
    stop(pidfile)
    service = subprocess.Popen(
        [sys.executable, os.path.join(release, "server.py"), port],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    with open(pidfile + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(service.pid))
    os.replace(pidfile + ".tmp", pidfile)
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                print(f"started {os.path.basename(release)} on port {port}: {r.read().decode().strip()}")
                return 0
        except OSError:
            time.sleep(0.1)
    print(f"the service did not answer on port {port} within 15 s")
    return 1


if __name__ == "__main__":
    sys.exit(main())
