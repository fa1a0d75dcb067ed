#!/usr/bin/env python3
"""hello-service: the sample component of the deployment runtime's tour.

Serves, on 127.0.0.1:<port> (its first argument):
  GET /         the release's version (the `version` file beside this script)
  GET /healthz  200 while the release's `health` file says "healthy", else 503
It reads its files from its own release directory, so a running copy belongs to one release; the
node's activate hook (supervise.py) restarts it on every switch.
"""
import http.server
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name):
    try:
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            healthy = read("health") == "healthy"
            self.answer(200 if healthy else 503, "ok" if healthy else "broken")
        elif self.path == "/":
            self.answer(200, read("version"))
        else:
            self.answer(404, "not found")

    def answer(self, status, text):
        body = (text + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()
