"""Test-only HTTP fronts for a real docker-registry backend.

Each front is a ThreadingHTTPServer on 127.0.0.1 (a port of its own) that
proxies the Registry HTTP API v2 to a plain docker-registry ("backend",
"127.0.0.1:PORT") and changes one thing:

  Front          plain proxy that counts what it sees
  TokenFront     Docker token auth (401 + WWW-Authenticate: Bearer ..., /token)
  CuttingFront   first GET of each blob: full Content-Length, half the bytes, close;
                 Range requests answered 206 from the real bytes
  CorruptFront   blobs (and optionally manifests by digest) with other bytes
  SlowFront      delays, throttles, or stalls blob bodies
  RedirectFront  TokenFront whose blob GETs answer 307 to another host name
                 (localhost:PORT2) that serves the bytes and records any
                 Authorization header that arrives there

Counters (all fronts; read them after the client is done):
  requests        [RequestRecord(method, path, headers, status)]
  blob_gets       Counter digest -> GET count      blob_heads  Counter digest -> HEAD count
  manifest_gets   Counter "repo:ref" -> GET count  range_requests [(digest, Range header)]
Client Host headers are passed to the backend, so the Location headers it
builds for uploads point back at the front.
"""
import base64
import http.client
import http.server
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections import Counter, namedtuple

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length"}
RequestRecord = namedtuple("RequestRecord", "method path headers status")

V2_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|tags)/(?P<rest>.*)$")


def parse_v2(path):
    """'/v2/a/b/blobs/sha256:..' -> (name, kind, rest) or None."""
    m = V2_PATH.match(urllib.parse.urlsplit(path).path)
    return (m.group("name"), m.group("kind"), m.group("rest")) if m else None


def parse_range(value, total):
    """Single 'bytes=' range -> (start, end inclusive); None to ignore the
    header; "unsatisfiable" when it cannot be served."""
    if not value or not value.startswith("bytes=") or "," in value:
        return None
    a, _, b = value[6:].strip().partition("-")
    try:
        if a == "":
            n = int(b)
            if n <= 0:
                return "unsatisfiable"
            return (max(0, total - n), total - 1)
        start = int(a)
        end = int(b) if b else total - 1
    except ValueError:
        return None
    if start >= total or end < start:
        return "unsatisfiable"
    return (start, min(end, total - 1))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, *a):
        pass

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def _any(self):
        self._status = None
        try:
            self.server.owner.dispatch(self)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        finally:
            self.server.owner._record(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def read_request_body(h):
    """The request body, de-chunked; b"" when there is none."""
    if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
        data = bytearray()
        while True:
            line = h.rfile.readline(65537)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(data)
            data += h.rfile.read(size)
            h.rfile.readline()
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n > 0 else b""


def send_bytes(h, status, data, headers=(), length=None, close=False):
    """Answers with `data`; Content-Length is len(data) unless `length`
    (a lie, for cut connections). close=True ends the connection after."""
    h.send_response(status)
    for k, v in headers:
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(data) if length is None else length))
    if close:
        h.send_header("Connection", "close")
    h.end_headers()
    if h.command != "HEAD" and data:
        h.wfile.write(data)
    h.wfile.flush()
    if close:
        h.close_connection = True


def send_json_error(h, status, code, message, headers=()):
    body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
    send_bytes(h, status, body, [("Content-Type", "application/json; charset=utf-8"),
                                 ("Docker-Distribution-Api-Version", "registry/2.0")] + list(headers))


def relay_response(h, r, extra_headers=()):
    """Copies a backend http.client response to the client (streamed when
    it has a Content-Length)."""
    h.send_response(r.status)
    for k, v in r.getheaders():
        if k.lower() in HOP_BY_HOP or k.lower() in ("date", "server"):
            continue
        h.send_header(k, v)
    for k, v in extra_headers:
        h.send_header(k, v)
    length = r.getheader("Content-Length")
    no_body = h.command == "HEAD" or r.status in (204, 304) or r.status < 200
    if no_body:
        if length is not None:
            h.send_header("Content-Length", length)
        elif h.command != "HEAD":
            h.send_header("Content-Length", "0")
        h.end_headers()
        r.read()
        return
    if length is None:
        data = r.read()
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
        return
    h.send_header("Content-Length", length)
    h.end_headers()
    left = int(length)
    while left > 0:
        chunk = r.read(min(65536, left))
        if not chunk:
            h.close_connection = True
            break
        h.wfile.write(chunk)
        left -= len(chunk)
    h.wfile.flush()


