#!/usr/bin/env python3
"""Event latency from a deployment entity to SSE readers on every node of a running cluster.
Deploys DEPLOYS small components through the first node (wait=false) and, for each, reads the
event stream from every node at once; for each event that arrives live (its time is after the
reader connected), latency = time received - the event's time (stamped by the entity when it handled
the command, before the journal write). The event's time has millisecond resolution.
Usage: sse_latency.py PASSWORD DEPLOYS URL...  -> p50, p99, max per node and overall, in ms."""
import base64, http.client, io, json, os, sys, tarfile, threading, time, urllib.parse
from datetime import datetime

password, deploys, urls = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()

def component(i):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = f"<h1>release {i}</h1>\n".encode()
        info = tarfile.TarInfo("index.html"); info.size = len(data); tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()

def deploy(url, body):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port)
    c.request("POST", "/deployments?project=latency&wait=false", body=body,
              headers={"Authorization": auth, "Content-Type": "application/gzip"})
    r = c.getresponse(); data = json.loads(r.read())
    if r.status != 202:
        raise SystemExit(f"deploy: HTTP {r.status} {data}")
    return data["deployment_id"]

def read(url, did, out):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port)
    connected = time.time()
    c.request("GET", f"/deployments/{did}/events", headers={"Authorization": auth, "Accept": "text/event-stream"})
    r = c.getresponse()
    event = None
    while True:
        line = r.fp.readline()
        if not line:
            break
        received = time.time()
        line = line.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            if event == "done":
                break
            e = json.loads(line[6:])
            t = datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
            if t > connected:
                out.append((received - t) * 1000)

per_node = {url: [] for url in urls}
for i in range(deploys):
    did = deploy(urls[0], component(i))
    threads = [threading.Thread(target=read, args=(url, did, per_node[url])) for url in urls]
    for t in threads: t.start()
    for t in threads: t.join()

def stats(xs):
    xs = sorted(xs)
    if not xs:
        return "no live events"
    return f"events {len(xs)}  p50 {xs[len(xs) // 2]:.1f} ms  p99 {xs[int(len(xs) * 0.99)]:.1f} ms  max {xs[-1]:.1f} ms"

for url, xs in per_node.items():
    print(f"{url}: {stats(xs)}")
print(f"all readers: {stats([x for xs in per_node.values() for x in xs])}")
