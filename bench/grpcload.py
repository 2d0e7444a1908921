#!/usr/bin/python3
"""containerd's side of the API figures, over its gRPC socket (python3-grpcio,
no generated stubs: the requests are hand-encoded protobuf, responses are
counted, not decoded).

  grpcload.py rps SOCK METHOD CONCURRENCY SECONDS [NAMESPACE]
      unary calls with an empty request (e.g. /containerd.services.version.v1.
      Version/Version, /containerd.services.containers.v1.Containers/List)
      kept CONCURRENCY in flight on one channel; prints
      {"rps":..,"requests":..,"errors":..,"p50_us":..}

  grpcload.py events SOCK SUBSCRIBERS REPS
      SUBSCRIBERS `ctr events` processes, then REPS times: Events/Publish one
      event and time until every subscriber has printed it; prints
      {"subscribers":N,"latencies_ms":[...]}

The client is Python (grpc's C core under asyncio), so a figure here is a lower
bound of what containerd can serve: it is labelled so in RESULTS.md.
"""
import asyncio
import json
import sys
import time

import grpc


def _ident(b):
    return b


def pb_bytes(field, data):
    """Protobuf length-delimited field."""
    n, out = len(data), bytearray([(field << 3) | 2])
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            break
    return bytes(out) + data


async def rps(sock, method, conc, seconds, ns):
    async with grpc.aio.insecure_channel("unix://" + sock) as ch:
        call = ch.unary_unary(method, request_serializer=_ident, response_deserializer=_ident)
        md = (("containerd-namespace", ns),)
        await call(b"", metadata=md, timeout=10)  # warm up, fail fast
        lat, errors = [], [0]
        end = time.monotonic() + seconds

        async def worker():
            while time.monotonic() < end:
                t0 = time.monotonic()
                try:
                    await call(b"", metadata=md, timeout=10)
                except grpc.RpcError:
                    errors[0] += 1
                    continue
                lat.append(time.monotonic() - t0)

        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(conc)))
        el = time.monotonic() - t0
        lat.sort()
        return {"method": method, "concurrency": conc, "seconds": round(el, 3),
                "requests": len(lat), "rps": round(len(lat) / el, 1), "errors": errors[0],
                "p50_us": int(lat[len(lat) // 2] * 1e6) if lat else 0}


def events(sock, nsubs, reps):
    """Subscribers are `ctr events` processes (a python gRPC client with more
    than ~100 server streams stalls here), read through pipes; the event is
    published over gRPC (Events/Publish) from this process."""
    import os
    import selectors
    import subprocess
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    procs, sel = [], selectors.DefaultSelector()
    bufs = {}
    try:
        for i in range(nsubs):
            p = subprocess.Popen(["ctr", "-a", sock, "events", 'topic=="/bench"'],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 stdin=subprocess.DEVNULL)
            os.set_blocking(p.stdout.fileno(), False)
            sel.register(p.stdout, selectors.EVENT_READ, i)
            procs.append(p)
            bufs[i] = b""
        alive = set(range(nsubs))
        ch = grpc.insecure_channel("unix://" + sock)
        pub = ch.unary_unary("/containerd.services.events.v1.Events/Publish",
                             request_serializer=_ident, response_deserializer=_ident)

        def publish(marker):
            # ctr prints only events it can decode: a NamespaceCreate{name}.
            anyv = (pb_bytes(1, b"containerd.events.NamespaceCreate")
                    + pb_bytes(2, pb_bytes(1, marker)))
            pub(pb_bytes(1, b"/bench") + pb_bytes(2, anyv),
                metadata=(("containerd-namespace", "default"),), timeout=30)

        def wait_all(marker, deadline):
            seen, last = set(), 0.0
            while len(seen) < len(alive) and time.monotonic() < deadline:
                for key, _ in sel.select(0.2):
                    i = key.data
                    try:
                        data = key.fileobj.read()
                    except BlockingIOError:
                        continue
                    if not data:
                        continue
                    bufs[i] = (bufs[i] + data)[-4096:]
                    if marker in bufs[i] and i not in seen:
                        seen.add(i)
                        last = time.monotonic()
            return seen, last

        deadline = time.monotonic() + 90
        while True:  # warm up until every ctr is subscribed
            m = b"warm-%d" % time.monotonic_ns()
            publish(m)
            seen, _ = wait_all(m, time.monotonic() + 2)
            if len(seen) == len(alive):
                break
            # A ctr that could not subscribe (it exits, e.g. its dial timed
            # out on a loaded machine) is counted out, and said so.
            for i, p in enumerate(procs):
                if p.poll() is not None and i in alive:
                    alive.discard(i)
                    sel.unregister(p.stdout)
            if len(alive) < nsubs * 0.95:
                raise SystemExit("grpcload: %d of %d ctr events processes exited"
                                 % (nsubs - len(alive), nsubs))
            print("grpcload: warm-up, %d of %d subscribers" % (len(seen), len(alive)),
                  file=sys.stderr)
            if time.monotonic() > deadline:
                raise SystemExit("grpcload: subscribers never all registered")
        lats = []
        for r in range(reps):
            time.sleep(0.2)
            m = b"bench-%d-%d" % (r, time.monotonic_ns())
            t0 = time.monotonic()
            publish(m)
            seen, last = wait_all(m, time.monotonic() + 60)
            if len(seen) < len(alive):
                raise SystemExit("grpcload: %d of %d got the event" % (len(seen), len(alive)))
            lats.append(round((last - t0) * 1000, 2))
        ch.close()
        return {"subscribers": len(alive), "requested": nsubs, "latencies_ms": lats,
                "client": "ctr events"}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    a = sys.argv[1:]
    if len(a) >= 5 and a[0] == "rps":
        out = asyncio.run(rps(a[1], a[2], int(a[3]), float(a[4]), a[5] if len(a) > 5 else "default"))
    elif len(a) == 4 and a[0] == "events":
        out = events(a[1], int(a[2]), int(a[3]))
    else:
        sys.exit(__doc__)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
