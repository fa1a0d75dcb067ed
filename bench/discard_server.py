#!/usr/bin/env python3
"""A loopback HTTP sink that reads each request body and throws it away: the transfer limit that an
upload to a node is compared with. Reads with recv_into into one 1 MiB buffer (C speed), answers 200.
Usage: discard_server.py PORT (serves until killed)."""
import socket
import sys


def serve(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    while True:
        conn, _ = srv.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
            header, _, rest = head.partition(b"\r\n\r\n")
            length = 0
            for line in header.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                if line.lower().startswith(b"expect: 100-continue"):
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            left = length - len(rest)
            while left > 0:
                n = conn.recv_into(view, min(left, len(buf)))
                if n == 0:
                    break
                left -= n
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


if __name__ == "__main__":
    serve(int(sys.argv[1]))
