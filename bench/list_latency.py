#!/usr/bin/env python3
"""Latency of GET /deployments?project=...&limit=50 against a running node, over one kept-alive
connection: WARMUP unreported requests, then N timed ones with a random project each.
Usage: list_latency.py HOST PORT PASSWORD PROJECTS N  -> prints p50, p99 and max in ms."""
import base64, http.client, json, random, sys, time

host, port, password, projects, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
conn = http.client.HTTPConnection(host, port)
rnd = random.Random(7)

def get(path):
    conn.request("GET", path, headers={"Authorization": auth})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: HTTP {r.status} {body[:200]!r}")
    return json.loads(body)

total = get("/deployments?limit=1")["total"]
for _ in range(200):
    get(f"/deployments?project=p{rnd.randrange(projects)}&limit=50")
times = []
for _ in range(n):
    path = f"/deployments?project=p{rnd.randrange(projects)}&limit=50"
    t0 = time.perf_counter()
    page = get(path)
    times.append((time.perf_counter() - t0) * 1000)
    assert len(page["deployments"]) == 50, path
times.sort()
print(f"rows {total}  requests {n}  p50 {times[n // 2]:.2f} ms  p99 {times[int(n * 0.99)]:.2f} ms  max {times[-1]:.2f} ms")