class Front:
    """Plain counting proxy in front of `backend` ("127.0.0.1:PORT")."""

    name = "front"

    def __init__(self, backend, host_name="127.0.0.1"):
        self.backend = backend
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.host = "%s:%d" % (host_name, self.port)
        self.url = "http://" + self.host
        self._blob_cache = {}
        self.reset()
        self._thread = None

    # --- lifecycle ----------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(5)

    def reset(self):
        """Clears the counters."""
        with self.lock:
            self.requests = []
            self.blob_gets = Counter()
            self.blob_heads = Counter()
            self.manifest_gets = Counter()
            self.range_requests = []

    def ref(self, path):
        """'busybox:latest' -> 'HOST/busybox:latest' for this front."""
        return "%s/%s" % (self.host, path)

    # --- bookkeeping ------------------------------------------------------------
    def _record(self, h):
        hdrs = {k.lower(): v for k, v in h.headers.items()} if h.headers else {}
        with self.lock:
            self.requests.append(RequestRecord(h.command, h.path, hdrs, getattr(h, "_status", None)))

    def _count(self, h, v2):
        if not v2:
            return
        name, kind, rest = v2
        with self.lock:
            if kind == "blobs" and rest.startswith("sha256:"):
                if h.command == "GET":
                    self.blob_gets[rest] += 1
                    if h.headers.get("Range"):
                        self.range_requests.append((rest, h.headers["Range"]))
                elif h.command == "HEAD":
                    self.blob_heads[rest] += 1
            elif kind == "manifests" and h.command == "GET":
                self.manifest_gets["%s:%s" % (name, rest)] += 1

    # --- dispatch -----------------------------------------------------------------
    def dispatch(self, h):
        body = read_request_body(h) if h.command in ("POST", "PUT", "PATCH", "DELETE") else None
        v2 = parse_v2(h.path)
        if not self.authorize(h, v2):
            return
        self._count(h, v2)
        if v2 and v2[1] == "blobs" and v2[2].startswith("sha256:") and h.command == "GET":
            if self.blob_get(h, v2[0], v2[2]):
                return
        if v2 and v2[1] == "manifests" and h.command == "GET":
            if self.manifest_get(h, v2[0], v2[2]):
                return
        self.forward(h, body)

    # hooks: return True when the request was answered
    def authorize(self, h, v2):
        return True

    def blob_get(self, h, repo, digest):
        return False

    def manifest_get(self, h, repo, ref):
        return False

    # --- backend ------------------------------------------------------------------------
    def backend_request(self, method, path, headers=None, body=None):
        conn = http.client.HTTPConnection(self.backend, timeout=60)
        conn.request(method, path, body=body, headers=headers or {})
        return conn, conn.getresponse()

    def fetch_blob(self, repo, digest):
        """The real bytes of a blob (cached per digest)."""
        with self.lock:
            if digest in self._blob_cache:
                return self._blob_cache[digest]
        conn, r = self.backend_request("GET", "/v2/%s/blobs/%s" % (repo, digest))
        data = r.read()
        conn.close()
        if r.status != 200:
            return None
        with self.lock:
            self._blob_cache[digest] = data
        return data

    def forward(self, h, body=None, path=None):
        """Sends the client's request to the backend and streams the answer back."""
        conn = http.client.HTTPConnection(self.backend, timeout=60)
        try:
            conn.putrequest(h.command, path or h.path, skip_host=True, skip_accept_encoding=True)
            have_host = False
            for k, v in h.headers.items():
                lk = k.lower()
                if lk in HOP_BY_HOP or lk == "authorization" or lk == "expect":
                    continue
                have_host = have_host or lk == "host"
                conn.putheader(k, v)
            if not have_host:
                conn.putheader("Host", self.host)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            r = conn.getresponse()
            self.relay(h, r)
        finally:
            conn.close()

    def relay(self, h, r, extra_headers=()):
        relay_response(h, r, extra_headers)

    # --- helpers for blob-serving fronts ---------------------------------------------------
    @staticmethod
    def blob_headers(digest):
        return [("Content-Type", "application/octet-stream"), ("Docker-Content-Digest", digest),
                ("ETag", '"%s"' % digest), ("Accept-Ranges", "bytes"),
                ("Cache-Control", "max-age=31536000"),
                ("Docker-Distribution-Api-Version", "registry/2.0")]

    def serve_blob_bytes(self, h, digest, data, rate=None):
        """Answers GET with `data` as the blob `digest`, honouring one Range.
        rate: bytes per second (throttled writes) or None."""
        total = len(data)
        rng = parse_range(h.headers.get("Range"), total)
        if_range = h.headers.get("If-Range")
        if if_range and if_range.strip('"') != digest:
            rng = None
        if rng == "unsatisfiable":
            send_bytes(h, 416, b"", self.blob_headers(digest) + [("Content-Range", "bytes */%d" % total)])
            return
        if rng:
            start, end = rng
            part = data[start:end + 1]
            headers = self.blob_headers(digest) + [("Content-Range", "bytes %d-%d/%d" % (start, end, total))]
            status = 206
        else:
            part, headers, status = data, self.blob_headers(digest), 200
        if rate is None:
            send_bytes(h, status, part, headers)
            return
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(part)))
        h.end_headers()
        step = max(1, int(rate / 20))
        for i in range(0, len(part), step):
            if i:
                time.sleep(0.05)
            h.wfile.write(part[i:i + step])
            h.wfile.flush()


