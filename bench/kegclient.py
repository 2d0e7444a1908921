#!/usr/bin/python3
"""keg's side of the benchmarks that need more than one request, talking HTTP/1.1
to kegd's Unix socket directly (standard library only, keep-alive).

  kegclient.py clean SOCK
      empties the default namespace's store: images, then snapshots (children
      first), then content; prints what was left (must be zeros)
  kegclient.py events SOCK SUBSCRIBERS REPS
      SUBSCRIBERS GET /v1/events?topic=/bench streams on as many connections,
      then REPS times POST /v1/events and time until every stream has it
  kegclient.py run SOCK IMAGE RUNTIME REPS ARGS...
      REPS times: create container, create task, start, wait, delete task,
      delete container (what `ctr run --rm` does); prints the times in ms
  kegclient.py start-many SOCK IMAGE RUNTIME COUNT CONCURRENCY PREFIX ARGS...
      COUNT containers created and started, CONCURRENCY at a time; total ms
  kegclient.py create-many SOCK IMAGE COUNT PREFIX
      COUNT containers (no tasks), 16 at a time
  kegclient.py remove-all SOCK
      kills and deletes every task, deletes every container
"""
import json
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


class Conn:
    """One keep-alive HTTP/1.1 connection to a Unix socket."""

    def __init__(self, path, timeout=120):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def _read_until(self, sep):
        while sep not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("kegd closed the connection")
            self.buf += d
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def _read_n(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("kegd closed the connection")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def request(self, method, path, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        h = "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n" % (
            method, path, len(data))
        if body is not None:
            h += "Content-Type: application/json\r\n"
        for k, v in (headers or {}).items():
            h += "%s: %s\r\n" % (k, v)
        self.s.sendall(h.encode() + b"\r\n" + data)
        return self.response()

    def response(self):
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        hdr = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            hdr[k.strip().lower()] = v.strip()
        if "chunked" in hdr.get("transfer-encoding", ""):
            body = b""
            while True:
                n = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if n == 0:
                    self._read_until(b"\r\n")
                    break
                body += self._read_n(n)
                self._read_n(2)
        else:
            body = self._read_n(int(hdr.get("content-length", "0")))
        return status, body

    def json(self, method, path, body=None, ok=(200, 201, 202, 204), **kw):
        st, b = self.request(method, path, body, **kw)
        if st not in ok:
            raise RuntimeError("%s %s: %d %s" % (method, path, st, b[:300].decode("utf-8", "replace")))
        return json.loads(b) if b else None

    def close(self):
        self.s.close()


def _q(s):
    from urllib.parse import quote
    return quote(s, safe="")


def _items(v, key):
    if isinstance(v, dict):
        return v.get(key) or v.get("items") or []
    return v or []


# --- clean store -------------------------------------------------------------------------
def clean(sock):
    c = Conn(sock)
    for im in _items(c.json("GET", "/v1/images"), "images"):
        c.json("DELETE", "/v1/images/" + im["name"])
    for _ in range(100):
        snaps = _items(c.json("GET", "/v1/snapshots"), "snapshots")
        if not snaps:
            break
        parents = {s.get("parent") for s in snaps if s.get("parent")}
        for s in snaps:
            if s["key"] not in parents:
                c.request("DELETE", "/v1/snapshots/" + _q(s["key"]))
    for b in _items(c.json("GET", "/v1/content"), "content"):
        c.json("DELETE", "/v1/content/" + b["digest"])
    left = {k: len(_items(c.json("GET", "/v1/" + k), k)) for k in ("images", "snapshots", "content")}
    c.close()
    return left


# --- events ------------------------------------------------------------------------------
def events(sock, nsubs, reps):
    import resource
    import selectors
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    subs = []
    for i in range(nsubs):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        s.sendall(b"GET /v1/events?topic=/bench HTTP/1.1\r\nHost: localhost\r\n"
                  b"Accept: text/event-stream\r\n\r\n")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
        subs.append(s)
    bufs = [b""] * nsubs
    pub = Conn(sock)

    def wait_all(marker, deadline):
        seen, last = set(), 0.0
        while len(seen) < nsubs and time.monotonic() < deadline:
            for key, _ in sel.select(0.2):
                i = key.data
                try:
                    d = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not d:
                    raise SystemExit("kegclient: subscriber %d closed" % i)
                bufs[i] = (bufs[i] + d)[-4096:]
                if marker in bufs[i] and i not in seen:
                    seen.add(i)
                    last = time.monotonic()
        return seen, last

    def publish(marker):
        pub.json("POST", "/v1/events", {"topic": "/bench", "event": {"m": marker.decode()}})

    try:
        deadline = time.monotonic() + 90
        while True:
            m = b"warm-%d" % time.monotonic_ns()
            publish(m)
            seen, _ = wait_all(m, time.monotonic() + 2)
            if len(seen) == nsubs:
                break
            if time.monotonic() > deadline:
                raise SystemExit("kegclient: only %d of %d subscribers" % (len(seen), nsubs))
        lats = []
        for r in range(reps):
            time.sleep(0.2)
            m = b"bench-%d-%d" % (r, time.monotonic_ns())
            t0 = time.monotonic()
            publish(m)
            seen, last = wait_all(m, time.monotonic() + 60)
            if len(seen) < nsubs:
                raise SystemExit("kegclient: %d of %d got the event" % (len(seen), nsubs))
            lats.append(round((last - t0) * 1000, 2))
        return {"subscribers": nsubs, "latencies_ms": lats, "client": "python sockets"}
    finally:
        for s in subs:
            s.close()
        pub.close()


# --- containers and tasks (api-spec/openapi.yaml) -------------------------------
def _container_body(cid, image, runtime, args):
    body = {"id": cid, "image": image, "options": {"args": list(args)}}
    if runtime:
        body["runtime"] = {"name": "io.containerd.runc.v2", "options": {"binary_name": runtime}}
    return body


def run_one(c, image, runtime, cid, args):
    c.json("POST", "/v1/containers", _container_body(cid, image, runtime, args))
    c.json("POST", "/v1/tasks", {"container_id": cid})
    c.json("POST", "/v1/tasks/%s/start" % cid)
    w = c.json("GET", "/v1/tasks/%s/wait" % cid)
    c.json("DELETE", "/v1/tasks/%s" % cid)
    c.json("DELETE", "/v1/containers/%s" % cid)
    return w


def run(sock, image, runtime, reps, args):
    c = Conn(sock)
    times = []
    for i in range(reps):
        t0 = time.monotonic()
        w = run_one(c, image, runtime, "bench-run-%d" % i, args)
        times.append(round((time.monotonic() - t0) * 1000, 2))
        if w and w.get("exit_status") not in (0, None):
            raise SystemExit("kegclient: exit status %s" % w.get("exit_status"))
    c.close()
    return {"ms": times}


def start_many(sock, image, runtime, count, conc, prefix, args):
    local = threading.local()

    def one(i):
        if not hasattr(local, "c"):
            local.c = Conn(sock)
        cid = "%s-%d" % (prefix, i)
        local.c.json("POST", "/v1/containers", _container_body(cid, image, runtime, args))
        local.c.json("POST", "/v1/tasks", {"container_id": cid})
        local.c.json("POST", "/v1/tasks/%s/start" % cid)

    t0 = time.monotonic()
    with ThreadPoolExecutor(conc) as ex:
        list(ex.map(one, range(count)))
    return {"count": count, "concurrency": conc, "ms": round((time.monotonic() - t0) * 1000, 1)}


def create_many(sock, image, count, prefix):
    local = threading.local()

    def one(i):
        if not hasattr(local, "c"):
            local.c = Conn(sock)
        local.c.json("POST", "/v1/containers",
                     _container_body("%s-%d" % (prefix, i), image, None, ["/bin/true"]))

    t0 = time.monotonic()
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(one, range(count)))
    return {"count": count, "ms": round((time.monotonic() - t0) * 1000, 1)}


def remove_all(sock):
    c = Conn(sock)
    tasks = _items(c.json("GET", "/v1/tasks"), "tasks")
    for t in tasks:
        c.request("POST", "/v1/tasks/%s/kill" % t["id"], {"signal": "SIGKILL", "all": True})
    for t in tasks:
        c.request("GET", "/v1/tasks/%s/wait" % t["id"])
        c.request("DELETE", "/v1/tasks/%s?force=1" % t["id"])
    conts = _items(c.json("GET", "/v1/containers"), "containers")
    for ct in conts:
        c.request("DELETE", "/v1/containers/%s" % ct["id"])
    c.close()
    return {"tasks": len(tasks), "containers": len(conts)}


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "clean":
        out = clean(a[1])
    elif len(a) == 4 and a[0] == "events":
        out = events(a[1], int(a[2]), int(a[3]))
    elif len(a) >= 6 and a[0] == "run":
        out = run(a[1], a[2], a[3] if a[3] != "-" else None, int(a[4]), a[5:])
    elif len(a) >= 8 and a[0] == "start-many":
        out = start_many(a[1], a[2], a[3] if a[3] != "-" else None, int(a[4]), int(a[5]), a[6], a[7:])
    elif len(a) == 5 and a[0] == "create-many":
        out = create_many(a[1], a[2], int(a[3]), a[4])
    elif len(a) == 2 and a[0] == "remove-all":
        out = remove_all(a[1])
    else:
        sys.exit(__doc__)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