# --- token auth --------------------------------------------------------------------------------
class TokenFront(Front):
    """Docker token auth in front of the backend.

    Registry requests without a valid Bearer token for the needed scope get
    401 with WWW-Authenticate: Bearer realm="URL/token",service="keg-test"
    [,scope="repository:NAME:pull"] (no scope for /v2/ itself;
    error="insufficient_scope" when a token was sent but does not cover it).
    /token (GET, or POST form grant_type=password): anonymous pull for
    repositories under public/; everything else needs Basic user:pass
    (users dict). Wrong credentials: 401. Anonymous asks for private scope:
    a token with no access (like Docker Hub), or 401 if deny_anonymous.
    Counters: token_requests [dict(user, scopes, granted, service, status,
    method)], unauthorized (count of 401s on registry paths), tokens
    {token: dict(user, grants set of (repo, action), expires)}."""

    name = "token-front"
    service = "keg-test"

    def __init__(self, backend, users=None, expires_in=300, deny_anonymous=False,
                 public_prefix="public/", strict_service=True, host_name="127.0.0.1"):
        self.users = dict(users or {"user": "pass"})
        self.expires_in = expires_in
        self.deny_anonymous = deny_anonymous
        self.public_prefix = public_prefix
        self.strict_service = strict_service
        self.auth_enabled = True
        self.tokens = {}
        super().__init__(backend, host_name)
        self.realm = self.url + "/token"

    def reset(self):
        super().reset()
        with self.lock:
            self.token_requests = []
            self.unauthorized = 0

    def revoke_tokens(self):
        """Forgets every token: the next request needs a new one."""
        with self.lock:
            self.tokens.clear()

    @property
    def user(self):
        return next(iter(self.users))

    @property
    def password(self):
        return self.users[self.user]

    # --- registry side ----------------------------------------------------------------
    @staticmethod
    def needed_scope(method, path, v2):
        if v2 is None:
            p = urllib.parse.urlsplit(path).path
            if p.startswith("/v2/_catalog"):
                return ("registry", "catalog", "*")
            return None
        action = {"GET": "pull", "HEAD": "pull", "DELETE": "delete"}.get(method, "push")
        return ("repository", v2[0], action)

    def challenge(self, scope, error=None):
        c = 'Bearer realm="%s",service="%s"' % (self.realm, self.service)
        if scope:
            actions = "pull" if scope[2] == "pull" else ("pull,push" if scope[2] == "push" else scope[2])
            c += ',scope="%s:%s:%s"' % (scope[0], scope[1], actions)
        if error:
            c += ',error="%s"' % error
        return c

    def _token_info(self, h):
        auth = h.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer "):
            return None
        tok = auth[7:].strip()
        with self.lock:
            info = self.tokens.get(tok)
        if info and info["expires"] < time.time():
            return None
        return info

    def authorize(self, h, v2):
        if urllib.parse.urlsplit(h.path).path == "/token":
            self.handle_token(h)
            return False
        if not self.auth_enabled:
            return True
        scope = self.needed_scope(h.command, h.path, v2)
        info = self._token_info(h)
        ok = info is not None and (scope is None or (scope[1], scope[2]) in info["grants"])
        if ok and v2 and h.command == "POST":
            # cross-repository mount needs pull on the source too; without
            # it the registry just starts a normal upload.
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query)
            if "from" in q and (q["from"][0], "pull") not in info["grants"]:
                h.path = urllib.parse.urlsplit(h.path).path
        if ok:
            return True
        with self.lock:
            self.unauthorized += 1
        err = "insufficient_scope" if info is not None else None
        send_json_error(h, 401, "UNAUTHORIZED", "authentication required",
                        [("WWW-Authenticate", self.challenge(scope, err))])
        return False

    # --- token endpoint -------------------------------------------------------------------
    def handle_token(self, h):
        body = read_request_body(h) if h.command == "POST" else b""
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query)
        if h.command == "POST":
            q.update(urllib.parse.parse_qs(body.decode("latin-1")))
        service = (q.get("service") or [""])[0]
        scopes = [s for v in q.get("scope", []) for s in v.split(" ") if s]
        rec = {"method": h.command, "service": service, "scopes": scopes, "user": None,
               "granted": [], "status": None}
        with self.lock:
            self.token_requests.append(rec)

        def fail(status, code, msg):
            rec["status"] = status
            send_json_error(h, status, code, msg,
                            [("WWW-Authenticate", 'Basic realm="%s"' % self.service)] if status == 401 else [])

        if self.strict_service and service != self.service:
            return fail(400, "DENIED", "unknown service %r" % service)
        user = password = None
        auth = h.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except Exception:
                return fail(401, "UNAUTHORIZED", "bad basic credentials")
        elif h.command == "POST" and q.get("grant_type", [""])[0] == "password":
            user, password = q.get("username", [""])[0], q.get("password", [""])[0]
        if user is not None and self.users.get(user) != password:
            return fail(401, "UNAUTHORIZED", "wrong user name or password")
        rec["user"] = user
        grants, denied = set(), False
        for s in scopes:
            typ, _, rest = s.partition(":")
            name, _, actions = rest.rpartition(":")
            for a in actions.split(","):
                if user is not None or (typ == "repository" and a == "pull"
                                        and name.startswith(self.public_prefix)):
                    grants.add((name, a))
                else:
                    denied = True
        if denied and user is None and self.deny_anonymous:
            return fail(401, "UNAUTHORIZED", "authentication required")
        tok = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[tok] = {"user": user, "grants": grants,
                                "expires": time.time() + self.expires_in}
        rec["granted"] = sorted("%s:%s" % g for g in grants)
        rec["status"] = 200
        out = {"token": tok, "access_token": tok, "expires_in": self.expires_in,
               "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        send_bytes(h, 200, json.dumps(out).encode(), [("Content-Type", "application/json")])


# --- faulty fronts --------------------------------------------------------------------------------
class CuttingFront(Front):
    """The first `cut_times` GETs of each blob (with or without Range) send
    the headers of the full answer but only `cut_fraction` of the body, then
    close the connection. Later GETs are served correctly (206 for Range).
    Only blobs of at least min_size bytes (and in `only`, if set) are cut.
    Counters: cuts {digest: bytes sent before the cut}, range_requests."""

    name = "cutting-front"

    def __init__(self, backend, cut_fraction=0.5, cut_times=1, min_size=0, only=None, **kw):
        self.cut_fraction, self.cut_times, self.min_size = cut_fraction, cut_times, min_size
        self.only = set(only) if only else None
        super().__init__(backend, **kw)

    def reset(self):
        super().reset()
        with self.lock:
            self.cuts = {}

    def blob_get(self, h, repo, digest):
        data = self.fetch_blob(repo, digest)
        if data is None:
            return False
        with self.lock:
            n = self.blob_gets[digest]
        eligible = len(data) >= self.min_size and (self.only is None or digest in self.only)
        if not (eligible and n <= self.cut_times):
            self.serve_blob_bytes(h, digest, data)
            return True
        rng = parse_range(h.headers.get("Range"), len(data))
        if rng and rng != "unsatisfiable":
            start, end = rng
            part, status = data[start:end + 1], 206
            headers = self.blob_headers(digest) + [("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))]
        else:
            part, status, headers = data, 200, self.blob_headers(digest)
        sent = int(len(part) * self.cut_fraction)
        with self.lock:
            self.cuts[digest] = sent
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(part)))
        h.end_headers()
        h.wfile.write(part[:sent])
        h.wfile.flush()
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        return True


class CorruptFront(Front):
    """Serves blobs with bytes flipped (XOR 0xff at `offsets`, default the
    middle byte), same length, real Docker-Content-Digest header.
    corrupt_times: only the first N GETs of each blob are bad (None: all).
    corrupt_manifests: manifests fetched by digest come back re-indented
    (valid JSON, other bytes). Counters: corrupted [digest per bad answer]."""

    name = "corrupt-front"

    def __init__(self, backend, offsets=None, corrupt_times=None, only=None,
                 corrupt_manifests=False, **kw):
        self.offsets, self.corrupt_times = offsets, corrupt_times
        self.only = set(only) if only else None
        self.corrupt_manifests = corrupt_manifests
        super().__init__(backend, **kw)

    def reset(self):
        super().reset()
        with self.lock:
            self.corrupted = []

    def corrupt(self, data):
        b = bytearray(data)
        for off in (self.offsets if self.offsets is not None else [len(b) // 2]):
            if b and -len(b) <= off < len(b):
                b[off] ^= 0xFF
        return bytes(b)

    def blob_get(self, h, repo, digest):
        data = self.fetch_blob(repo, digest)
        if data is None:
            return False
        with self.lock:
            n = self.blob_gets[digest]
        if (self.only is None or digest in self.only) and (self.corrupt_times is None
                                                           or n <= self.corrupt_times):
            data = self.corrupt(data)
            with self.lock:
                self.corrupted.append(digest)
        self.serve_blob_bytes(h, digest, data)
        return True

    def manifest_get(self, h, repo, ref):
        if not (self.corrupt_manifests and ref.startswith("sha256:")):
            return False
        conn, r = self.backend_request("GET", "/v2/%s/manifests/%s" % (repo, ref),
                                       {"Accept": h.headers.get("Accept", "*/*")})
        data = r.read()
        conn.close()
        if r.status != 200:
            return False
        bad = json.dumps(json.loads(data), indent=3).encode()
        with self.lock:
            self.corrupted.append(ref)
        send_bytes(h, 200, bad, [("Content-Type", r.getheader("Content-Type")),
                                 ("Docker-Content-Digest", ref)])
        return True


class SlowFront(Front):
    """delay: seconds before answering blob GETs; rate: bytes/s for blob
    bodies; stall_after: send this many body bytes, then hang (connection
    open) until release() or stall_timeout seconds. only: the digests
    slowed (default every blob); the others are served at once."""

    name = "slow-front"

    def __init__(self, backend, delay=0.0, rate=None, stall_after=None, stall_timeout=30,
                 only=None, **kw):
        self.delay, self.rate = delay, rate
        self.stall_after, self.stall_timeout = stall_after, stall_timeout
        self.only = set(only) if only else None
        self._release = threading.Event()
        super().__init__(backend, **kw)

    def release(self):
        self._release.set()

    def stall(self, after):
        """Stalls the next blob GETs again, after `after` bytes."""
        self.stall_after = after
        self._release.clear()

    def stop(self):
        self.release()
        super().stop()

    def blob_get(self, h, repo, digest):
        data = self.fetch_blob(repo, digest)
        if data is None:
            return False
        if self.only is not None and digest not in self.only:
            self.serve_blob_bytes(h, digest, data)
            return True
        if self.delay:
            time.sleep(self.delay)
        if self.stall_after is None:
            self.serve_blob_bytes(h, digest, data, rate=self.rate)
            return True
        h.send_response(200)
        for k, v in self.blob_headers(digest):
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[:self.stall_after])
        h.wfile.flush()
        self._release.wait(self.stall_timeout)
        h.close_connection = True
        return True


class _BlobHostHandler(_Handler):
    def _any(self):
        self._status = None
        try:
            self.server.owner.serve(self)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any


class BlobHost:
    """Serves /blobs/REPO/DIGEST?sig=S (a signed-URL store, like S3) from
    the backend; records every request and its Authorization header."""

    def __init__(self, backend, host_name="localhost"):
        self.backend = backend
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _BlobHostHandler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.host = "%s:%d" % (host_name, self.port)
        self.url = "http://" + self.host
        self.sigs = {}
        self.requests = []

    def sign(self, repo, digest):
        sig = secrets.token_urlsafe(16)
        with self.lock:
            self.sigs[sig] = (repo, digest)
        return "%s/blobs/%s/%s?sig=%s" % (self.url, repo, digest, sig)

    def serve(self, h):
        with self.lock:
            self.requests.append({"method": h.command, "path": h.path,
                                  "authorization": h.headers.get("Authorization"),
                                  "range": h.headers.get("Range"),
                                  "headers": {k.lower(): v for k, v in h.headers.items()}})
        u = urllib.parse.urlsplit(h.path)
        sig = (urllib.parse.parse_qs(u.query).get("sig") or [""])[0]
        with self.lock:
            target = self.sigs.get(sig)
        if h.command not in ("GET", "HEAD") or target is None or \
                u.path != "/blobs/%s/%s" % target:
            send_bytes(h, 403, b"bad signature\n", [("Content-Type", "text/plain")])
            return
        conn = http.client.HTTPConnection(self.backend, timeout=60)
        try:
            hdrs = {k: v for k, v in (("Range", h.headers.get("Range")),
                                      ("If-Range", h.headers.get("If-Range"))) if v}
            conn.request(h.command, "/v2/%s/blobs/%s" % target, headers=hdrs)
            relay_response(h, conn.getresponse())
        finally:
            conn.close()

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="blob-host", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class RedirectFront(TokenFront):
    """TokenFront (auth=True) or a plain proxy (auth=False) whose blob GETs
    answer 307 Temporary Redirect to blob_host (http://localhost:PORT2/...,
    another host name and port, signed URL). blob_host.requests records what
    arrived there; authorization_leaks lists any Authorization headers seen
    (there must be none). Counters: redirects (count)."""

    name = "redirect-front"

    def __init__(self, backend, auth=True, status=307, **kw):
        self.blob_host = BlobHost(backend).start()
        self.status = status
        super().__init__(backend, **kw)
        self.auth_enabled = auth

    def reset(self):
        super().reset()
        with self.lock:
            self.redirects = 0
        if hasattr(self, "blob_host"):
            with self.blob_host.lock:
                self.blob_host.requests = []

    @property
    def authorization_leaks(self):
        with self.blob_host.lock:
            return [r["authorization"] for r in self.blob_host.requests if r["authorization"]]

    def blob_get(self, h, repo, digest):
        with self.lock:
            self.redirects += 1
        send_bytes(h, self.status, b"", [("Location", self.blob_host.sign(repo, digest)),
                                         ("Docker-Distribution-Api-Version", "registry/2.0")])
        return True

    def stop(self):
        super().stop()
        self.blob_host.stop()
