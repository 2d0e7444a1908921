"""The contract: api-spec/openapi.yaml and kegd never disagree.

Both directions are proved:

* Routes. Every (method, path) of the spec is served and every served route
  is in the spec: the spec's operations equal the lines of `kegd --routes`
  ("METHOD /pattern"). HEAD is implied by GET and is never listed. A route
  parameter that takes the rest of the path is written `{ref*}` by kegd; the
  spec writes it as an ordinary `{ref}` path parameter marked
  `x-keg-rest-of-path: true`, and the test maps one onto the other (and checks
  that the mark is there exactly for such parameters).
* Behaviour. For every operation a live scenario makes real requests to a
  real kegd (and a real docker-registry, registry.py) covering success and
  each documented error status; every response's status must be documented
  for that operation, its Content-Type must be one the spec gives for that
  status, its body must validate (JSON Schema 2020-12) against the schema the
  spec declares (JSON; NDJSON line by line against `x-keg-ndjson-line`; SSE
  events against `x-keg-sse-event`), its documented headers must be there
  and match, and the documented statuses must all have been exercised,
  except the few listed in NOT_TRIGGERABLE (with the reason),
  EXERCISED_ELSEWHERE (with the test) or KNOWN_SERVER_BUGS (with the strict
  xfail test that shows the bug). Request bodies and parameters are checked
  too: what the server accepted must validate against the spec's schema, and
  the malformed ones a scenario marks must not. Query parameters agree:
  every documented one is accepted and an undocumented one is refused.
* The spec itself: it is OpenAPI 3.1 with valid 2020-12 schemas, every $ref
  resolves, every error response uses the Error schema with only the codes
  that src/common/errcode.c maps to that status.

Adding a route means adding it to the spec and a scenario to SCENARIOS here;
the tests say so when either is missing.
"""
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
import uuid

import jsonschema
import pytest
import yaml
from jsonschema import Draft202012Validator

import conftest
import fronts

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.path.join(HERE, "..", ".."))
SPEC_FILE = os.path.join(SRCDIR, "api-spec", "openapi.yaml")
ERRCODE_C = os.path.join(SRCDIR, "src", "common", "errcode.c")

with open(SPEC_FILE) as _f:
    SPEC = yaml.safe_load(_f)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_BODY = conftest.TEST_CONFIG["http_max_body_bytes"]
MAX_HEAD = conftest.TEST_CONFIG.get("http_max_header_bytes", 16 * 1024)  # kegd default
STREAM_MAX_BODY = 64 << 30  # the limit of streamed bodies (not configurable)
NDJSON = {"Accept": "application/x-ndjson"}
EMPTY_DIGEST = "sha256:" + hashlib.sha256(b"").hexdigest()

# The shared daemon answers a stalled request quickly, so 408 costs little, and
# sends heartbeats often: a replay ends at the first one.
FAST_TIMEOUTS = {"http_header_timeout_ms": 500, "http_body_timeout_ms": 500,
                 "event_heartbeat_ms": 200}


# --- reading the spec ----------------------------------------------------------

def esc(token):
    """One JSON-pointer token."""
    return token.replace("~", "~0").replace("/", "~1")


def resolve(ptr):
    """The object at a local reference such as '#/components/schemas/Error'."""
    assert ptr.startswith("#/"), ptr
    node = SPEC
    for token in ptr[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(token)]
        else:
            assert token in node, "%s: no %r" % (ptr, token)
            node = node[token]
    return node


def deref(ptr):
    """Follows $ref objects (responses, parameters) to (pointer, object)."""
    obj = resolve(ptr)
    seen = set()
    while isinstance(obj, dict) and "$ref" in obj and len(obj) == 1:
        assert ptr not in seen, "reference loop at " + ptr
        seen.add(ptr)
        ptr = obj["$ref"]
        obj = resolve(ptr)
    return ptr, obj


def op_pointer(method, path):
    return "#/paths/%s/%s" % (esc(path), method.lower())


def spec_operations():
    return [(m.upper(), path) for path, item in SPEC["paths"].items()
            for m in HTTP_METHODS if m in item]


OPERATIONS = spec_operations()
OP_IDS = ["%s %s" % op for op in OPERATIONS]


def op_parameters(method, path):
    """Path-level and operation-level parameters merged, keyed (in, name),
    each as (pointer, object)."""
    out = {}
    item_ptr = "#/paths/" + esc(path)
    for base in (item_ptr, op_pointer(method, path)):
        for i, _ in enumerate(resolve(base).get("parameters", [])):
            ptr, p = deref("%s/parameters/%d" % (base, i))
            out[(p["in"], p["name"])] = (ptr, p)
    return out


def documented_statuses(method, path):
    return set(resolve(op_pointer(method, path))["responses"])


def streams_body(method, path):
    """Whether the operation takes its body as a stream (x-keg-streamed-body)."""
    body = resolve(op_pointer(method, path)).get("requestBody", {})
    return body.get("x-keg-streamed-body") is True


def error_responses():
    """(id, response pointer, HTTP status) of every error response: those of
    each operation, and MethodNotAllowed, which applies to every path."""
    out = []
    for method, path in OPERATIONS:
        for status in sorted(documented_statuses(method, path)):
            if int(status) >= 400:
                out.append(("%s %s %s" % (method, path, status),
                            op_pointer(method, path) + "/responses/" + status, status))
    out.append(("MethodNotAllowed", "#/components/responses/MethodNotAllowed", "405"))
    return out


ERROR_RESPONSES = error_responses()

_validators = {}


def validator(ptr):
    """A 2020-12 validator for the schema at ptr, with $refs resolved inside
    the spec: the root is the spec itself plus a $ref to ptr (the spec's own
    keys are not JSON Schema keywords, so they are ignored)."""
    v = _validators.get(ptr)
    if v is None:
        root = dict(SPEC)
        root["$ref"] = ptr
        v = _validators[ptr] = Draft202012Validator(root, format_checker=jsonschema.FormatChecker())
    return v


def assert_valid(ptr, instance, what):
    errors = sorted(validator(ptr).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "%s does not match %s:\n%s\n%s" % (
        what, ptr, json.dumps(instance)[:2000],
        "\n".join("- at /%s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:300])
                  for e in errors))


def is_valid(ptr, instance):
    return validator(ptr).is_valid(instance)


def errcodes():
    """{code: status} from src/common/errcode.c."""
    with open(ERRCODE_C) as f:
        text = f.read()
    pairs = re.findall(r'\[ERR_\w+\]\s*=\s*\{\s*"(\w+)"\s*,\s*(\d+)\s*\}', text)
    assert len(pairs) >= 10, "cannot read the code table of " + ERRCODE_C
    return {code: int(status) for code, status in pairs}


# --- the routes kegd serves ------------------------------------------------------

REST_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\*\}")


def served_routes():
    """{(METHOD, openapi path): set of rest-of-path parameter names}, from
    `kegd --routes`, with {name*} written {name}."""
    out = subprocess.run([conftest.KEGD, "--routes"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    routes = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        method, _, pattern = line.partition(" ")
        assert pattern.startswith("/"), "unexpected --routes line %r" % line
        key = (method, REST_PARAM.sub(r"{\1}", pattern))
        assert key not in routes, "route served twice: %r" % line
        routes[key] = set(REST_PARAM.findall(pattern))
    assert routes, "kegd --routes printed nothing"
    return routes


def rest_of_path_names(path):
    """The path parameters of a spec path marked x-keg-rest-of-path."""
    names = set()
    for m in SPEC["paths"][path]:
        if m in HTTP_METHODS:
            names |= {name for (where, name), (_, p) in op_parameters(m, path).items()
                      if where == "path" and p.get("x-keg-rest-of-path") is True}
    return names


def path_regex(path):
    """What concrete paths a spec path matches, as the router matches them:
    {x} one segment, a rest-of-path {x} everything that is left."""
    rest = rest_of_path_names(path)
    out, pos = "", 0
    for m in re.finditer(r"\{([^}]+)\}", path):
        out += re.escape(path[pos:m.start()]) + (".+" if m.group(1) in rest else "[^/]+")
        pos = m.end()
    return re.compile(out + re.escape(path[pos:]))


def methods_serving(concrete):
    """The methods of every spec path that matches a concrete path: the
    routes /v1/images/pull and /v1/images/{ref} both match /v1/images/pull."""
    out = set()
    for path, item in SPEC["paths"].items():
        if path_regex(path).fullmatch(concrete):
            out |= {m.upper() for m in item if m in HTTP_METHODS}
    return out


# --- checking live responses -----------------------------------------------------

def lower_headers(headers):
    return {k.lower(): v for k, v in headers.items()}


def ndjson_documents(body, what):
    """The lines of a whole NDJSON body, each parsed."""
    text = body.decode()
    assert text.endswith("\n"), "%s: NDJSON must end with a newline: %r" % (what, text[-200:])
    lines = text[:-1].split("\n")
    docs = []
    for line in lines:
        assert line.strip(), "%s: an empty NDJSON line in %r" % (what, text[:300])
        try:
            docs.append(json.loads(line))
        except ValueError:
            pytest.fail("%s: an NDJSON line is not JSON: %r" % (what, line[:300]))
    return docs


def check_operation_lines(media_ptr, docs, what, ended=True):
    """NDJSON lines of one operation: each validates against the media type's
    x-keg-ndjson-line, all have the same id, all but the last are running,
    and (when the stream has ended) the last is not."""
    assert docs, "%s: no NDJSON line" % what
    for i, doc in enumerate(docs):
        assert_valid(media_ptr + "/x-keg-ndjson-line", doc, "%s: NDJSON line %d" % (what, i))
    assert len({d["id"] for d in docs}) == 1, "%s: lines of several operations" % what
    assert all(d["state"] == "running" for d in docs[:-1]), \
        "%s: a line after the operation ended: %s" % (what, [d["state"] for d in docs])
    if ended:
        assert docs[-1]["state"] != "running", "%s: the stream ended while running" % what
    return docs


def check_response(resp_ptr, status, headers, body, code=None, what=""):
    """Checks one response against the response object at resp_ptr; returns
    the decoded JSON body, the list of NDJSON lines, or None."""
    ptr, resp = deref(resp_ptr)
    content = resp.get("content")
    ctype = headers.get("content-type")
    doc = None
    if not content:
        assert body == b"", "%s: %s documents no body, got %r" % (what, status, body[:200])
        assert ctype is None, "%s: %s documents no body, yet Content-Type %s" % (what, status, ctype)
    else:
        assert ctype in content, "%s: Content-Type %r, the spec gives %s for %s" % (
            what, ctype, sorted(content), status)
        media_ptr = ptr + "/content/" + esc(ctype)
        if ctype == "application/json":
            try:
                doc = json.loads(body)
            except ValueError:
                pytest.fail("%s: %s body is not JSON: %r" % (what, status, body[:300]))
            assert_valid(media_ptr + "/schema", doc, "%s: the %s body" % (what, status))
        elif ctype == "application/x-ndjson":
            docs = ndjson_documents(body, what)
            line = resolve(media_ptr).get("x-keg-ndjson-line", {})
            if line.get("$ref") == "#/components/schemas/Operation":
                doc = check_operation_lines(media_ptr, docs, what)
            else:
                for i, d in enumerate(docs):
                    assert_valid(media_ptr + "/x-keg-ndjson-line", d, "%s: line %d" % (what, i))
                doc = docs
    if code is not None:
        assert isinstance(doc, dict) and doc["error"]["code"] == code, \
            "%s: expected code %s, got %s" % (what, code, doc)
    for name, h in resp.get("headers", {}).items():
        value = headers.get(name.lower())
        if h.get("required"):
            assert value is not None, "%s: %s requires header %s" % (what, status, name)
        if value is not None:
            assert_valid("%s/headers/%s/schema" % (ptr, esc(name)), value,
                         "%s: header %s" % (what, name))
    return doc


def request_body_schema(method, path):
    body = resolve(op_pointer(method, path)).get("requestBody", {})
    if "application/json" in body.get("content", {}):
        return op_pointer(method, path) + "/requestBody/content/application~1json/schema"
    return None


class Exercise:
    """One operation's responses checked against the spec; records which
    documented statuses were seen."""

    def __init__(self, method, path):
        self.method, self.path = method, path
        self.ptr = op_pointer(method, path)
        self.op = resolve(self.ptr)
        self.seen = set()

    def _check_request(self, status, code, request, param, what):
        """A body or parameter the server accepted must be valid for the spec;
        one it refused with 400 (the scenario passes it only when the 400 is
        about it, and the rule is one a schema can say) must not be."""
        accepted = status != 400
        if request is not None:
            schema = request_body_schema(self.method, self.path)
            assert schema, "%s: no JSON request body to check" % what
            assert is_valid(schema, request) == accepted, \
                "%s: the server %s the body %s, the spec does not" % (
                    what, "accepted" if accepted else "refused", json.dumps(request)[:300])
        if param is not None:
            name, value = param
            found = [(ptr, p) for (where, n), (ptr, p) in
                     op_parameters(self.method, self.path).items() if n == name]
            assert found, "%s: no parameter %s" % (what, name)
            ptr, p = found[0]
            if p["schema"].get("type") == "array":
                values = value if isinstance(value, list) else [value]
                ok = all(is_valid(ptr + "/schema/items", v) for v in values)
            else:
                ok = is_valid(ptr + "/schema", value)
            assert ok == accepted, "%s: the server %s %s=%r, the spec does not" % (
                what, "accepted" if accepted else "refused", name, value)

    def _check(self, got, headers, body, status, code, what, request=None, param=None):
        what = "%s %s (%s)" % (self.method, self.path, what) if what else \
            "%s %s" % (self.method, self.path)
        assert got == status, "%s: expected %s, got %s: %r" % (what, status, got, body[:500])
        key = str(got)
        assert key in self.op["responses"], "%s: status %s is not documented" % (what, key)
        doc = check_response(self.ptr + "/responses/" + key, key, headers, body, code, what)
        self._check_request(got, code, request, param, what)
        self.seen.add(key)
        return doc

    def check(self, r, status, code=None, what="", request=None, param=None):
        """A requests response. request: the JSON body sent; param: (name,
        value) of a parameter sent, both checked against the spec."""
        return self._check(r.status_code, lower_headers(r.headers), r.content, status, code,
                           what, request, param)

    def check_raw(self, resp, status, code=None, what=""):
        """A (status, lowercased headers, body) from conftest.read_response."""
        return self._check(resp[0], resp[1], resp[2], status, code, what)

    def check_stream(self, r):
        """The head of a streamed 200 (SSE, or NDJSON still being written);
        returns the pointer of its media type."""
        assert r.status_code == 200, "%s %s: %s %r" % (self.method, self.path, r.status_code,
                                                       r.content[:300])
        ptr, resp = deref(self.ptr + "/responses/200")
        headers = lower_headers(r.headers)
        assert headers.get("content-type") in resp["content"], headers
        for name, h in resp.get("headers", {}).items():
            if h.get("required"):
                assert name.lower() in headers, "header %s missing" % name
            if name.lower() in headers:
                assert_valid("%s/headers/%s/schema" % (ptr, esc(name)), headers[name.lower()],
                             "header " + name)
        self.seen.add("200")
        return ptr + "/content/" + esc(headers["content-type"])


def fresh(prefix="ns"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def raw(k, data, timeout=10):
    """Sends bytes on a new connection; returns (status, headers, body)."""
    s = k.connect(timeout)
    try:
        s.sendall(data)
        return conftest.read_response(s)
    finally:
        s.close()


def exercise_protocol_errors(ex, k, path, skip=()):
    """The errors of the HTTP layer, which any operation can get. A streamed
    body's limit is 64 GiB instead of http_max_body_bytes."""
    start = ("%s %s" % (ex.method, path)).encode()
    limit = STREAM_MAX_BODY if streams_body(ex.method, ex.path) else MAX_BODY
    cases = [
        ("400", "bad_request", start + b" HTTP/1.1\r\nHost: x\r\nnot a header line\r\n\r\n"),
        ("408", "request_timeout", start + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"),
        ("413", "payload_too_large",
         start + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (limit + 1)),
        ("414", "uri_too_long", start + b"?q=" + b"a" * (MAX_HEAD + 100) + b" HTTP/1.1\r\n\r\n"),
        ("431", "headers_too_large",
         start + b" HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD + 100) + b"\r\n\r\n"),
    ]
    for status, code, data in cases:
        if status in skip:
            continue
        resp = raw(k, data)
        ex.check_raw(resp, int(status), code, what="HTTP layer " + code)
        assert resp[1].get("connection") == "close", "%s should close the connection" % code


class NdjsonReader:
    """Reads the lines of an NDJSON response that is still being written."""

    def __init__(self, r, media_ptr, what="NDJSON"):
        self.chunks = r.iter_content(chunk_size=None)
        self.media_ptr, self.what = media_ptr, what
        self.buf = b""
        self.docs = []
        self.ended = False

    def next(self, timeout=10):
        """The next line, checked; None at the end of the stream."""
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            assert time.time() < deadline, "%s: no line in time" % self.what
            try:
                chunk = next(self.chunks)
            except StopIteration:
                assert self.buf == b"", "%s: a last line without newline" % self.what
                self.ended = True
                check_operation_lines(self.media_ptr, self.docs, self.what)
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        doc = json.loads(line)
        self.docs.append(doc)
        check_operation_lines(self.media_ptr, self.docs, self.what, ended=False)
        return doc

    def until_end(self, timeout=10):
        while self.next(timeout) is not None:
            pass
        return self.docs


def follow(k, location, ns, timeout=30):
    """Polls an operation's Location until it has ended; each answer checked."""
    ex = Exercise("GET", "/v1/operations/{id}")
    deadline = time.time() + timeout
    while True:
        op = ex.check(k.get(location + "?namespace=" + ns), 200, what="following")
        if op["state"] != "running":
            return op
        assert time.time() < deadline, "operation still running: %s" % op
        time.sleep(0.05)


class SSEReader:
    """Reads Server-Sent Events from a streamed requests response."""

    def __init__(self, r):
        self.chunks = r.iter_content(chunk_size=None)
        self.buf = b""
        self.raw = b""
        self.comments = []
        self.last_block = None

    def _blocks(self, deadline):
        while True:
            while b"\n\n" in self.buf:
                block, self.buf = self.buf.split(b"\n\n", 1)
                yield block.decode()
            assert time.time() < deadline, "no SSE event in time; got %r" % self.raw[-500:]
            chunk = next(self.chunks)
            self.raw += chunk
            self.buf += chunk

    def next(self, timeout=10, stop_at_heartbeat=False):
        """The next event as {field: value}, or None at a heartbeat when
        stop_at_heartbeat (replay is written before the first heartbeat)."""
        for block in self._blocks(time.time() + timeout):
            fields = {}
            for line in block.split("\n"):
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    if stop_at_heartbeat and line[1:].strip() == "heartbeat":
                        return None
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                assert name not in fields or name == "data", "field %s twice in %r" % (name, block)
                fields[name] = fields[name] + "\n" + value if name in fields else value
            if fields:
                self.last_block = block
                return fields

    def until_heartbeat(self, timeout=10):
        events = []
        while True:
            ev = self.next(timeout, stop_at_heartbeat=True)
            if ev is None:
                return events
            events.append(ev)


SSE_FRAME = re.compile(r"id: [0-9]+\nevent: [^\n]+\ndata: [^\n]+")


def check_sse_event(media_ptr, fields, what="SSE event", block=None):
    """Validates one event's fields and its data envelope against the spec;
    returns the envelope. With block, also its framing: id, event, data."""
    if block is not None:
        assert SSE_FRAME.fullmatch(block), "%s: framing %r" % (what, block)
    ev_ptr = media_ptr + "/x-keg-sse-event"
    assert_valid(ev_ptr, fields, what)
    envelope = json.loads(fields["data"])
    assert_valid(ev_ptr + "/properties/data/contentSchema", envelope, what + " data")
    assert fields["id"] == str(envelope["id"]), (fields, envelope)
    assert fields["event"] == envelope["topic"], (fields, envelope)
    payloads = resolve("#/components/schemas/EventEnvelope").get("x-keg-topics", {})
    if envelope["topic"] in payloads:
        assert_valid(payloads[envelope["topic"]]["$ref"], envelope["event"],
                     "payload of " + envelope["topic"])
    return envelope


def open_events(k, query="", headers=None):
    return k.get("/v1/events" + query, stream=True, headers=headers or {}, timeout=(5, 10))


def create_namespace(k, name=None, labels=None):
    name = name or fresh()
    body = {"name": name}
    if labels is not None:
        body["labels"] = labels
    r = k.post("/v1/namespaces", body)
    assert r.status_code == 201, r.text
    return r.json()


def upload(k, data, ns):
    """PUT /v1/content/{digest}; the record."""
    r = k.request("PUT", "/v1/content/%s?namespace=%s" % (sha256(data), ns), data=data)
    assert r.status_code in (200, 201), r.text
    return r.json()


def pull_lines(k, ref, ns, **opts):
    """A pull followed as NDJSON; its lines."""
    r = k.post("/v1/images/pull?namespace=" + ns, dict(opts, ref=ref), headers=NDJSON,
               stream=True)
    assert r.status_code == 200, r.text
    return ndjson_documents(r.content, "pull " + ref)


def tag(k, ns, source, target=None):
    """A new name for source in ns; the image."""
    target = target or "spec/tagged-%s:1" % uuid.uuid4().hex[:8]
    r = k.post("/v1/images/tag?namespace=" + ns, {"source": source, "target": target})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def api():
    """One daemon shared by the live tests of this module (each uses its own
    names), with short request timeouts."""
    base = tempfile.mkdtemp(prefix="keg-openapi-")
    k = conftest.Kegd(os.path.join(base, "d"), config=FAST_TIMEOUTS)
    try:
        k.start()
        yield k
        k.stop()
        check_sanitizer = getattr(conftest, "check_sanitizer_reports", None)
        if check_sanitizer:
            check_sanitizer(k)
    finally:
        try:
            k.stop()
        finally:
            # Shims outlive kegd by design: end those this daemon left.
            conftest.cleanup_tasks(k)
            shutil.rmtree(base, ignore_errors=True)


class World:
    """What the image, content and operation scenarios share in `api`:
    ns             a namespace holding
    ref            busybox pulled from the fixture registry (canonical name),
    digest         its manifest digest, and
    partial        the multiarch index pulled for the host platform only
                   (incomplete: push and export of all platforms refuse it);
    pull_op        the id of busybox's (done) pull operation;
    front          a registry front whose blob answers stall after 100 bytes,
                   so a pull through it runs until cancelled;
    registry, images   the registry fixtures; archive() an OCI archive of
                   busybox made by skopeo, named spec/imported:1."""

    def __init__(self, k, registry, images, tmp):
        self.k, self.registry, self.images, self.tmp = k, registry, images, tmp
        self.ns = fresh("world")
        bb = images["busybox"]
        self.ref, self.digest = bb.ref, bb.digest
        last = pull_lines(k, bb.ref, self.ns)[-1]
        assert last["state"] == "done", last
        self.pull_op = last["id"]
        self.partial = images["multiarch"].ref
        last = pull_lines(k, self.partial, self.ns)[-1]
        assert last["state"] == "done", last
        self.front = fronts.SlowFront(registry.host, stall_after=100, stall_timeout=60).start()
        self._archive = None

    def stalled_ref(self):
        """An image a pull through the front never finishes: its config (962
        bytes, of no other image) stalls. Only pulls that get cancelled use it,
        so that no other pull waits on its blobs."""
        return "%s/multilayer:latest" % self.front.host

    def archive(self):
        if self._archive is None:
            path = os.path.join(self.tmp, "busybox-oci.tar")
            subprocess.run(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                            "docker://" + self.ref, "oci-archive:%s:spec/imported:1" % path],
                           check=True, capture_output=True, timeout=60)
            with open(path, "rb") as f:
                self._archive = f.read()
        return self._archive


@pytest.fixture(scope="module")
def world(api, registry, pushed_images, tmp_path_factory):
    w = World(api, registry, pushed_images, str(tmp_path_factory.mktemp("openapi")))
    yield w
    w.front.stop()
    for cid in (getattr(w, "_head_tasks", None) or ())[:2]:
        drop_task(api, w, cid)


@contextlib.contextmanager
def own_kegd(config=None):
    """A daemon of the test's own, whose log is not checked for sanitizer
    reports (for the strict xfail tests that trip a known server bug)."""
    base = tempfile.mkdtemp(prefix="keg-openapi-own-")
    k = conftest.Kegd(os.path.join(base, "d"), config=config)
    try:
        yield k.start()
    finally:
        try:
            k.stop()
        except Exception:
            pass
        conftest.cleanup_tasks(k)
        shutil.rmtree(base, ignore_errors=True)


# --- the spec itself ---------------------------------------------------------------

def test_spec_is_openapi_3_1_with_json_schema_2020_12():
    assert SPEC["openapi"].startswith("3.1.")
    assert SPEC["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert SPEC["info"]["title"] and SPEC["info"]["version"] == "v1"
    assert set(SPEC) <= {"openapi", "jsonSchemaDialect", "info", "servers", "paths",
                         "components", "tags", "security", "webhooks", "externalDocs"}


def _walk(node, ptr="#"):
    if isinstance(node, dict):
        yield ptr, node
        for k, v in node.items():
            yield from _walk(v, ptr + "/" + esc(str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, "%s/%d" % (ptr, i))


def test_every_ref_resolves():
    refs = [(ptr, n["$ref"]) for ptr, n in _walk(SPEC) if isinstance(n.get("$ref"), str)]
    assert refs
    for where, ref in refs:
        assert ref.startswith("#/"), "%s: only local references: %s" % (where, ref)
        resolve(ref)


def _schemas():
    """Pointers of every schema object the spec declares."""
    out = ["#/components/schemas/" + esc(n) for n in SPEC["components"]["schemas"]]
    for ptr, node in _walk(SPEC):
        if ptr.startswith("#/components/schemas/"):
            continue
        if isinstance(node.get("schema"), dict):
            out.append(ptr + "/schema")
        for ext in ("x-keg-sse-event", "x-keg-ndjson-line"):
            if isinstance(node.get(ext), dict):
                out.append(ptr + "/" + ext)
    return out


@pytest.mark.parametrize("ptr", _schemas())
def test_schema_is_valid_json_schema_2020_12(ptr):
    Draft202012Validator.check_schema(resolve(ptr))


def test_operations_are_documented():
    ids = [resolve(op_pointer(*op)).get("operationId") for op in OPERATIONS]
    assert all(ids), "every operation needs an operationId"
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    tags = {t["name"] for t in SPEC.get("tags", [])}
    for method, path in OPERATIONS:
        op = resolve(op_pointer(method, path))
        what = "%s %s" % (method, path)
        assert op.get("summary"), what + ": summary"
        assert op.get("tags") and set(op["tags"]) <= tags, what + ": tags"
        statuses = set(op["responses"])
        # 101: an HTTP Upgrade (attach) succeeds by switching protocols.
        assert any(s.startswith("2") or s == "101" for s in statuses), \
            what + ": no success response"
        # Every request can be refused by the HTTP layer or for a bad query.
        assert {"400", "408", "413", "414", "431"} <= statuses, what + ": HTTP layer errors"
        for status in statuses:
            assert re.fullmatch(r"[1-5][0-9][0-9]", status), what + ": status " + status
            assert deref(op_pointer(method, path) + "/responses/" + status)[1].get("description")
        if "requestBody" in op:
            body = op["requestBody"]
            # Not required only where an empty body is taken as {}.
            assert body.get("required") is True or body.get("x-keg-optional-body") is True, what
            if body.get("x-keg-streamed-body"):
                # Bytes, not JSON: media types without a schema (OpenAPI 3.1's
                # way to say "any bytes").
                assert "application/json" not in body["content"], what
                assert all(not m.get("schema") for m in body["content"].values()), what
                continue
            assert list(body["content"]) == ["application/json"], what
            ref = body["content"]["application/json"]["schema"]["$ref"]
            assert resolve(ref).get("additionalProperties") is False, \
                what + ": the server rejects unknown fields, so the schema must too"
        # Operations answer NDJSON exactly where they answer 202.
        if "202" in statuses:
            assert deref(op_pointer(method, path) + "/responses/202")[0] == \
                "#/components/responses/OperationAccepted", what
            assert deref(op_pointer(method, path) + "/responses/200")[0] == \
                "#/components/responses/OperationProgress", what


def test_component_object_schemas_are_closed():
    """Where the server's output is fixed, unknown fields must fail validation,
    so that drift is caught."""
    for name, schema in SPEC["components"]["schemas"].items():
        if "properties" in schema:
            assert schema.get("additionalProperties") is False, name


def test_ndjson_and_sse_media_types_describe_their_items():
    for ptr, node in _walk(SPEC):
        if "application/x-ndjson" in node and ptr.endswith("/content"):
            media = node["application/x-ndjson"]
            assert media.get("x-keg-ndjson-line"), ptr
        if "text/event-stream" in node and ptr.endswith("/content"):
            assert node["text/event-stream"].get("x-keg-sse-event"), ptr


@pytest.mark.parametrize("method,path", OPERATIONS, ids=OP_IDS)
def test_path_template_matches_path_parameters(method, path):
    template = set(re.findall(r"\{([^}]+)\}", path))
    declared = {name for (where, name) in op_parameters(method, path) if where == "path"}
    assert template == declared
    for (where, name), (_, p) in op_parameters(method, path).items():
        if where == "path":
            assert p.get("required") is True, name


@pytest.mark.parametrize("rid,ptr,status", ERROR_RESPONSES, ids=[e[0] for e in ERROR_RESPONSES])
def test_error_response_uses_error_schema(rid, ptr, status):
    rptr, resp = deref(ptr)
    assert list(resp.get("content", {})) == ["application/json"], rid
    schema = resp["content"]["application/json"]["schema"]
    assert schema.get("$ref") == "#/components/schemas/Error", \
        "%s: error responses use #/components/schemas/Error" % rid
    # Any narrowing must name only codes errcode.c maps to this status.
    codes = errcodes()
    narrowed = schema.get("properties", {}).get("error", {}).get("properties", {}).get("code", {})
    allowed = narrowed.get("enum") or ([narrowed["const"]] if "const" in narrowed else None)
    assert allowed, "%s: name the codes this status carries" % rid
    for code in allowed:
        assert codes.get(code) == int(status), \
            "%s: code %s is HTTP %s in errcode.c" % (rid, code, codes.get(code))


def test_error_codes_agree_with_errcode_c():
    codes = errcodes()
    code_schema = resolve("#/components/schemas/Error")["properties"]["error"]["properties"]["code"]
    assert sorted(code_schema["enum"]) == sorted(codes), "Error.code enum vs errcode.c"
    text = SPEC["info"]["description"]
    for code, status in codes.items():
        assert re.search(r"\|\s*%d\s*\|\s*`%s`\s*\|" % (status, code), text), \
            "info.description's error table lacks %d %s" % (status, code)
    # Every code a response can carry is documented under some status.
    documented = set()
    for _, ptr, _ in ERROR_RESPONSES:
        code = deref(ptr)[1]["content"]["application/json"]["schema"]["properties"]["error"][
            "properties"]["code"]
        documented.update(code.get("enum") or [code["const"]])
    reserved = set(code_schema.get("x-keg-not-returned-yet", []))
    op_only = set(code_schema.get("x-keg-operation-error-only", []))
    assert not documented & reserved, "returned, yet listed as x-keg-not-returned-yet: %s" % (
        sorted(documented & reserved))
    assert not documented & op_only, "an HTTP status, yet x-keg-operation-error-only: %s" % (
        sorted(documented & op_only))
    assert not reserved & op_only
    assert documented | reserved | op_only == set(codes), \
        "codes neither documented on a response nor listed as x-keg-not-returned-yet " \
        "or x-keg-operation-error-only: %s" % sorted(set(codes) - documented - reserved - op_only)
    # What an operation's error carries is a code of the table, and the codes
    # only operations carry are among them.
    op_codes = set(resolve("#/components/schemas/OperationError")["properties"]["code"]["enum"])
    assert op_codes <= set(codes) and op_only <= op_codes, (op_codes, op_only)


# --- routes: spec == kegd --routes ------------------------------------------------------

def test_every_spec_operation_is_served():
    served = served_routes()
    for method, path in OPERATIONS:
        if method == "HEAD":
            assert ("GET", path) in served, "HEAD %s: HEAD is implied by GET" % path
    missing = sorted(op for op in OPERATIONS if op[0] != "HEAD" and op not in served)
    assert not missing, "in the spec but not served by kegd: %s" % missing


def test_every_served_route_is_in_spec():
    spec = set(OPERATIONS)
    extra = sorted(route for route in served_routes() if route not in spec)
    assert not extra, "served by kegd but not in api-spec/openapi.yaml: %s" % extra


def test_rest_of_path_parameters_are_marked():
    for (method, path), rest in served_routes().items():
        if (method, path) not in OPERATIONS:
            continue  # reported by test_every_served_route_is_in_spec
        marked = {name for (where, name), (_, p) in op_parameters(method, path).items()
                  if where == "path" and p.get("x-keg-rest-of-path") is True}
        assert marked == rest, "%s %s: {x*} parameters %s, x-keg-rest-of-path on %s" % (
            method, path, sorted(rest), sorted(marked))


def test_streamed_bodies_are_the_routes_that_take_a_stream(api):
    """x-keg-streamed-body is where kegd takes more than http_max_body_bytes."""
    data = os.urandom(MAX_BODY + 1)
    r = api.request("PUT", "/v1/content/%s?namespace=%s" % (sha256(data), fresh()), data=data)
    assert r.status_code == 201, r.text
    r = api.post("/v1/images/import?namespace=" + fresh(), data=data)
    assert r.status_code == 202, r.text  # accepted; the operation fails: not an archive
    r = api.post("/v1/images/pull", data=b" " * (MAX_BODY + 1))
    assert r.status_code == 413, r.text
    streamed = {(m, p) for (m, p) in OPERATIONS if streams_body(m, p)}
    assert streamed == {("PUT", "/v1/content/{digest}"), ("POST", "/v1/images/import")}


# --- live scenarios, one per operation ----------------------------------------------------

def needs_world(fn):
    """The scenario takes (k, ex, world)."""
    fn.needs_world = True
    return fn


def simple_get(path):
    def scenario(k, ex):
        doc = ex.check(k.get(path), 200)
        ex.check(k.get(path + "?namespace=anything"), 200, what="namespace is ignored")
        ex.check(k.get(path + "?bogus=1"), 400, "invalid_argument", "unknown query parameter")
        exercise_protocol_errors(ex, k, path)
        return doc
    return scenario


def scenario_version(k, ex):
    doc = simple_get("/v1/version")(k, ex)
    assert doc["api_version"] == "v1"


def scenario_info(k, ex):
    doc = simple_get("/v1/info")(k, ex)
    assert doc["address"] == k.sock and doc["root"] == k.root and doc["state"] == k.state
    assert doc["pid"] == k.proc.pid


def scenario_plugins(k, ex):
    doc = simple_get("/v1/plugins")(k, ex)
    assert {("keg.http.v1", "api"), ("keg.metadata.v1", "sqlite"), ("keg.events.v1", "bus")} <= \
        {(p["type"], p["id"]) for p in doc["plugins"]}


def scenario_list_namespaces(k, ex):
    a, b = create_namespace(k, "b-" + fresh()), create_namespace(k, "a-" + fresh())
    doc = ex.check(k.get("/v1/namespaces"), 200)
    names = [n["name"] for n in doc["namespaces"]]
    assert names == sorted(names) and a["name"] in names and b["name"] in names
    assert a in doc["namespaces"]
    ex.check(k.get("/v1/namespaces?namespace=x"), 200)
    ex.check(k.get("/v1/namespaces?limit=1"), 400, "invalid_argument")
    exercise_protocol_errors(ex, k, "/v1/namespaces")


def scenario_create_namespace(k, ex):
    def post(data):
        return k.request("POST", "/v1/namespaces", data=data)

    name = fresh()
    body = {"name": name, "labels": {"team": "a"}}
    doc = ex.check(k.post("/v1/namespaces", body), 201, request=body)
    assert doc["name"] == name and doc["labels"] == {"team": "a"}
    assert doc["created_at"] == doc["updated_at"]
    assert ex.check(k.post("/v1/namespaces", {"name": fresh()}), 201)["labels"] == {}
    longest = "n" * 64 + uuid.uuid4().hex[:12]  # 76 characters
    assert ex.check(k.post("/v1/namespaces", {"name": longest}), 201)["name"] == longest
    at_limit = {"k": "v" * 4095}  # key and value: 4096 bytes together
    assert ex.check(k.post("/v1/namespaces", {"name": fresh(), "labels": at_limit}), 201)
    ex.check(k.post("/v1/namespaces", {"name": name}), 409, "already_exists")
    for data, what in [("", "no body"), ("{", "malformed"), ("[]", "not an object"),
                       ('{"name":"a","name":"b"}', "duplicate key")]:
        ex.check(post(data), 400, "invalid_json", what)
    bad = [({"name": fresh(), "nmae": 1}, "unknown field"),
           ({}, "no name"), ({"name": 5}, "name not a string"), ({"name": "-x"}, "bad name"),
           ({"name": "n" * 77}, "name too long"), ({"name": "a..b"}, "double separator"),
           ({"name": fresh(), "labels": []}, "labels not an object"),
           ({"name": fresh(), "labels": None}, "labels null"),
           ({"name": fresh(), "labels": {"k": 1}}, "label not a string"),
           ({"name": fresh(), "labels": {"": "v"}}, "empty label key"),
           ({"name": fresh(), "labels": {"k": "v" * 4096}}, "label too long"),
           ({"name": fresh(), "labels": {"k%d" % i: "v" for i in range(257)}}, "257 labels")]
    for body, what in bad:
        # Key and value together over 4096 bytes: a rule JSON Schema cannot say.
        schema_says = what != "label too long"
        ex.check(k.post("/v1/namespaces", body), 400, "invalid_argument", what,
                 request=body if schema_says else None)
    ex.check(k.post("/v1/namespaces?dry_run=1", {"name": fresh()}), 400, "invalid_argument")
    exercise_protocol_errors(ex, k, "/v1/namespaces")


def scenario_get_namespace(k, ex):
    ns = create_namespace(k, labels={"a": "1"})
    assert ex.check(k.get("/v1/namespaces/" + ns["name"]), 200) == ns
    ex.check(k.get("/v1/namespaces/" + fresh()), 404, "not_found")
    ex.check(k.get("/v1/namespaces/-bad"), 400, "invalid_argument", "bad name",
             param=("name", "-bad"))
    ex.check(k.get("/v1/namespaces/a%2Fb"), 400, "invalid_argument", "decoded '/'",
             param=("name", "a/b"))
    # requests would re-quote a malformed escape, so this one goes by hand.
    ex.check_raw(raw(k, b"GET /v1/namespaces/a%zz HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
                 "invalid_argument", "malformed escape")
    ex.check(k.get("/v1/namespaces/%s?namespace=x" % ns["name"]), 200)
    ex.check(k.get("/v1/namespaces/%s?watch=1" % ns["name"]), 400, "invalid_argument")
    exercise_protocol_errors(ex, k, "/v1/namespaces/" + ns["name"])


def scenario_update_namespace(k, ex):
    ns = create_namespace(k, labels={"a": "1", "b": "2"})
    path = "/v1/namespaces/" + ns["name"]
    body = {"labels": {"a": "x", "b": None, "c": "3"}}
    doc = ex.check(k.patch(path, body), 200, request=body)
    assert doc["labels"] == {"a": "x", "c": "3"}
    assert doc["created_at"] == ns["created_at"] and doc["updated_at"] >= ns["updated_at"]
    ex.check(k.patch("/v1/namespaces/" + fresh(), {"labels": {}}), 404, "not_found")
    for body, what in [({}, "no labels"), ({"labels": "x"}, "labels not an object"),
                       ({"labels": None}, "labels null"), ({"labels": {"k": 1}}, "not a string"),
                       ({"labels": {}, "name": "x"}, "unknown field")]:
        ex.check(k.patch(path, body), 400, "invalid_argument", what, request=body)
    ex.check(k.request("PATCH", path, data="{"), 400, "invalid_json")
    ex.check(k.patch("/v1/namespaces/a..b", {"labels": {}}), 400, "invalid_argument",
             param=("name", "a..b"))
    full = create_namespace(k, labels={"k%d" % i: "v" for i in range(256)})
    ex.check(k.patch("/v1/namespaces/" + full["name"], {"labels": {"one": "more"}}), 400,
             "invalid_argument", "257 labels after the merge")
    exercise_protocol_errors(ex, k, path)


def scenario_delete_namespace(k, ex):
    ns = create_namespace(k)
    path = "/v1/namespaces/" + ns["name"]
    ex.check(k.delete(path), 204)
    assert k.get(path).status_code == 404
    ex.check(k.delete(path), 404, "not_found", "deleted twice")
    ex.check(k.delete("/v1/namespaces/.x"), 400, "invalid_argument", param=("name", ".x"))
    ex.check(k.delete("/v1/namespaces/%s?force=1" % fresh()), 400, "invalid_argument")
    # Content in a namespace keeps it.
    busy = fresh()
    upload(k, b"keeps the namespace " + busy.encode(), busy)
    doc = ex.check(k.delete("/v1/namespaces/" + busy), 409, "failed_precondition", "not empty")
    assert "content" in doc["error"]["message"]
    exercise_protocol_errors(ex, k, path)


def scenario_stream_events(k, ex):
    ns = fresh()
    r = open_events(k, "?namespace=" + ns)
    try:
        media = ex.check_stream(r)
        sse = SSEReader(r)
        k.post("/v1/events?namespace=" + ns, {"topic": "/test/stream", "event": {"n": 1}})
        env = check_sse_event(media, sse.next(), block=sse.last_block)
        assert (env["namespace"], env["topic"], env["event"]) == (ns, "/test/stream", {"n": 1})
        assert sse.raw.startswith(b": keg event stream\n\n"), sse.raw[:100]
    finally:
        r.close()
    bad = [("?since=abc", None, "since not a number"), ("?since=-1", None, "negative since"),
           ("?since=", None, "empty since"), ("", {"Last-Event-ID": "x"}, "bad Last-Event-ID"),
           ("?topic=nope", None, "topic filter without /"), ("?topic=/a..b", None, "bad topic"),
           ("?namespace=-x", None, "bad namespace filter"),
           ("", {"Keg-Namespace": "a/b"}, "bad Keg-Namespace"),
           ("?follow=1", None, "unknown parameter")]
    for query, headers, what in bad:
        ex.check(k.get("/v1/events" + query, headers=headers or {}), 400, "invalid_argument", what)
    for query in ["?topic=%zz", "?namespace=a%0", "?since=%31%zz"]:
        ex.check_raw(raw(k, b"GET /v1/events%s HTTP/1.1\r\nHost: x\r\n\r\n" % query.encode()),
                     400, "invalid_argument", "malformed escape in " + query)
    exercise_protocol_errors(ex, k, "/v1/events")


def scenario_publish_event(k, ex):
    ns, hdr = fresh(), fresh()
    body = {"topic": "/test/publish", "event": {"k": [1, {"x": None}], "s": "v"}}
    env = ex.check(k.post("/v1/events?namespace=" + ns, body), 201, request=body)
    assert (env["namespace"], env["topic"], env["event"]) == (ns, body["topic"], body["event"])
    env2 = ex.check(k.post("/v1/events", body, headers={"Keg-Namespace": hdr}), 201)
    assert env2["namespace"] == hdr and env2["id"] > env["id"]
    env3 = ex.check(k.post("/v1/events?namespace=" + ns, body, headers={"Keg-Namespace": hdr}), 201)
    assert env3["namespace"] == ns, "the query parameter wins over the header"
    assert ex.check(k.post("/v1/events", body), 201)["namespace"] == "default"
    bad = [({"event": {}}, "no topic"), ({"topic": "x", "event": {}}, "topic without /"),
           ({"topic": "/a//b", "event": {}}, "empty topic part"),
           ({"topic": "/" + "a" * 77, "event": {}}, "topic part too long"),
           ({"topic": "/a"}, "no event"), ({"topic": "/a", "event": []}, "event not an object"),
           ({"topic": "/a", "event": "x"}, "event a string"),
           ({"topic": "/a", "event": {}, "namespace": "x"}, "unknown field")]
    for b, what in bad:
        ex.check(k.post("/v1/events", b), 400, "invalid_argument", what, request=b)
    ex.check(k.request("POST", "/v1/events", data="{]"), 400, "invalid_json")
    ex.check(k.post("/v1/events?namespace=a..b", body), 400, "invalid_argument",
             param=("namespace", "a..b"))
    ex.check(k.post("/v1/events", body, headers={"Keg-Namespace": "-"}), 400, "invalid_argument",
             param=("Keg-Namespace", "-"))
    ex.check(k.post("/v1/events?since=1", body), 400, "invalid_argument")
    exercise_protocol_errors(ex, k, "/v1/events")


# --- operations -------------------------------------------------------------------------

def bad_namespace_and_query(ex, k, method, path, **kw):
    """The 400s every namespaced endpoint gives for its query and header."""
    sep = "&" if "?" in path else "?"
    ex.check(k.request(method, path + sep + "namespace=-x", **kw), 400, "invalid_argument",
             "bad namespace", param=("namespace", "-x"))
    ex.check(k.request(method, path, headers={"Keg-Namespace": "a..b"}, **kw), 400,
             "invalid_argument", "bad Keg-Namespace", param=("Keg-Namespace", "a..b"))
    ex.check(k.request(method, path + sep + "bogus=1", **kw), 400, "invalid_argument",
             "unknown query parameter")


@needs_world
def scenario_list_operations(k, ex, w):
    doc = ex.check(k.get("/v1/operations?namespace=" + w.ns), 200)
    ops = doc["operations"]
    assert w.pull_op in [o["id"] for o in ops]
    assert [o["created_at"] for o in ops] == sorted((o["created_at"] for o in ops), reverse=True)
    assert {o["namespace"] for o in ops} == {w.ns}
    assert ex.check(k.get("/v1/operations", headers={"Keg-Namespace": w.ns}), 200) == doc
    assert ex.check(k.get("/v1/operations?namespace=" + fresh()), 200) == {"operations": []}
    bad_namespace_and_query(ex, k, "GET", "/v1/operations")
    exercise_protocol_errors(ex, k, "/v1/operations")


@needs_world
def scenario_get_operation(k, ex, w):
    path = "/v1/operations/" + w.pull_op
    op = ex.check(k.get(path + "?namespace=" + w.ns), 200)
    assert (op["kind"], op["state"], op["target"]) == ("pull", "done", w.ref)
    assert op["result"]["image"]["name"] == w.ref
    # NDJSON of an operation that has ended: one line, the same snapshot.
    lines = ex.check(k.get(path + "?namespace=" + w.ns, headers=NDJSON), 200, what="NDJSON")
    assert lines == [op]
    assert ex.check(k.get(path, headers={"Keg-Namespace": w.ns}), 200) == op
    ex.check(k.get(path + "?namespace=" + fresh()), 404, "not_found", "another namespace")
    ex.check(k.get("/v1/operations/%s?namespace=%s" % (uuid.uuid4().hex, w.ns)), 404,
             "not_found", "no such id")
    ex.check(k.get("/v1/operations/not-an-id?namespace=" + w.ns), 404, "not_found",
             param=("id", "not-an-id"))
    bad_namespace_and_query(ex, k, "GET", path)
    exercise_protocol_errors(ex, k, path)


def start_stalled_pull(k, w, ns):
    """A pull that runs until cancelled; its 202 answer (checked)."""
    body = {"ref": w.stalled_ref()}
    op = Exercise("POST", "/v1/images/pull").check(
        k.post("/v1/images/pull?namespace=" + ns, body), 202, what="stalled pull", request=body)
    assert op["state"] == "running", op
    return op


@needs_world
def scenario_cancel_operation(k, ex, w):
    ns = fresh()
    op = start_stalled_pull(k, w, ns)
    path = "/v1/operations/" + op["id"]
    # Follow it as NDJSON while it runs; cancelling ends the stream.
    watch_ex = Exercise("GET", "/v1/operations/{id}")
    r = k.get(path + "?namespace=" + ns, headers=NDJSON, stream=True, timeout=(5, 10))
    try:
        watch = NdjsonReader(r, watch_ex.check_stream(r), "following a stalled pull")
        assert watch.next()["state"] == "running"
        # Wait until the manifest has been read (the config then stalls).
        deadline = time.time() + 10
        while len((watch.docs[-1]["progress"] or {}).get("blobs", [])) < 2:
            assert time.time() < deadline, watch.docs[-1]
            watch.next()
        other = ex.check(k.delete(path + "?namespace=" + fresh()), 404, "not_found",
                         "another namespace")
        assert other["error"]["code"] == "not_found"
        doc = ex.check(k.delete(path + "?namespace=" + ns), 200)
        assert doc["state"] == "cancelled" and doc["error"]["code"] == "cancelled", doc
        lines = watch.until_end()
        assert lines[-1]["state"] == "cancelled" and lines[-1]["id"] == op["id"]
    finally:
        r.close()
    ex.check(k.delete(path, headers={"Keg-Namespace": ns}), 409, "failed_precondition",
             "cancelled twice")
    ex.check(k.delete("/v1/operations/%s?namespace=%s" % (w.pull_op, w.ns)), 409,
             "failed_precondition", "done")
    assert k.get("/v1/images/%s?namespace=%s" % (w.stalled_ref(), ns)).status_code == 404
    ex.check(k.delete("/v1/operations/%s?namespace=%s" % (uuid.uuid4().hex, ns)), 404,
             "not_found", "no such id")
    bad_namespace_and_query(ex, k, "DELETE", path)
    exercise_protocol_errors(ex, k, path)


# --- images -----------------------------------------------------------------------------

@needs_world
def scenario_pull(k, ex, w):
    ns = fresh()
    bb = w.images["busybox"]
    # NDJSON until done; into a namespace that does not exist yet.
    body = {"ref": bb.ref}
    lines = ex.check(k.post("/v1/images/pull", body, headers=dict(NDJSON, **{"Keg-Namespace": ns}),
                            stream=True), 200, what="NDJSON", request=body)
    end = lines[-1]
    assert end["state"] == "done" and end["kind"] == "pull" and end["namespace"] == ns, end
    image = end["result"]["image"]
    assert image["name"] == bb.ref and image["target"]["digest"] == bb.digest
    assert image["complete"] is True and image["platforms"] == ["linux/amd64"]
    assert {b["digest"] for b in end["progress"]["blobs"]} == \
        {bb.digest, bb.config_digest, *bb.layer_digests}
    # Unpacked by default into the default snapshotter.
    assert {b.get("unpack") for b in end["progress"]["blobs"]} == {None, "unpacked"}
    assert all(b["kind"] == "layer" for b in end["progress"]["blobs"] if "unpack" in b)
    assert list(image["unpacked"]) == ["overlayfs"], image
    # Into native, and without unpacking.
    body = {"ref": bb.ref, "snapshotter": "native"}
    end = ex.check(k.post("/v1/images/pull?namespace=" + ns, body, headers=NDJSON, stream=True),
                   200, what="native", request=body)[-1]
    assert sorted(end["result"]["image"]["unpacked"]) == ["native", "overlayfs"], end
    ns3 = fresh()
    body = {"ref": bb.ref, "unpack": False}
    end = ex.check(k.post("/v1/images/pull?namespace=" + ns3, body, headers=NDJSON, stream=True),
                   200, what="without unpacking", request=body)[-1]
    assert end["result"]["image"]["unpacked"] == {}, end
    assert "size_unpacked" not in end["result"]["image"]
    # An unknown tag: still 200, the last line says why.
    body = {"ref": w.registry.host + "/busybox:no-such-tag"}
    end = ex.check(k.post("/v1/images/pull?namespace=" + ns, body, headers=NDJSON, stream=True),
                   200, what="unknown tag", request=body)[-1]
    assert end["state"] == "failed" and end["error"]["code"] == "not_found", end
    # 202 and Location; one platform of an index (in a namespace of its own:
    # the amd64 manifest, busybox's, is present in ns).
    ma, ns2 = w.images["multiarch"], fresh()
    body = {"ref": ma.ref, "platform": "linux/arm64/v8", "auth": {"username": "u", "password": "p"}}
    r = k.post("/v1/images/pull?namespace=" + ns2, body)
    op = ex.check(r, 202, what="without Accept", request=body)
    assert r.headers["Location"] == "/v1/operations/" + op["id"]
    end = follow(k, r.headers["Location"], ns2)
    assert end["state"] == "done", end
    assert end["result"]["image"]["platforms"] == ["linux/arm64/v8"]
    # (Not the OCI index itself: push and export check blobs on disk, not in the
    # namespace, so its children must stay missing for world.partial.)
    md = w.images["multiarch_docker"]
    body = {"ref": md.ref, "all_platforms": True}
    end = ex.check(k.post("/v1/images/pull?namespace=" + ns, body, headers=NDJSON, stream=True),
                   200, what="all platforms", request=body)[-1]
    assert sorted(end["result"]["image"]["platforms"]) == sorted(md.platforms), end
    # Refused before any work starts.
    for data in ["", "{", "[]"]:
        ex.check(k.request("POST", "/v1/images/pull", data=data), 400, "invalid_json")
    bad = [({}, "no ref"), ({"ref": 5}, "ref not a string"), ({"ref": "BAD REF"}, "bad ref"),
           ({"ref": bb.ref, "platform": 5}, "platform not a string"),
           ({"ref": bb.ref, "platform": "linux/"}, "bad platform"),
           ({"ref": bb.ref, "all_platforms": "yes"}, "all_platforms not a boolean"),
           ({"ref": bb.ref, "auth": {"username": "u"}}, "auth without password"),
           ({"ref": bb.ref, "auth": {"username": "", "password": "p"}}, "empty user name"),
           ({"ref": bb.ref, "auth": "u:p"}, "auth not an object"),
           ({"ref": bb.ref, "unpack": "yes"}, "unpack not a boolean"),
           ({"ref": bb.ref, "snapshotter": ""}, "empty snapshotter"),
           ({"ref": bb.ref, "snapshotter": 5}, "snapshotter not a string"),
           ({"ref": bb.ref, "snapshotter": "zfs"}, "unknown snapshotter"),
           ({"ref": bb.ref, "tag": "1"}, "unknown field")]
    for b, what in bad:
        ex.check(k.post("/v1/images/pull", b, headers=NDJSON), 400, "invalid_argument", what,
                 request=b)
    bad_namespace_and_query(ex, k, "POST", "/v1/images/pull", data=json.dumps({"ref": bb.ref}))
    exercise_protocol_errors(ex, k, "/v1/images/pull")


@needs_world
def scenario_push(k, ex, w):
    remote = w.registry.host + "/spec/pushed-%s:1" % uuid.uuid4().hex[:8]
    body = {"ref": w.ref, "remote": remote}
    lines = ex.check(k.post("/v1/images/push?namespace=" + w.ns, body, headers=NDJSON,
                            stream=True), 200, what="NDJSON", request=body)
    end = lines[-1]
    assert end["state"] == "done" and end["kind"] == "push" and end["target"] == remote, end
    assert end["result"] == {"ref": remote, "digest": w.digest,
                             "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    assert w.registry.get_manifest(remote.split("/", 1)[1].split(":")[0],
                                   remote.rsplit(":", 1)[1])[2] == w.digest
    # 202; one platform of the partly pulled index.
    remote2 = w.registry.host + "/spec/pushed-%s:2" % uuid.uuid4().hex[:8]
    body = {"ref": w.partial, "remote": remote2, "platform": "linux/amd64"}
    r = k.post("/v1/images/push", body, headers={"Keg-Namespace": w.ns})
    ex.check(r, 202, what="without Accept", request=body)
    end = follow(k, r.headers["Location"], w.ns)
    assert end["state"] == "done", end
    assert end["result"]["digest"] == w.images["multiarch"].platforms["linux/amd64"]
    # Refused before any work starts.
    body = {"ref": "spec/nothing-here:1"}
    ex.check(k.post("/v1/images/push?namespace=" + w.ns, body), 404, "not_found", request=body)
    body = {"ref": w.partial, "remote": remote2}
    doc = ex.check(k.post("/v1/images/push?namespace=" + w.ns, body), 409, "failed_precondition",
                   "an index pulled for one platform", request=body)
    assert "platform" in doc["error"]["message"]
    for data in ["", "{", "[]"]:
        ex.check(k.request("POST", "/v1/images/push", data=data), 400, "invalid_json")
    bad = [({}, "no ref"), ({"ref": "BAD REF"}, "bad ref"),
           ({"ref": w.ref, "remote": 5}, "remote not a string"),
           ({"ref": w.ref, "remote": "BAD REF"}, "bad remote"),
           ({"ref": w.ref, "platform": 5}, "platform not a string"),
           ({"ref": w.ref, "platform": "linux/"}, "bad platform"),
           ({"ref": w.ref, "auth": {"password": "p"}}, "auth without user"),
           ({"ref": w.ref, "force": True}, "unknown field")]
    for b, what in bad:
        ex.check(k.post("/v1/images/push?namespace=" + w.ns, b), 400, "invalid_argument", what,
                 request=b)
    bad_namespace_and_query(ex, k, "POST", "/v1/images/push", data=json.dumps({"ref": w.ref}))
    exercise_protocol_errors(ex, k, "/v1/images/push")


@needs_world
def scenario_tag(k, ex, w):
    target = "spec/tag-%s:1" % uuid.uuid4().hex[:8]
    body = {"source": w.ref, "target": target}
    doc = ex.check(k.post("/v1/images/tag?namespace=" + w.ns, body), 201, request=body)
    assert doc["name"] == "docker.io/" + target and doc["target"]["digest"] == w.digest
    assert "manifests" not in doc
    ex.check(k.post("/v1/images/tag?namespace=" + w.ns, body), 409, "already_exists",
             request=body)
    body = {"source": w.partial, "target": target, "force": True}
    doc = ex.check(k.post("/v1/images/tag", body, headers={"Keg-Namespace": w.ns}), 201,
                   what="force replaces", request=body)
    assert doc["target"]["digest"] == w.images["multiarch"].digest
    body = {"source": "spec/nothing-here:1", "target": target + "x"}
    ex.check(k.post("/v1/images/tag?namespace=" + w.ns, body), 404, "not_found", request=body)
    ex.check(k.post("/v1/images/tag?namespace=" + fresh(), {"source": w.ref, "target": target}),
             404, "not_found", "another namespace")
    for data in ["", "{", "[]"]:
        ex.check(k.request("POST", "/v1/images/tag", data=data), 400, "invalid_json")
    bad = [({}, "nothing"), ({"source": w.ref}, "no target"), ({"target": target}, "no source"),
           ({"source": "BAD REF", "target": target}, "bad source"),
           ({"source": w.ref, "target": "BAD REF"}, "bad target"),
           ({"source": w.ref, "target": 5}, "target not a string"),
           ({"source": w.ref, "target": target, "force": "yes"}, "force not a boolean"),
           ({"source": w.ref, "target": target, "labels": {}}, "unknown field")]
    for b, what in bad:
        ex.check(k.post("/v1/images/tag?namespace=" + w.ns, b), 400, "invalid_argument", what,
                 request=b)
    bad_namespace_and_query(ex, k, "POST", "/v1/images/tag",
                            data=json.dumps({"source": w.ref, "target": target}))
    exercise_protocol_errors(ex, k, "/v1/images/tag")


@needs_world
def scenario_list_images(k, ex, w):
    doc = ex.check(k.get("/v1/images?namespace=" + w.ns), 200)
    names = [i["name"] for i in doc["images"]]
    assert names == sorted(names) and w.ref in names and w.partial in names
    assert all("unpacked" in i for i in doc["images"])
    ns = fresh()
    upload(k, b"a namespace for images " + ns.encode(), ns)
    assert ex.check(k.get("/v1/images?namespace=" + ns), 200) == {"images": []}
    # Label filters: KEY, KEY=VALUE, repeated (all must match).
    a = tag(k, w.ns, w.ref)["name"]
    b = tag(k, w.ns, w.ref)["name"]
    key = "spec.list/" + uuid.uuid4().hex[:8]
    for name, labels in [(a, {key: "x", "other": "1"}), (b, {key: "y"})]:
        assert k.patch("/v1/images/%s?namespace=%s" % (name, w.ns),
                       {"labels": labels}).status_code == 200

    def listed(query, param=None):
        got = ex.check(k.get("/v1/images?namespace=%s&%s" % (w.ns, query)), 200, param=param)
        return sorted(i["name"] for i in got["images"])

    q = urllib.parse.quote
    assert listed("label=" + q(key), ("label", key)) == sorted([a, b])
    assert listed("label=" + q(key + "=x"), ("label", key + "=x")) == [a]
    assert listed("label=%s&label=other" % q(key + "=y")) == []
    assert listed("label=%s&label=other" % q(key)) == [a]
    assert listed("label=" + q(key + "=")) == []
    ex.check(k.get("/v1/images?namespace=%s&label=" % w.ns), 400, "invalid_argument",
             "empty filter", param=("label", ""))
    ex.check(k.get("/v1/images?namespace=%s&label=%%3Dx" % w.ns), 400, "invalid_argument",
             "no key", param=("label", "=x"))
    ex.check_raw(raw(k, b"GET /v1/images?label=%zz HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
                 "invalid_argument", "malformed escape")
    bad_namespace_and_query(ex, k, "GET", "/v1/images")
    exercise_protocol_errors(ex, k, "/v1/images")


@needs_world
def scenario_get_image(k, ex, w):
    path = "/v1/images/" + w.ref
    doc = ex.check(k.get(path + "?namespace=" + w.ns), 200)
    bb = w.images["busybox"]
    assert doc["name"] == w.ref and doc["complete"] is True
    [m] = doc["manifests"]
    assert (m["digest"], m["config"], m["platform"]) == (bb.digest, bb.config_digest, "linux/amd64")
    # Pulled with the default unpack: its top chainID in the default snapshotter.
    assert list(doc["unpacked"]) == ["overlayfs"] and doc["size_unpacked"] > 0, doc
    assert [l["digest"] for l in m["layers"]] == bb.layer_digests
    # The index pulled for one platform: one manifest present of three.
    doc = ex.check(k.get("/v1/images/%s?namespace=%s" % (w.partial, w.ns)), 200, what="index")
    assert doc["target"]["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert [m["platform"] for m in doc["manifests"]] == ["linux/amd64"]
    # Any form of the reference finds the canonical name.
    t = tag(k, w.ns, w.ref, "spec/short-%s" % uuid.uuid4().hex[:8])
    short = t["name"].split("/", 1)[1].rsplit(":", 1)[0]
    assert t["name"] == "docker.io/%s:latest" % short
    assert ex.check(k.get("/v1/images/%s?namespace=%s" % (short, w.ns)), 200,
                    what="short form")["name"] == t["name"]
    assert ex.check(k.get("/v1/images/" + w.ref, headers={"Keg-Namespace": w.ns}), 200)
    ex.check(k.get(path + "?namespace=" + fresh()), 404, "not_found", "another namespace")
    ex.check(k.get("/v1/images/spec/nothing-here:1?namespace=" + w.ns), 404, "not_found")
    ex.check(k.get("/v1/images/%s@%s?namespace=%s" % (w.ref.rsplit(":", 1)[0], w.digest, w.ns)),
             404, "not_found", "by digest: not a stored name")
    ex.check(k.get("/v1/images/BAD%20REF"), 400, "invalid_argument", "bad ref",
             param=("ref", "BAD REF"))
    ex.check(k.get("/v1/images/busybox:"), 400, "invalid_argument", "empty tag")
    bad_namespace_and_query(ex, k, "GET", path)
    exercise_protocol_errors(ex, k, path)


@needs_world
def scenario_update_image(k, ex, w):
    name = tag(k, w.ns, w.ref)["name"]
    path = "/v1/images/%s?namespace=%s" % (name, w.ns)
    body = {"labels": {"a": "1", "b": "2"}}
    doc = ex.check(k.patch(path, body), 200, request=body)
    assert doc["labels"] == {"a": "1", "b": "2"} and doc["manifests"]
    body = {"labels": {"a": None, "c": "3"}}
    assert ex.check(k.patch(path, body), 200, request=body)["labels"] == {"b": "2", "c": "3"}
    ex.check(k.patch("/v1/images/spec/nothing-here:1?namespace=" + w.ns, {"labels": {}}), 404,
             "not_found")
    for data in ["", "{", "[]"]:
        ex.check(k.request("PATCH", path, data=data), 400, "invalid_json")
    for body, what in [({}, "no labels"), ({"labels": "x"}, "labels not an object"),
                       ({"labels": None}, "labels null"), ({"labels": {"k": 1}}, "not a string"),
                       ({"labels": {"": "v"}}, "empty key"),
                       ({"labels": {}, "name": "x"}, "unknown field")]:
        ex.check(k.patch(path, body), 400, "invalid_argument", what, request=body)
    ex.check(k.patch(path, {"labels": {"k%d" % i: "v" for i in range(255)}}), 400,
             "invalid_argument", "257 labels after the merge")
    ex.check(k.patch("/v1/images/BAD%20REF", {"labels": {}}), 400, "invalid_argument",
             param=("ref", "BAD REF"))
    bad_namespace_and_query(ex, k, "PATCH", "/v1/images/" + name, data='{"labels":{}}')
    exercise_protocol_errors(ex, k, "/v1/images/" + name)


@needs_world
def scenario_delete_image(k, ex, w):
    name = tag(k, w.ns, w.ref)["name"]
    path = "/v1/images/%s?namespace=%s" % (name, w.ns)
    ex.check(k.delete(path), 204)
    assert k.get(path).status_code == 404
    assert k.get("/v1/content/%s?namespace=%s" % (w.digest, w.ns)).status_code == 200, \
        "the content stays"
    ex.check(k.delete(path), 404, "not_found", "deleted twice")
    ex.check(k.delete("/v1/images/" + w.ref + "?namespace=" + fresh()), 404, "not_found")
    ex.check(k.delete("/v1/images/BAD%20REF"), 400, "invalid_argument", param=("ref", "BAD REF"))
    bad_namespace_and_query(ex, k, "DELETE", "/v1/images/" + name)
    exercise_protocol_errors(ex, k, "/v1/images/" + name)


def post_archive(k, data, query="", headers=None):
    h = {"Content-Type": "application/x-tar"}
    h.update(headers or {})
    return k.post("/v1/images/import" + query, data=data, headers=h, stream=True)


@needs_world
def scenario_import(k, ex, w):
    ns = fresh()
    archive = w.archive()
    lines = ex.check(post_archive(k, archive, "?namespace=" + ns, NDJSON), 200, what="NDJSON")
    end = lines[-1]
    assert end["state"] == "done" and end["kind"] == "import", end
    assert end["result"] == {"images": [{"name": "docker.io/spec/imported:1",
                                         "digest": w.digest}]}
    assert end["progress"]["done_bytes"] == len(archive)
    got = k.get("/v1/images/spec/imported:1?namespace=" + ns).json()
    assert got["target"]["digest"] == w.digest and got["complete"] is True
    # Chunked (no Content-Length), with base_name: 202, then followed.
    r = post_archive(k, iter([archive[:5000], archive[5000:]]),
                     "?base_name=spec/base&namespace=" + ns)
    op = ex.check(r, 202, what="chunked, without Accept", param=("base_name", "spec/base"))
    assert op["target"] == "spec/base"
    assert follow(k, r.headers["Location"], ns)["state"] == "done"
    # Not an archive: still 200 (or 202), the operation fails.
    end = ex.check(post_archive(k, os.urandom(4096), "", dict(NDJSON, **{"Keg-Namespace": ns})),
                   200, what="garbage")[-1]
    assert end["state"] == "failed" and end["error"]["code"] == "invalid_argument", end
    r = post_archive(k, b"", "?namespace=" + ns)
    ex.check(r, 202, what="empty body")
    assert follow(k, r.headers["Location"], ns)["state"] == "failed"
    # Refused before the body is read.
    ex.check(post_archive(k, archive, "?base_name=BAD%20NAME"), 400, "invalid_argument",
             "bad base_name", param=("base_name", "BAD NAME"))
    bad_namespace_and_query(ex, k, "POST", "/v1/images/import", data=b"x")
    exercise_protocol_errors(ex, k, "/v1/images/import")


def tar_members(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


@needs_world
def scenario_export(k, ex, w):
    body = {"refs": [w.ref]}
    r = k.post("/v1/images/export?namespace=" + w.ns, body)
    ex.check(r, 200, request=body)
    files = tar_members(r.content)
    bb = w.images["busybox"]
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    assert [m["digest"] for m in json.loads(files["index.json"])["manifests"]] == [w.digest]
    for d in [w.digest, bb.config_digest, *bb.layer_digests]:
        assert sha256(files["blobs/sha256/" + d[7:]]) == d
    body = {"refs": [w.partial, w.ref, w.ref], "platform": "linux/amd64"}
    r = k.post("/v1/images/export", body, headers={"Keg-Namespace": w.ns})
    ex.check(r, 200, what="two images, one platform", request=body)
    assert len(json.loads(tar_members(r.content)["index.json"])["manifests"]) == 2
    body = {"refs": [w.ref, "spec/nothing-here:1"]}
    ex.check(k.post("/v1/images/export?namespace=" + w.ns, body), 404, "not_found", request=body)
    ex.check(k.post("/v1/images/export?namespace=" + fresh(), {"refs": [w.ref]}), 404,
             "not_found", "another namespace")
    body = {"refs": [w.partial], "all_platforms": True}
    doc = ex.check(k.post("/v1/images/export?namespace=" + w.ns, body), 409,
                   "failed_precondition", "all platforms of a partial index", request=body)
    assert "not in the content store" in doc["error"]["message"]
    body = {"refs": [w.ref], "platform": "linux/arm64"}
    ex.check(k.post("/v1/images/export?namespace=" + w.ns, body), 409, "failed_precondition",
             "another platform", request=body)
    for data in ["", "{", "[]"]:
        ex.check(k.request("POST", "/v1/images/export", data=data), 400, "invalid_json")
    bad = [({}, "no refs"), ({"refs": []}, "empty refs"), ({"refs": "busybox"}, "not an array"),
           ({"refs": [1]}, "a ref not a string"), ({"refs": ["BAD REF"]}, "a bad ref"),
           ({"refs": ["busybox"], "names": []}, "unknown field"),
           ({"refs": ["busybox"], "platform": "linux/"}, "bad platform"),
           ({"refs": ["busybox"], "platform": 5}, "platform not a string"),
           ({"refs": ["busybox"], "all_platforms": "yes"}, "all_platforms not a boolean"),
           ({"refs": ["busybox"], "platform": "linux/amd64", "all_platforms": True}, "both"),
           ({"refs": ["x"] * 257}, "257 refs")]
    for b, what in bad:
        ex.check(k.post("/v1/images/export?namespace=" + w.ns, b), 400, "invalid_argument", what,
                 request=b)
    bad_namespace_and_query(ex, k, "POST", "/v1/images/export", data=json.dumps({"refs": [w.ref]}))
    exercise_protocol_errors(ex, k, "/v1/images/export")


# --- content ----------------------------------------------------------------------------

BAD_DIGESTS = ["sha256:xyz", "sha256:" + "A" * 64, "sha512:" + "a" * 128, "md5:" + "a" * 32,
               "a" * 64]


def check_bad_digests(ex, k, method, path_of, **kw):
    for d in BAD_DIGESTS:
        ex.check(k.request(method, path_of(d), **kw), 400, "invalid_argument", "digest " + d,
                 param=("digest", d))


@needs_world
def scenario_list_content(k, ex, w):
    doc = ex.check(k.get("/v1/content?namespace=" + w.ns), 200)
    digests = [c["digest"] for c in doc["content"]]
    bb = w.images["busybox"]
    assert digests == sorted(digests) and {w.digest, bb.config_digest} <= set(digests)
    manifest = next(c for c in doc["content"] if c["digest"] == w.digest)
    assert manifest["labels"]["containerd.io/gc.ref.content.config"] == bb.config_digest
    ns = fresh()
    a = upload(k, b"list a " + ns.encode(), ns)["digest"]
    b = upload(k, b"list b " + ns.encode(), ns)["digest"]
    assert k.patch("/v1/content/%s?namespace=%s" % (a, ns), {"labels": {"k": "1"}}).ok
    assert k.patch("/v1/content/%s?namespace=%s" % (b, ns), {"labels": {"k": "2"}}).ok
    got = ex.check(k.get("/v1/content", headers={"Keg-Namespace": ns}), 200)
    assert sorted(c["digest"] for c in got["content"]) == sorted([a, b])
    got = ex.check(k.get("/v1/content?namespace=%s&label=k%%3D2" % ns), 200,
                   param=("label", "k=2"))
    assert [c["digest"] for c in got["content"]] == [b]
    got = ex.check(k.get("/v1/content?namespace=%s&label=k&label=nope" % ns), 200)
    assert got == {"content": []}
    ex.check(k.get("/v1/content?label="), 400, "invalid_argument", param=("label", ""))
    bad_namespace_and_query(ex, k, "GET", "/v1/content")
    exercise_protocol_errors(ex, k, "/v1/content")


@needs_world
def scenario_list_ingests(k, ex, w):
    # An upload cut short leaves its bytes as an ingest.
    data = b"an upload cut short " + uuid.uuid4().hex.encode()
    d = sha256(data)
    s = k.connect()
    s.sendall(b"PUT /v1/content/%s?namespace=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
              % (d.encode(), fresh().encode(), len(data)) + data[:7])
    deadline = time.time() + 5
    try:
        while True:
            doc = ex.check(k.get("/v1/content/ingests"), 200)
            mine = [i for i in doc["ingests"] if i["ref"] == "upload-" + d]
            if mine and mine[0]["offset"] == 7:
                break
            assert time.time() < deadline, doc
            time.sleep(0.02)
    finally:
        s.close()
    assert (mine[0]["total"], mine[0]["expected"]) == (len(data), d)
    ex.check(k.get("/v1/content/ingests?namespace=-ignored-"), 200, what="namespace is ignored")
    ex.check(k.get("/v1/content/ingests?label=x"), 400, "invalid_argument")
    exercise_protocol_errors(ex, k, "/v1/content/ingests")


@needs_world
def scenario_get_content(k, ex, w):
    path = "/v1/content/" + w.digest
    doc = ex.check(k.get(path + "?namespace=" + w.ns), 200)
    assert doc["digest"] == w.digest and doc["size"] == len(w.images["busybox"].manifest)
    assert ex.check(k.get(path, headers={"Keg-Namespace": w.ns}), 200) == doc
    ex.check(k.get(path + "?namespace=" + fresh()), 404, "not_found", "another namespace",
             param=("digest", w.digest))
    ex.check(k.get("/v1/content/" + EMPTY_DIGEST + "?namespace=" + w.ns), 404, "not_found")
    check_bad_digests(ex, k, "GET", lambda d: "/v1/content/" + d)
    bad_namespace_and_query(ex, k, "GET", path)
    exercise_protocol_errors(ex, k, path)


@needs_world
def scenario_update_content(k, ex, w):
    ns = fresh()
    d = upload(k, b"labelled " + ns.encode(), ns)["digest"]
    path = "/v1/content/%s?namespace=%s" % (d, ns)
    body = {"labels": {"containerd.io/gc.root": "now", "b": "2"}}
    doc = ex.check(k.patch(path, body), 200, request=body)
    assert doc["labels"] == body["labels"] and doc["updated_at"] >= doc["created_at"]
    body = {"labels": {"b": None}}
    assert ex.check(k.patch(path, body), 200, request=body)["labels"] == \
        {"containerd.io/gc.root": "now"}
    ex.check(k.patch("/v1/content/%s?namespace=%s" % (EMPTY_DIGEST, ns), {"labels": {}}), 404,
             "not_found")
    for data in ["", "{", "[]"]:
        ex.check(k.request("PATCH", path, data=data), 400, "invalid_json")
    for body, what in [({}, "no labels"), ({"labels": []}, "labels not an object"),
                       ({"labels": {"k": 1}}, "not a string"),
                       ({"labels": {"k": "v" * 4097}}, "too long"),
                       ({"labels": {}, "size": 1}, "unknown field")]:
        ex.check(k.patch(path, body), 400, "invalid_argument", what, request=body)
    ex.check(k.patch(path, {"labels": {"k%d" % i: "v" for i in range(256)}}), 400,
             "invalid_argument", "257 labels after the merge")
    check_bad_digests(ex, k, "PATCH", lambda x: "/v1/content/" + x, data='{"labels":{}}')
    bad_namespace_and_query(ex, k, "PATCH", "/v1/content/" + d, data='{"labels":{}}')
    exercise_protocol_errors(ex, k, "/v1/content/" + d)


@needs_world
def scenario_delete_content(k, ex, w):
    ns, other = fresh(), fresh()
    data = b"deleted " + ns.encode()
    d = upload(k, data, ns)["digest"]
    upload(k, data, other)
    path = "/v1/content/%s?namespace=%s" % (d, ns)
    ex.check(k.delete(path), 204)
    assert k.get(path).status_code == 404
    r = k.get("/v1/content/%s/blob?namespace=%s" % (d, other))
    assert r.content == data, "the bytes stay while another namespace has them"
    ex.check(k.delete(path), 404, "not_found", "deleted twice")
    check_bad_digests(ex, k, "DELETE", lambda x: "/v1/content/" + x)
    bad_namespace_and_query(ex, k, "DELETE", "/v1/content/" + d)
    exercise_protocol_errors(ex, k, "/v1/content/" + d)


@needs_world
def scenario_read_blob(k, ex, w):
    ns = fresh()
    data = os.urandom(100)
    d = upload(k, data, ns)["digest"]
    path = "/v1/content/%s/blob?namespace=%s" % (d, ns)
    r = k.get(path)
    ex.check(r, 200)
    assert r.content == data and r.headers["Docker-Content-Digest"] == d
    for rng, part, cr in [("bytes=10-19", data[10:20], "bytes 10-19/100"),
                          ("bytes=90-", data[90:], "bytes 90-99/100"),
                          ("bytes=-5", data[95:], "bytes 95-99/100"),
                          ("bytes=95-500", data[95:], "bytes 95-99/100"),
                          ("bytes=-500", data, "bytes 0-99/100")]:
        r = k.get(path, headers={"Range": rng})
        ex.check(r, 206, what=rng, param=("Range", rng))
        assert (r.content, r.headers["Content-Range"]) == (part, cr), rng
    for rng in ["bytes=100-", "bytes=5-1", "bytes=0-1,5-6", "bytes=-0", "items=0-1", "bytes=x"]:
        r = k.get(path, headers={"Range": rng})
        ex.check(r, 400, "invalid_argument", "Range " + rng)
        assert r.headers["Content-Range"] == "bytes */100", rng
    # An empty blob ignores Range.
    e = upload(k, b"", ns)["digest"]
    r = k.get("/v1/content/%s/blob?namespace=%s" % (e, ns), headers={"Range": "bytes=0-1"})
    ex.check(r, 200, what="empty blob with Range")
    assert r.content == b""
    # The whole busybox layer, through sendfile.
    bb = w.images["busybox"]
    r = k.get("/v1/content/%s/blob" % bb.layer_digests[0], headers={"Keg-Namespace": w.ns})
    ex.check(r, 200, what="a layer")
    assert sha256(r.content) == bb.layer_digests[0]
    ex.check(k.get("/v1/content/%s/blob?namespace=%s" % (d, fresh())), 404, "not_found",
             "another namespace")
    # Recorded, but the bytes are gone.
    gone = upload(k, b"bytes gone " + ns.encode(), ns)["digest"]
    os.unlink(os.path.join(k.root, "content", "blobs", "sha256", gone[7:]))
    doc = ex.check(k.get("/v1/content/%s/blob?namespace=%s" % (gone, ns)), 404, "not_found",
                   "no bytes on disk")
    assert "disk" in doc["error"]["message"]
    check_bad_digests(ex, k, "GET", lambda x: "/v1/content/%s/blob" % x)
    bad_namespace_and_query(ex, k, "GET", "/v1/content/%s/blob" % d)
    exercise_protocol_errors(ex, k, "/v1/content/%s/blob" % d)


@needs_world
def scenario_upload(k, ex, w):
    ns = fresh()
    data = b"uploaded " + ns.encode()
    d = sha256(data)
    path = "/v1/content/%s?namespace=%s" % (d, ns)
    doc = ex.check(k.request("PUT", path, data=data), 201, what="into a new namespace")
    assert (doc["digest"], doc["size"], doc["labels"]) == (d, len(data), {})
    assert k.get("/v1/namespaces/" + ns).status_code == 200, "the namespace was created"
    ex.check(k.request("PUT", path, data=data), 200, what="again")
    ex.check(k.request("PUT", "/v1/content/" + d, data=iter([data[:5], data[5:]]),
                       headers={"Keg-Namespace": fresh()}), 201, what="chunked, elsewhere")
    doc = ex.check(k.request("PUT", path.replace(d, sha256(b"other")), data=data), 400,
                   "invalid_argument", "wrong bytes")
    assert "digest mismatch" in doc["error"]["message"]
    assert k.get("/v1/content/%s?namespace=%s" % (sha256(b"other"), ns)).status_code == 404
    # While one upload of a digest is in progress, another is refused; the
    # first one's hang-up frees the digest.
    busy = os.urandom(64)
    bd = sha256(busy)
    s = k.connect()
    try:
        s.sendall(b"PUT /v1/content/%s?namespace=%s HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 64\r\n\r\n" % (bd.encode(), ns.encode()) + busy[:10])
        time.sleep(0.1)
        ex.check(k.request("PUT", "/v1/content/%s?namespace=%s" % (bd, ns), data=busy), 503,
                 "unavailable", "the same digest in progress")
    finally:
        s.close()
    deadline = time.time() + 5
    while True:
        r = k.request("PUT", "/v1/content/%s?namespace=%s" % (bd, ns), data=busy)
        if r.status_code != 503 or time.time() > deadline:
            break
        time.sleep(0.02)
    ex.check(r, 201, what="after the first one hung up")
    check_bad_digests(ex, k, "PUT", lambda x: "/v1/content/" + x, data=b"x")
    bad_namespace_and_query(ex, k, "PUT", "/v1/content/" + d, data=data)
    exercise_protocol_errors(ex, k, "/v1/content/" + sha256(os.urandom(8)))


# --- snapshots --------------------------------------------------------------------------

def sq(key):
    """A snapshot key as one path segment ('/' as %2F)."""
    return urllib.parse.quote(key, safe="")


def snap(k, ns, key, parent=None, view=False, **body):
    """POST /v1/snapshots/prepare (or view); the snapshot."""
    body = dict(body, key=key)
    if parent is not None:
        body["parent"] = parent
    r = k.post("/v1/snapshots/%s?namespace=%s" % ("view" if view else "prepare", ns), body)
    assert r.status_code == 201, r.text
    return r.json()


def snap_commit(k, ns, name, key, **body):
    r = k.post("/v1/snapshots/commit?namespace=" + ns, dict(body, name=name, key=key))
    assert r.status_code == 201, r.text
    return r.json()


def committed_layer(k, ns, name="spec/l1"):
    """A committed snapshot name in ns (prepared and committed)."""
    work = "work-" + uuid.uuid4().hex[:8]
    snap(k, ns, work)
    return snap_commit(k, ns, name, work)["key"]


BAD_SNAPSHOT_BODIES = [
    ({}, "no key"), ({"key": 5}, "key not a string"), ({"key": ""}, "empty key"),
    ({"key": "k" * 4097}, "key too long"), ({"key": "n", "bogus": 1}, "unknown field"),
    ({"key": "n", "labels": {"a": 1}}, "label not a string"),
    ({"key": "n", "labels": []}, "labels not an object"),
    ({"key": "n", "parent": 5}, "parent not a string"),
    ({"key": "n", "snapshotter": "zfs"}, "unknown snapshotter")]


def bad_snapshot_keys(ex, k, method, suffix="", **kw):
    """Keys that are not UTF-8 text of 1..4096 bytes."""
    ex.check(k.request(method, "/v1/snapshots/%FF" + suffix, **kw), 400, "invalid_argument",
             "key not UTF-8")
    ex.check(k.request(method, "/v1/snapshots/" + "k" * 4097 + suffix, **kw), 400,
             "invalid_argument", "key too long", param=("key", "k" * 4097))


def snapshot_body_errors(ex, k, path, bad, base):
    for data in ["", "{", "[]"]:
        ex.check(k.request("POST", path, data=data), 400, "invalid_json")
    for b, what in bad:
        ex.check(k.post(path, b), 400, "invalid_argument", what, request=b)
    ex.check(k.post(path + "?snapshotter=zfs", base), 400, "invalid_argument",
             "unknown snapshotter", param=("snapshotter", "zfs"))
    other = dict(base, snapshotter="overlayfs")
    ex.check(k.post(path + "?snapshotter=native", other), 400, "invalid_argument",
             "query and body disagree")
    bad_namespace_and_query(ex, k, "POST", path, data=json.dumps(base))
    exercise_protocol_errors(ex, k, path)


def scenario_list_snapshots(k, ex):
    ns = fresh()
    snap(k, ns, "spec/b")
    snap(k, ns, "a", labels={"x": "1"})
    doc = ex.check(k.get("/v1/snapshots?namespace=" + ns), 200)
    assert [s["key"] for s in doc["snapshots"]] == ["a", "spec/b"]
    assert ex.check(k.get("/v1/snapshots", headers={"Keg-Namespace": ns}), 200) == doc
    got = ex.check(k.get("/v1/snapshots?snapshotter=native&namespace=" + ns), 200,
                   param=("snapshotter", "native"))
    assert got == {"snapshots": []}
    assert ex.check(k.get("/v1/snapshots?namespace=" + fresh()), 200) == {"snapshots": []}
    ex.check(k.get("/v1/snapshots?snapshotter=zfs"), 400, "invalid_argument",
             param=("snapshotter", "zfs"))
    bad_namespace_and_query(ex, k, "GET", "/v1/snapshots")
    exercise_protocol_errors(ex, k, "/v1/snapshots")


def scenario_prepare_snapshot(k, ex):
    ns = fresh()
    path = "/v1/snapshots/prepare?namespace=" + ns
    body = {"key": "spec/a", "labels": {"x": "1"}}
    doc = ex.check(k.post(path, body), 201, what="empty", request=body)
    assert (doc["key"], doc["kind"], doc["snapshotter"], doc["labels"]) == \
        ("spec/a", "active", "overlayfs", {"x": "1"}) and "parent" not in doc
    l1 = committed_layer(k, ns)
    body = {"key": "spec/child", "parent": l1}
    doc = ex.check(k.post(path, body), 201, what="on a parent", request=body)
    assert doc["parent"] == l1 and doc["mounts"]
    body = {"key": "n", "snapshotter": "native", "parent": ""}
    doc = ex.check(k.post(path, body), 201, what="native", request=body)
    assert doc["snapshotter"] == "native" and doc["mounts"][0]["type"] == "bind"
    body = {"key": "spec/a"}
    ex.check(k.post(path, body), 409, "already_exists", request=body)
    ex.check(k.post(path, {"key": l1}), 409, "already_exists", "a committed name")
    body = {"key": "x", "parent": "nope"}
    ex.check(k.post(path, body), 404, "not_found", "no such parent", request=body)
    ex.check(k.post(path, {"key": "x", "parent": "spec/a"}), 400, "invalid_argument",
             "an active parent")
    snapshot_body_errors(ex, k, "/v1/snapshots/prepare", BAD_SNAPSHOT_BODIES, {"key": "y"})


def scenario_view_snapshot(k, ex):
    ns = fresh()
    path = "/v1/snapshots/view?namespace=" + ns
    l1 = committed_layer(k, ns)
    body = {"key": "spec/v", "parent": l1, "labels": {"a": "b"}}
    doc = ex.check(k.post(path, body), 201, request=body)
    assert (doc["kind"], doc["parent"]) == ("view", l1)
    assert "ro" in doc["mounts"][0]["options"]
    body = {"key": "spec/v", "parent": l1}
    ex.check(k.post(path, body), 409, "already_exists", request=body)
    body = {"key": "w", "parent": "nope"}
    ex.check(k.post(path, body), 404, "not_found", request=body)
    bad = [({"key": "w"}, "no parent")] + [
        (dict(b, parent=l1) if "parent" not in b and b else b, what)
        for b, what in BAD_SNAPSHOT_BODIES]
    snapshot_body_errors(ex, k, "/v1/snapshots/view", bad, {"key": "w", "parent": l1})


def scenario_commit_snapshot(k, ex):
    ns = fresh()
    path = "/v1/snapshots/commit?namespace=" + ns
    snap(k, ns, "work/1", labels={"gone": "1"})
    body = {"name": "spec/c1", "key": "work/1", "labels": {"kept": "1"}}
    doc = ex.check(k.post(path, body), 201, request=body)
    assert (doc["key"], doc["kind"], doc["labels"]) == ("spec/c1", "committed", {"kept": "1"})
    assert k.get("/v1/snapshots/work%%2F1?namespace=%s" % ns).status_code == 404
    body = {"name": "x", "key": "nope"}
    ex.check(k.post(path, body), 404, "not_found", request=body)
    body = {"name": "x", "key": "spec/c1"}
    ex.check(k.post(path, body), 409, "failed_precondition", "committed", request=body)
    snap(k, ns, "v", "spec/c1", view=True)
    ex.check(k.post(path, {"name": "x", "key": "v"}), 409, "failed_precondition", "a view")
    snap(k, ns, "work/2")
    body = {"name": "spec/c1", "key": "work/2"}
    ex.check(k.post(path, body), 409, "already_exists", "name taken", request=body)
    bad = [({"key": "work/2"}, "no name"), ({"name": "x"}, "no key"),
           ({"name": "", "key": "work/2"}, "empty name"),
           ({"name": 5, "key": "work/2"}, "name not a string"),
           ({"name": "x", "key": "work/2", "parent": "y"}, "unknown field"),
           ({"name": "x", "key": "work/2", "labels": {"a": 1}}, "label not a string"),
           ({"name": "x", "key": "work/2", "snapshotter": "zfs"}, "unknown snapshotter")]
    snapshot_body_errors(ex, k, "/v1/snapshots/commit", bad, {"name": "z", "key": "work/2"})


def scenario_stat_snapshot(k, ex):
    ns = fresh()
    key = "spec/a/b"
    made = snap(k, ns, key, labels={"x": "1"})
    path = "/v1/snapshots/" + sq(key)
    doc = ex.check(k.get(path + "?namespace=" + ns), 200, param=("key", key))
    made.pop("mounts")
    assert doc == made
    assert ex.check(k.get(path, headers={"Keg-Namespace": ns}), 200) == doc
    for odd in ["..", ".", "%2F", "sp ace"]:
        snap(k, ns, odd)
        got = ex.check(k.get("/v1/snapshots/%s?namespace=%s" % (sq(odd), ns)), 200,
                       what="key " + odd)
        assert got["key"] == odd
    ex.check(k.get(path + "?namespace=" + fresh()), 404, "not_found", "another namespace")
    ex.check(k.get("%s?snapshotter=native&namespace=%s" % (path, ns)), 404, "not_found",
             "another snapshotter")
    bad_snapshot_keys(ex, k, "GET")
    bad_namespace_and_query(ex, k, "GET", path)
    exercise_protocol_errors(ex, k, path)


def scenario_update_snapshot(k, ex):
    ns = fresh()
    snap(k, ns, "spec/u", labels={"a": "1", "b": "2"})
    path = "/v1/snapshots/spec%%2Fu?namespace=%s" % ns
    body = {"labels": {"a": None, "c": "3"}}
    doc = ex.check(k.patch(path, body), 200, request=body)
    assert doc["labels"] == {"b": "2", "c": "3"} and doc["updated_at"] >= doc["created_at"]
    ex.check(k.patch("/v1/snapshots/nope?namespace=" + ns, {"labels": {}}), 404, "not_found")
    for data in ["", "{", "[]"]:
        ex.check(k.request("PATCH", path, data=data), 400, "invalid_json")
    for body, what in [({}, "no labels"), ({"labels": "x"}, "labels not an object"),
                       ({"labels": {"k": 1}}, "not a string"),
                       ({"labels": {}, "key": "x"}, "unknown field")]:
        ex.check(k.patch(path, body), 400, "invalid_argument", what, request=body)
    bad_snapshot_keys(ex, k, "PATCH", data='{"labels":{}}')
    bad_namespace_and_query(ex, k, "PATCH", "/v1/snapshots/spec%2Fu", data='{"labels":{}}')
    exercise_protocol_errors(ex, k, "/v1/snapshots/spec%2Fu")


def scenario_remove_snapshot(k, ex):
    ns = fresh()
    l1 = committed_layer(k, ns, "spec/base")
    snap(k, ns, "spec/child", l1)
    path = "/v1/snapshots/%s?namespace=%s" % (sq(l1), ns)
    doc = ex.check(k.delete(path), 409, "failed_precondition", "with children")
    assert k.get(path).status_code == 200, doc
    ex.check(k.delete("/v1/snapshots/spec%%2Fchild?namespace=%s" % ns), 204, what="the child")
    ex.check(k.delete(path), 204)
    assert k.get(path).status_code == 404
    ex.check(k.delete(path), 404, "not_found", "removed twice")
    bad_snapshot_keys(ex, k, "DELETE")
    bad_namespace_and_query(ex, k, "DELETE", "/v1/snapshots/x")
    exercise_protocol_errors(ex, k, "/v1/snapshots/x")


def scenario_snapshot_mounts(k, ex):
    ns = fresh()
    l1 = committed_layer(k, ns)
    snap(k, ns, "spec/m", l1)
    path = "/v1/snapshots/spec%2Fm/mounts"
    doc = ex.check(k.get(path + "?namespace=" + ns), 200)
    [m] = doc["mounts"]
    assert m["type"] in ("overlay", "bind")
    snap(k, ns, "n", snapshotter="native")
    doc = ex.check(k.get("/v1/snapshots/n/mounts?snapshotter=native&namespace=" + ns), 200,
                   what="native")
    assert doc["mounts"][0]["type"] == "bind" and "rw" in doc["mounts"][0]["options"]
    ex.check(k.get("/v1/snapshots/%s/mounts?namespace=%s" % (sq(l1), ns)), 409,
             "failed_precondition", "committed")
    ex.check(k.get("/v1/snapshots/nope/mounts?namespace=" + ns), 404, "not_found")
    bad_snapshot_keys(ex, k, "GET", "/mounts")
    bad_namespace_and_query(ex, k, "GET", path)
    exercise_protocol_errors(ex, k, path)


def scenario_snapshot_usage(k, ex):
    ns = fresh()
    made = snap(k, ns, "spec/u", snapshotter="native")
    with open(os.path.join(made["mounts"][0]["source"], "f"), "wb") as f:
        f.write(b"x" * 10000)
    path = "/v1/snapshots/spec%2Fu/usage?snapshotter=native&namespace=" + ns
    doc = ex.check(k.get(path), 200)
    assert doc["inodes"] >= 2 and doc["size"] >= 10000, doc
    l1 = committed_layer(k, ns)
    ex.check(k.get("/v1/snapshots/%s/usage?namespace=%s" % (sq(l1), ns)), 200, what="committed")
    ex.check(k.get("/v1/snapshots/nope/usage?namespace=" + ns), 404, "not_found")
    bad_snapshot_keys(ex, k, "GET", "/usage")
    bad_namespace_and_query(ex, k, "GET", "/v1/snapshots/spec%2Fu/usage")
    exercise_protocol_errors(ex, k, "/v1/snapshots/spec%2Fu/usage")


# --- image mounts -----------------------------------------------------------------------

def is_mount_point(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


@contextlib.contextmanager
def mount_dirs():
    """A private directory for mount targets; whatever is mounted under it is
    taken off at the end."""
    base = os.path.realpath(tempfile.mkdtemp(prefix="keg-openapi-mnt-"))
    try:
        yield base
    finally:
        for name in os.listdir(base):
            p = os.path.join(base, name)
            while is_mount_point(p):
                subprocess.run(["umount", "-l", p], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def drop_mount_snapshot(k, ns, target):
    for sn in ("overlayfs", "native"):
        k.delete("/v1/snapshots/%s?snapshotter=%s&namespace=%s" % (sq("mount:" + target), sn, ns))


@needs_world
def scenario_mount_image(k, ex, w):
    path = "/v1/images/mount?namespace=" + w.ns
    with mount_dirs() as base:
        t1, t2, t3 = (os.path.join(base, n) for n in ("t1", "t2", "t3"))
        for t in (t1, t2, t3):
            os.mkdir(t)
        try:
            body = {"ref": w.ref, "target": t1}
            doc = ex.check(k.post(path, body), 201, request=body)
            assert (doc["target"], doc["image"], doc["rw"], doc["key"]) == \
                (t1, w.ref, False, "mount:" + t1)
            assert doc["chain_id"] == k.get(
                "/v1/images/%s?namespace=%s" % (w.ref, w.ns)).json()["unpacked"][doc["snapshotter"]]
            assert "bin" in os.listdir(t1)
            ex.check(k.post(path, body), 409, "failed_precondition", "not empty", request=body)
            # Taken off by hand, its snapshot stays: the target is free, the key is not.
            subprocess.run(["umount", t1], check=True)
            ex.check(k.post(path, body), 409, "already_exists", "the mount's snapshot is there",
                     request=body)
            body = {"ref": w.ref, "target": t2, "rw": True, "snapshotter": "overlayfs"}
            doc = ex.check(k.post("/v1/images/mount", body, headers={"Keg-Namespace": w.ns}),
                           201, what="rw", request=body)
            assert doc["rw"] is True
            with open(os.path.join(t2, "written"), "w") as f:
                f.write("x")
            body = {"ref": w.ref, "target": t3, "snapshotter": "native"}
            ex.check(k.post(path, body), 409, "failed_precondition", "not unpacked there",
                     request=body)
            body = {"ref": "spec/nothing-here:1", "target": t3}
            ex.check(k.post(path, body), 404, "not_found", "no such image", request=body)
            ex.check(k.post("/v1/images/mount?namespace=" + fresh(), {"ref": w.ref, "target": t3}),
                     404, "not_found", "another namespace")
            body = {"ref": w.ref, "target": os.path.join(base, "nope")}
            ex.check(k.post(path, body), 404, "not_found", "no such target", request=body)
            with open(os.path.join(base, "file"), "w"):
                pass
            ex.check(k.post(path, {"ref": w.ref, "target": os.path.join(base, "file")}), 400,
                     "invalid_argument", "not a directory")
            inside = tempfile.mkdtemp(dir=k.root)
            ex.check(k.post(path, {"ref": w.ref, "target": inside}), 400, "invalid_argument",
                     "inside kegd's root")
            for data in ["", "{", "[]"]:
                ex.check(k.request("POST", path, data=data), 400, "invalid_json")
            bad = [({"target": t3}, "no ref"), ({"ref": w.ref}, "no target"),
                   ({"ref": w.ref, "target": "relative"}, "relative target"),
                   ({"ref": w.ref, "target": 5}, "target not a string"),
                   ({"ref": "BAD REF", "target": t3}, "bad ref"),
                   ({"ref": w.ref, "target": t3, "rw": "yes"}, "rw not a boolean"),
                   ({"ref": w.ref, "target": t3, "snapshotter": 5}, "snapshotter not a string"),
                   ({"ref": w.ref, "target": t3, "rm": True}, "unknown field")]
            for b, what in bad:
                ex.check(k.post(path, b), 400, "invalid_argument", what, request=b)
            bad_namespace_and_query(ex, k, "POST", "/v1/images/mount",
                                    data=json.dumps({"ref": w.ref, "target": t3}))
            exercise_protocol_errors(ex, k, "/v1/images/mount")
        finally:
            for t in (t1, t2, t3):
                while is_mount_point(t):
                    subprocess.run(["umount", "-l", t], capture_output=True)
                drop_mount_snapshot(k, w.ns, t)


@needs_world
def scenario_unmount_image(k, ex, w):
    path = "/v1/images/unmount?namespace=" + w.ns
    mount = "/v1/images/mount?namespace=" + w.ns
    with mount_dirs() as base:
        t1, t2 = os.path.join(base, "t1"), os.path.join(base, "t2")
        os.mkdir(t1)
        os.mkdir(t2)
        try:
            assert k.post(mount, {"ref": w.ref, "target": t1}).status_code == 201
            body = {"target": t1}
            doc = ex.check(k.post(path, body), 200, what="a view", request=body)
            assert doc == {"target": t1, "snapshotter": "overlayfs", "key": "mount:" + t1,
                           "removed": True}
            assert not is_mount_point(t1) and os.listdir(t1) == []
            ex.check(k.post(path, body), 404, "not_found", "unmounted twice", request=body)
            # rw: kept unless rm; a busy target cannot be unmounted.
            assert k.post(mount, {"ref": w.ref, "target": t2, "rw": True}).status_code == 201
            fd = os.open(os.path.join(t2, "bin"), os.O_RDONLY)
            try:
                body = {"target": t2, "snapshotter": "overlayfs"}
                ex.check(k.post(path, body), 409, "failed_precondition", "busy", request=body)
            finally:
                os.close(fd)
            body = {"target": t2}
            doc = ex.check(k.post("/v1/images/unmount", body, headers={"Keg-Namespace": w.ns}),
                           200, what="rw, kept", request=body)
            assert doc["removed"] is False
            key = "/v1/snapshots/%s?namespace=%s" % (sq("mount:" + t2), w.ns)
            assert k.get(key).json()["kind"] == "active"
            # No longer a mount point: only the snapshot is left, rm removes it.
            body = {"target": t2, "rm": True}
            doc = ex.check(k.post(path, body), 200, what="rm", request=body)
            assert doc["removed"] is True and k.get(key).status_code == 404
            body = {"target": os.path.join(base, "nope")}
            ex.check(k.post(path, body), 404, "not_found", "no such target", request=body)
            for data in ["", "{", "[]"]:
                ex.check(k.request("POST", path, data=data), 400, "invalid_json")
            bad = [({}, "no target"), ({"target": "relative"}, "relative target"),
                   ({"target": t2, "rm": "yes"}, "rm not a boolean"),
                   ({"target": t2, "snapshotter": 5}, "snapshotter not a string"),
                   ({"target": t2, "rw": True}, "unknown field")]
            for b, what in bad:
                ex.check(k.post(path, b), 400, "invalid_argument", what, request=b)
            bad_namespace_and_query(ex, k, "POST", "/v1/images/unmount",
                                    data=json.dumps({"target": t2}))
            exercise_protocol_errors(ex, k, "/v1/images/unmount")
        finally:
            for t in (t1, t2):
                while is_mount_point(t):
                    subprocess.run(["umount", "-l", t], capture_output=True)
                drop_mount_snapshot(k, w.ns, t)


# --- containers -------------------------------------------------------------------------

def new_container(k, w, cid=None, **body):
    """A container made from the world's busybox; its id."""
    cid = cid or fresh("c")
    r = k.post("/v1/containers?namespace=" + w.ns, dict(body, id=cid, image=w.ref))
    assert r.status_code == 201, r.text
    return cid


def drop_container(k, w, cid):
    k.delete("/v1/containers/%s?namespace=%s" % (cid, w.ns))


def bad_container_ids(ex, k, method, suffix="", **kw):
    for bad, what in (("..%2Fetc", "../ in the id"), ("-x", "not an identifier"),
                      ("x" * 77, "77 characters")):
        ex.check(k.request(method, "/v1/containers/" + bad + suffix, **kw), 400,
                 "invalid_argument", what)


@needs_world
def scenario_list_containers(k, ex, w):
    a = new_container(k, w, labels={"spec-tier": "web"})
    b = new_container(k, w)
    try:
        doc = ex.check(k.get("/v1/containers?namespace=" + w.ns), 200)
        ids = [c["id"] for c in doc["containers"]]
        assert a in ids and b in ids and ids == sorted(ids)
        got = ex.check(k.get("/v1/containers?label=spec-tier=web&namespace=" + w.ns), 200,
                       param=("label", "spec-tier=web"))
        assert [c["id"] for c in got["containers"]] == [a]
        assert ex.check(k.get("/v1/containers", headers={"Keg-Namespace": w.ns}), 200) == doc
        assert ex.check(k.get("/v1/containers?namespace=" + fresh()), 200) == {"containers": []}
        ex.check(k.get("/v1/containers?label=%3Dx"), 400, "invalid_argument", "empty key",
                 param=("label", "=x"))
        bad_namespace_and_query(ex, k, "GET", "/v1/containers")
        exercise_protocol_errors(ex, k, "/v1/containers")
    finally:
        drop_container(k, w, a)
        drop_container(k, w, b)


@needs_world
def scenario_create_container(k, ex, w):
    path = "/v1/containers?namespace=" + w.ns
    cid = fresh("c")
    try:
        body = {"id": cid, "image": w.ref, "labels": {"a": "b"}, "options": {"env": ["X=1"]},
                "runtime": {"name": "io.containerd.runc.v2",
                            "options": {"binary_name": "runc"}}}
        doc = ex.check(k.post(path, body), 201, request=body)
        assert (doc["id"], doc["image"], doc["snapshot_key"]) == (cid, w.ref, cid)
        assert "X=1" in doc["spec"]["process"]["env"]
        ex.check(k.post(path, body), 409, "already_exists", "the id is taken", request=body)
        body = {"id": fresh("c"), "image": w.ref, "snapshot_key": cid, "readonly": True}
        ex.check(k.post(path, body), 409, "already_exists", "the key is taken", request=body)
        body = {"id": fresh("c"), "image": w.ref, "snapshotter": "native"}
        ex.check(k.post(path, body), 409, "failed_precondition", "not unpacked there",
                 request=body)
        body = {"id": fresh("c"), "image": "spec/nothing-here:1"}
        ex.check(k.post(path, body), 404, "not_found", "no such image", request=body)
        for data in ["", "{", "[]"]:
            ex.check(k.request("POST", path, data=data), 400, "invalid_json")
        bad = [({"image": w.ref}, "no id"), ({"id": "ok"}, "no image"),
               ({"id": "../x", "image": w.ref}, "../ in the id"),
               ({"id": "x" * 4097, "image": w.ref}, "4097-byte id"),
               ({"id": 5, "image": w.ref}, "id not a string"),
               ({"id": "ok", "image": "BAD REF"}, "bad reference"),
               ({"id": "ok", "image": w.ref, "readonly": "yes"}, "readonly not a boolean"),
               ({"id": "ok", "image": w.ref, "snapshotter": "zfs"}, "unknown snapshotter"),
               ({"id": "ok", "image": w.ref, "options": {"bogus": 1}}, "unknown option"),
               ({"id": "ok", "image": w.ref, "options": {"tty": "yes"}}, "tty not a boolean"),
               ({"id": "ok", "image": w.ref, "runtime": {"name": "io.containerd.kata.v2"}},
                "another runtime"),
               ({"id": "ok", "image": w.ref, "runtime": {"options": {"binary_name": "a/b"}}},
                "relative binary path"),
               ({"id": "ok", "image": w.ref, "labels": {"a": 1}}, "label not a string"),
               ({"id": "ok", "image": w.ref, "extensions": []}, "extensions not an object"),
               ({"id": "ok", "image": w.ref, "bogus": 1}, "unknown field")]
        for b, what in bad:
            ex.check(k.post(path, b), 400, "invalid_argument", what, request=b)
        assert k.get("/v1/containers/ok?namespace=" + w.ns).status_code == 404
        bad_namespace_and_query(ex, k, "POST", "/v1/containers",
                                data=json.dumps({"id": "ok", "image": w.ref}))
        exercise_protocol_errors(ex, k, "/v1/containers")
    finally:
        drop_container(k, w, cid)


@needs_world
def scenario_get_container(k, ex, w):
    cid = new_container(k, w)
    try:
        doc = ex.check(k.get("/v1/containers/%s?namespace=%s" % (cid, w.ns)), 200)
        assert doc["id"] == cid and doc["spec"]["root"]["path"] == "rootfs"
        ex.check(k.get("/v1/containers/%s" % cid), 404, "not_found", "another namespace")
        bad_container_ids(ex, k, "GET")
        bad_namespace_and_query(ex, k, "GET", "/v1/containers/" + cid)
        exercise_protocol_errors(ex, k, "/v1/containers/" + cid)
    finally:
        drop_container(k, w, cid)


@needs_world
def scenario_update_container(k, ex, w):
    cid = new_container(k, w)
    path = "/v1/containers/%s?namespace=%s" % (cid, w.ns)
    try:
        body = {"labels": {"a": "1"}, "extensions": {"e": {"v": 1}},
                "runtime": {"options": {"binary_name": "/usr/bin/crun"}}}
        doc = ex.check(k.patch(path, body), 200, request=body)
        assert doc["labels"]["a"] == "1" and doc["extensions"] == {"e": {"v": 1}}
        spec = doc["spec"]
        body = {"spec": spec, "image": w.ref}
        ex.check(k.patch(path, body), 200, what="spec and image", request=body)
        ex.check(k.patch("/v1/containers/nope?namespace=" + w.ns, {"labels": {}}), 404,
                 "not_found")
        for data in ["", "{", "[]"]:
            ex.check(k.request("PATCH", path, data=data), 400, "invalid_json")
        bad = [({"snapshot_key": "x"}, "the snapshot is fixed"),
               ({"runtime": {"name": "x"}}, "another runtime"),
               ({"labels": {"a": 5}}, "label not a string"),
               ({"spec": []}, "spec not an object"),
               ({"image": "BAD REF"}, "bad reference")]
        for b, what in bad:
            ex.check(k.patch(path, b), 400, "invalid_argument", what, request=b)
        bad_container_ids(ex, k, "PATCH", data='{"labels":{}}')
        bad_namespace_and_query(ex, k, "PATCH", "/v1/containers/" + cid, data='{"labels":{}}')
        exercise_protocol_errors(ex, k, "/v1/containers/" + cid)
    finally:
        drop_container(k, w, cid)


@needs_world
def scenario_delete_container(k, ex, w):
    cid = new_container(k, w)
    busy = new_container(k, w)
    db = sqlite3.connect(os.path.join(k.root, "metadata.db"), timeout=10)
    try:
        db.execute("INSERT INTO tasks (namespace, container_id, status, created_at, updated_at)"
                   " VALUES (?, ?, 'stopped', 1, 1)", (w.ns, busy))
        db.commit()
        ex.check(k.delete("/v1/containers/%s?namespace=%s" % (busy, w.ns)), 409,
                 "failed_precondition", "a task row exists")
        ex.check(k.delete("/v1/containers/%s?namespace=%s" % (cid, w.ns)), 204)
        assert k.get("/v1/snapshots/%s?namespace=%s" % (cid, w.ns)).status_code == 404
        ex.check(k.delete("/v1/containers/%s?namespace=%s" % (cid, w.ns)), 404, "not_found")
        bad_container_ids(ex, k, "DELETE")
        bad_namespace_and_query(ex, k, "DELETE", "/v1/containers/x")
        exercise_protocol_errors(ex, k, "/v1/containers/x")
    finally:
        db.execute("DELETE FROM tasks WHERE namespace = ? AND container_id = ?", (w.ns, busy))
        db.commit()
        db.close()
        drop_container(k, w, cid)
        drop_container(k, w, busy)


@needs_world
def scenario_label_container(k, ex, w):
    cid = new_container(k, w, labels={"a": "1"})
    path = "/v1/containers/%s/labels?namespace=%s" % (cid, w.ns)
    try:
        body = {"labels": {"a": None, "b": "2"}}
        doc = ex.check(k.patch(path, body), 200, request=body)
        assert "a" not in doc["labels"] and doc["labels"]["b"] == "2"
        ex.check(k.patch("/v1/containers/nope/labels?namespace=" + w.ns, {"labels": {}}), 404,
                 "not_found")
        for b, what in (({}, "no labels"), ({"labels": {"a": 1}}, "not a string"),
                        ({"labels": {}, "x": 1}, "unknown field")):
            ex.check(k.patch(path, b), 400, "invalid_argument", what, request=b)
        ex.check(k.request("PATCH", path, data="{"), 400, "invalid_json")
        bad_container_ids(ex, k, "PATCH", "/labels", data='{"labels":{}}')
        bad_namespace_and_query(ex, k, "PATCH", "/v1/containers/%s/labels" % cid,
                                data='{"labels":{}}')
        exercise_protocol_errors(ex, k, "/v1/containers/%s/labels" % cid)
    finally:
        drop_container(k, w, cid)


# --- tasks ---------------------------------------------------------------------------------

TASK_TIMEOUT = 30
UPGRADE = {"Connection": "Upgrade", "Upgrade": "keg-attach"}


def task_container(k, w, args, cid=None, **options):
    """A container of the world's busybox running args; its id."""
    cid = cid or fresh("t")
    r = k.post("/v1/containers?namespace=" + w.ns,
               {"id": cid, "image": w.ref, "options": dict(options, args=list(args))})
    assert r.status_code == 201, r.text
    return cid


def tpath(w, cid, suffix="", query=""):
    return "/v1/tasks/%s%s?namespace=%s%s" % (cid, suffix, w.ns, query)


def new_task(k, w, args=("sleep", "1000"), start=True, body=None, **options):
    """A task (started unless start=False) of a new container; its id."""
    cid = task_container(k, w, args, **options)
    r = k.post("/v1/tasks?namespace=" + w.ns, dict(body or {}, container_id=cid),
               timeout=TASK_TIMEOUT)
    assert r.status_code == 201, r.text
    if start:
        r = k.post(tpath(w, cid, "/start"), timeout=TASK_TIMEOUT)
        assert r.status_code == 200, r.text
    return cid


def stopped_task(k, w, args=("true",)):
    cid = new_task(k, w, args)
    r = k.get(tpath(w, cid, "/wait"), timeout=TASK_TIMEOUT)
    assert r.status_code == 200, r.text
    return cid


def drop_task(k, w, *cids):
    for cid in cids:
        k.patch("/v1/containers/%s?namespace=%s" % (cid, w.ns),
                {"runtime": {"options": {"binary_name": "runc"}}})
        k.delete(tpath(w, cid, query="&force=1"), timeout=TASK_TIMEOUT)
        drop_container(k, w, cid)


def break_runtime(k, w, cid):
    """Points the container at a runtime binary that does not exist: every
    runtime call on its task is then refused (409)."""
    r = k.patch("/v1/containers/%s?namespace=%s" % (cid, w.ns),
                {"runtime": {"options": {"binary_name": "/nonexistent/runc"}}})
    assert r.status_code == 200, r.text


def new_exec(k, w, cid, args=("sleep", "1000"), start=True, eid=None):
    eid = eid or fresh("e")
    r = k.post(tpath(w, cid, "/execs"), {"exec_id": eid, "process": {"args": list(args)}})
    assert r.status_code == 201, r.text
    if start:
        r = k.post(tpath(w, cid, "/execs/%s/start" % eid), timeout=TASK_TIMEOUT)
        assert r.status_code == 200, r.text
    return eid


def bad_task_ids(ex, k, method, suffix="", **kw):
    for bad, what in (("..%2Fetc", "../ in the id"), ("-x", "not an identifier"),
                      ("x" * 77, "77 characters")):
        ex.check(k.request(method, "/v1/tasks/" + bad + suffix, **kw), 400,
                 "invalid_argument", what)


def bad_exec_ids(ex, k, method, cid, suffix="", **kw):
    bad_task_ids(ex, k, method, "/execs/e" + suffix, **kw)
    for bad, what in (("-x", "exec id not an identifier"), ("..", "exec id ..")):
        ex.check(k.request(method, "/v1/tasks/%s/execs/%s%s" % (cid, bad, suffix), **kw), 400,
                 "invalid_argument", what)


def task_common_errors(ex, k, method, suffix, **kw):
    """Bad ids, namespace and query, and the HTTP layer's errors."""
    bad_task_ids(ex, k, method, suffix, **kw)
    bad_namespace_and_query(ex, k, method, "/v1/tasks/x" + suffix, **kw)
    exercise_protocol_errors(ex, k, "/v1/tasks/x" + suffix)


def exec_common_errors(ex, k, method, suffix, **kw):
    bad_exec_ids(ex, k, method, "x", suffix, **kw)
    bad_namespace_and_query(ex, k, method, "/v1/tasks/x/execs/e" + suffix, **kw)
    exercise_protocol_errors(ex, k, "/v1/tasks/x/execs/e" + suffix)


@needs_world
def scenario_list_tasks(k, ex, w):
    cid = new_task(k, w, start=False)
    try:
        doc = ex.check(k.get("/v1/tasks?namespace=" + w.ns), 200)
        assert cid in [t["id"] for t in doc["tasks"]]
        assert ex.check(k.get("/v1/tasks?namespace=" + fresh()), 200) == {"tasks": []}
        bad_namespace_and_query(ex, k, "GET", "/v1/tasks")
        exercise_protocol_errors(ex, k, "/v1/tasks")
    finally:
        drop_task(k, w, cid)


@needs_world
def scenario_create_task(k, ex, w):
    path = "/v1/tasks?namespace=" + w.ns
    cid = task_container(k, w, ["sleep", "1000"])
    nort = task_container(k, w, ["true"])
    fresh_ok = task_container(k, w, ["true"])
    ckpt = tempfile.mkdtemp(prefix="keg-openapi-restore-")
    break_runtime(k, w, nort)
    try:
        body = {"container_id": cid, "terminal": False,
                "options": {"stdin": True, "no_pivot": False}}
        doc = ex.check(k.post(path, body, timeout=TASK_TIMEOUT), 201, request=body)
        assert (doc["id"], doc["status"]) == (cid, "created") and doc["pid"] > 0
        ex.check(k.post(path, {"container_id": cid}), 409, "already_exists",
                 request={"container_id": cid})
        body = {"container_id": nort}
        ex.check(k.post(path, body), 409, "failed_precondition", "no runtime binary",
                 request=body)
        ex.check(k.post(path, {"container_id": fresh_ok, "checkpoint": ckpt},
                        timeout=TASK_TIMEOUT), 409, "failed_precondition",
                 "restore from an empty image dir",
                 request={"container_id": fresh_ok, "checkpoint": ckpt})
        assert k.get(tpath(w, fresh_ok)).status_code == 404
        body = {"container_id": fresh("nope")}
        ex.check(k.post(path, body), 404, "not_found", request=body)
        for data in ["", "{", "[]"]:
            ex.check(k.request("POST", path, data=data), 400, "invalid_json")
        for b, what in [({}, "no container_id"), ({"container_id": 5}, "not a string"),
                        ({"container_id": "../x"}, "bad id"),
                        ({"container_id": "x", "terminal": "yes"}, "terminal not a boolean"),
                        ({"container_id": "x", "options": []}, "options not an object"),
                        ({"container_id": "x", "options": {"stdin": 1}}, "stdin not a boolean"),
                        ({"container_id": "x", "options": {"tty": True}}, "unknown option"),
                        ({"container_id": cid, "checkpoint": "rel"}, "checkpoint relative"),
                        ({"container_id": cid, "checkpoint": 5}, "checkpoint not a string"),
                        ({"container_id": "x", "bogus": 1}, "unknown field")]:
            ex.check(k.post(path, b), 400, "invalid_argument", what, request=b)
        # Valid in form, refused by what is on disk (no request check).
        for ck, what in [(ckpt + "/no", "checkpoint missing"),
                         ("/proc/version", "checkpoint not a directory")]:
            ex.check(k.post(path, {"container_id": cid, "checkpoint": ck}), 400,
                     "invalid_argument", what)
        bad_namespace_and_query(ex, k, "POST", "/v1/tasks",
                                data=json.dumps({"container_id": "x"}))
        exercise_protocol_errors(ex, k, "/v1/tasks")
    finally:
        drop_task(k, w, cid, nort, fresh_ok)
        shutil.rmtree(ckpt, ignore_errors=True)


@needs_world
def scenario_get_task(k, ex, w):
    cid = new_task(k, w, start=False)
    try:
        doc = ex.check(k.get(tpath(w, cid)), 200)
        assert doc["status"] == "created" and "exit_status" not in doc
        ex.check(k.get("/v1/tasks/" + cid), 404, "not_found", "another namespace")
        task_common_errors(ex, k, "GET", "")
    finally:
        drop_task(k, w, cid)
    done = stopped_task(k, w, ["sh", "-c", "exit 3"])
    try:
        doc = ex.check(k.get(tpath(w, done)), 200, what="stopped")
        assert doc["status"] == "stopped" and doc["exit_status"] == 3
    finally:
        drop_task(k, w, done)


@needs_world
def scenario_delete_task(k, ex, w):
    running = new_task(k, w)
    created = new_task(k, w, start=False)
    done = stopped_task(k, w, ["sh", "-c", "exit 7"])
    try:
        ex.check(k.delete(tpath(w, running)), 409, "failed_precondition", "running, not forced")
        doc = ex.check(k.delete(tpath(w, running, query="&force=1"), timeout=TASK_TIMEOUT), 200,
                       param=("force", "1"))
        assert doc["exit_status"] == 137, doc
        ex.check(k.delete(tpath(w, running)), 404, "not_found", "deleted already")
        ex.check(k.delete(tpath(w, created, query="&force=false"), timeout=TASK_TIMEOUT), 200,
                 what="created", param=("force", "false"))
        doc = ex.check(k.delete(tpath(w, done), timeout=TASK_TIMEOUT), 200, what="stopped")
        assert doc["exit_status"] == 7 and doc["pid"] > 0
        ex.check(k.delete(tpath(w, done, query="&force=maybe")), 400, "invalid_argument",
                 param=("force", "maybe"))
        task_common_errors(ex, k, "DELETE", "")
    finally:
        drop_task(k, w, running, created, done)


@needs_world
def scenario_start_task(k, ex, w):
    cid = new_task(k, w, start=False)
    done = stopped_task(k, w)
    nort = new_task(k, w, start=False)
    break_runtime(k, w, nort)
    try:
        doc = ex.check(k.post(tpath(w, cid, "/start"), timeout=TASK_TIMEOUT), 200)
        assert doc["status"] == "running"
        ex.check(k.post(tpath(w, cid, "/start")), 409, "failed_precondition", "running")
        ex.check(k.post(tpath(w, nort, "/start")), 409, "failed_precondition", "no runtime")
        ex.check(k.post(tpath(w, done, "/start")), 404, "not_found", "stopped")
        ex.check(k.post(tpath(w, fresh(), "/start")), 404, "not_found")
        task_common_errors(ex, k, "POST", "/start")
    finally:
        drop_task(k, w, cid, done, nort)


def kill_errors(ex, k, path):
    for data in ["{", "[]"]:
        ex.check(k.request("POST", path, data=data), 400, "invalid_json")
    for b, what, schema_says in [({"signal": 0}, "signal 0", True),
                                 ({"signal": 65}, "signal 65", True),
                                 ({"signal": []}, "signal not a number or name", True),
                                 ({"signal": "SIGNOPE"}, "no such signal", False),
                                 ({"all": "yes"}, "all not a boolean", True),
                                 ({"bogus": 1}, "unknown field", True)]:
        ex.check(k.post(path, b), 400, "invalid_argument", what,
                 request=b if schema_says else None)


@needs_world
def scenario_kill_task(k, ex, w):
    cid = new_task(k, w)
    nort = new_task(k, w)
    break_runtime(k, w, nort)
    try:
        path = tpath(w, cid, "/kill")
        ex.check(k.request("POST", path, data=""), 204, what="empty body: SIGTERM")
        body = {"signal": "sigcont"}
        ex.check(k.post(path, body), 204, request=body)
        kill_errors(ex, k, path)
        ex.check(k.post(tpath(w, nort, "/kill"), {"signal": 9}), 409, "failed_precondition",
                 "no runtime", request={"signal": 9})
        body = {"signal": 9, "all": True}
        ex.check(k.post(path, body), 204, request=body)
        assert k.get(tpath(w, cid, "/wait"), timeout=TASK_TIMEOUT).json()["exit_status"] == 137
        ex.check(k.post(path, body), 404, "not_found", "stopped", request=body)
        ex.check(k.post(tpath(w, fresh(), "/kill"), body), 404, "not_found", request=body)
        task_common_errors(ex, k, "POST", "/kill")
    finally:
        drop_task(k, w, cid, nort)


@needs_world
def scenario_wait_task(k, ex, w):
    done = stopped_task(k, w, ["sh", "-c", "exit 3"])
    try:
        doc = ex.check(k.get(tpath(w, done, "/wait")), 200)
        assert doc["exit_status"] == 3
        ex.check(k.get(tpath(w, fresh(), "/wait")), 404, "not_found")
        task_common_errors(ex, k, "GET", "/wait")
    finally:
        drop_task(k, w, done)


@needs_world
def scenario_task_pids(k, ex, w):
    cid = new_task(k, w, ["sh", "-c", "sleep 1000 & wait"])
    done = stopped_task(k, w)
    try:
        doc = ex.check(k.get(tpath(w, cid, "/pids"), timeout=TASK_TIMEOUT), 200)
        assert len(doc["processes"]) == 2, doc
        ex.check(k.get(tpath(w, done, "/pids")), 404, "not_found", "stopped")
        ex.check(k.get(tpath(w, fresh(), "/pids")), 404, "not_found")
        break_runtime(k, w, cid)
        ex.check(k.get(tpath(w, cid, "/pids")), 409, "failed_precondition", "no runtime")
        task_common_errors(ex, k, "GET", "/pids")
    finally:
        drop_task(k, w, cid, done)


def pause_resume(k, ex, w, pause):
    cid = new_task(k, w)
    done = stopped_task(k, w)
    op = "/pause" if pause else "/resume"
    try:
        if not pause:
            ex.check(k.post(tpath(w, cid, op)), 409, "failed_precondition", "running")
            assert k.post(tpath(w, cid, "/pause"), timeout=TASK_TIMEOUT).status_code == 200
        doc = ex.check(k.post(tpath(w, cid, op), timeout=TASK_TIMEOUT), 200)
        assert doc["status"] == ("paused" if pause else "running")
        if pause:
            ex.check(k.post(tpath(w, cid, op)), 409, "failed_precondition", "paused")
        ex.check(k.post(tpath(w, done, op)), 404, "not_found", "stopped")
        ex.check(k.post(tpath(w, fresh(), op)), 404, "not_found")
        task_common_errors(ex, k, "POST", op)
    finally:
        drop_task(k, w, cid, done)


@needs_world
def scenario_pause_task(k, ex, w):
    pause_resume(k, ex, w, True)


@needs_world
def scenario_resume_task(k, ex, w):
    pause_resume(k, ex, w, False)


@needs_world
def scenario_task_resources(k, ex, w):
    cid = new_task(k, w)
    done = stopped_task(k, w)
    try:
        path = tpath(w, cid, "/resources")
        body = {"pids": {"limit": 50}}
        ex.check(k.patch(path, body, timeout=TASK_TIMEOUT), 204, request=body)
        ex.check(k.patch(path, {"pids": {"limit": "many"}}, timeout=TASK_TIMEOUT), 409,
                 "failed_precondition", "the runtime refuses the value")
        for data in ["", "{", "[]"]:
            ex.check(k.request("PATCH", path, data=data), 400, "invalid_json")
        body = {"pids": {"limit": 50}, "bogus": {}}
        ex.check(k.patch(path, body), 400, "invalid_argument", "unknown field", request=body)
        ex.check(k.patch(tpath(w, done, "/resources"), {"pids": {}}), 404, "not_found", "stopped")
        ex.check(k.patch(tpath(w, fresh(), "/resources"), {"pids": {}}), 404, "not_found")
        task_common_errors(ex, k, "PATCH", "/resources", data="{}")
    finally:
        drop_task(k, w, cid, done)


@needs_world
def scenario_checkpoint_task(k, ex, w):
    cid = new_task(k, w)
    done = stopped_task(k, w)
    image = tempfile.mkdtemp(prefix="keg-openapi-ckpt-")
    try:
        path = tpath(w, cid, "/checkpoint")
        body = {"image_path": image + "/img", "leave_running": True}
        r = k.post(path, body, timeout=60)
        if r.status_code == 200:
            assert ex.check(r, 200, request=body)["checkpoint"] == image + "/img"
        else:  # CRIU cannot checkpoint here: the runtime's message
            ex.check(r, 409, "failed_precondition", "CRIU failed", request=body)
        body = {"image_path": "/proc/keg-no-such-dir/img"}
        ex.check(k.post(path, body, timeout=60), 500, "internal", "mkdir fails", request=body)
        for b, what in [({"image_path": "rel"}, "relative"),
                        ({"image_path": "/a/../b"}, "with .."),
                        ({"image_path": "/a/.."}, "ending in .."),
                        ({"leave_running": 1}, "not a boolean"),
                        ({"bogus": 1}, "unknown field")]:
            ex.check(k.post(path, b), 400, "invalid_argument", what, request=b)
        ex.check(k.request("POST", path, data="{"), 400, "invalid_json")
        ex.check(k.request("POST", tpath(w, done, "/checkpoint"), data=""), 404, "not_found",
                 "stopped")
        ex.check(k.post(tpath(w, fresh(), "/checkpoint")), 404, "not_found")
        break_runtime(k, w, cid)
        ex.check(k.post(path, {}), 409, "failed_precondition", "no runtime", request={})
        task_common_errors(ex, k, "POST", "/checkpoint")
    finally:
        drop_task(k, w, cid, done)
        shutil.rmtree(image, ignore_errors=True)


@needs_world
def scenario_task_metrics(k, ex, w):
    cid = new_task(k, w)
    try:
        doc = ex.check(k.get(tpath(w, cid, "/metrics")), 200)
        assert doc["pids"]["current"] == 1, doc
        ex.check(k.get(tpath(w, fresh(), "/metrics")), 404, "not_found")
        spec = k.get("/v1/containers/%s?namespace=%s" % (cid, w.ns)).json()["spec"]
        spec["linux"]["cgroupsPath"] = "/keg/no-such/cgroup"
        assert k.patch("/v1/containers/%s?namespace=%s" % (cid, w.ns),
                       {"spec": spec}).status_code == 200
        ex.check(k.get(tpath(w, cid, "/metrics")), 409, "failed_precondition", "no cgroup")
        task_common_errors(ex, k, "GET", "/metrics")
    finally:
        drop_task(k, w, cid)


def logs_scenario(k, ex, w, logs_path, missing_path):
    """logs_path(suffix_query) of a stopped process that wrote 'out' and 'err'."""
    doc = ex.check(k.get(logs_path("")), 200)
    r = k.get(logs_path(""))
    assert sorted(r.text.splitlines()) == ["err", "out"], r.text
    docs = ex.check(k.get(logs_path("&format=ndjson")), 200, param=("format", "ndjson"))
    assert sorted((d["stream"], d["log"]) for d in docs) == [("stderr", "err"), ("stdout", "out")]
    r = k.get(logs_path("&format=raw&stream=stderr&tail=1&since=0"))
    ex.check(r, 200, what="raw")
    assert r.text.endswith(" stderr F err\n"), r.text
    for q, v in [("stream", "stdout"), ("stream", "all"), ("tail", "all"), ("tail", "0"),
                 ("since", "2000-01-01T00:00:00Z"), ("since", "1.5"), ("follow", "1"),
                 ("follow", "")]:
        ex.check(k.get(logs_path("&%s=%s" % (q, v)), timeout=TASK_TIMEOUT), 200,
                 param=(q, v))
    for q, v in [("stream", "both2"), ("tail", "x"), ("tail", "-2"), ("format", "json"),
                 ("since", "yesterday"), ("follow", "maybe")]:
        ex.check(k.get(logs_path("&%s=%s" % (q, v))), 400, "invalid_argument", param=(q, v))
    ex.check(k.get(missing_path), 404, "not_found")


@needs_world
def scenario_task_logs(k, ex, w):
    cid = stopped_task(k, w, ["sh", "-c", "echo out; echo err >&2"])
    try:
        logs_scenario(k, ex, w, lambda q: tpath(w, cid, "/logs", q),
                      tpath(w, fresh(), "/logs"))
        task_common_errors(ex, k, "GET", "/logs")
    finally:
        drop_task(k, w, cid)


@needs_world
def scenario_task_resize(k, ex, w):
    cid = new_task(k, w, ["sh"], body={"terminal": True, "options": {"stdin": True}}, tty=True)
    done = stopped_task(k, w)
    try:
        path = tpath(w, cid, "/resize")
        body = {"width": 100, "height": 40}
        ex.check(k.post(path, body), 204, request=body)
        body = {"width": 80, "height": 25, "exec_id": fresh("e")}
        ex.check(k.post(path, body), 404, "not_found", "no such exec", request=body)
        body = {"width": 80, "height": 25}
        ex.check(k.post(tpath(w, done, "/resize"), body), 409, "failed_precondition", "stopped",
                 request=body)
        ex.check(k.post(tpath(w, fresh(), "/resize"), body), 404, "not_found", request=body)
        for b, what in [({"width": 0, "height": 1}, "width 0"), ({"width": 1}, "no height"),
                        ({"width": 1, "height": 65536}, "height too large"),
                        ({"width": 1, "height": 1, "exec_id": "../x"}, "bad exec id"),
                        ({"width": "1", "height": 1}, "not a number"),
                        ({"width": 1, "height": 1, "bogus": 1}, "unknown field")]:
            ex.check(k.post(path, b), 400, "invalid_argument", what, request=b)
        for data in ["", "{", "[]"]:
            ex.check(k.request("POST", path, data=data), 400, "invalid_json")
        task_common_errors(ex, k, "POST", "/resize", data=json.dumps(body))
    finally:
        drop_task(k, w, cid, done)


def attach_raw(k, path):
    """POST path with the upgrade headers on a new connection; the socket
    and the head of the answer (status, lowercased headers)."""
    s = k.connect(TASK_TIMEOUT)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: k\r\nConnection: Upgrade\r\nUpgrade: keg-attach\r\n"
              b"Content-Length: 0\r\n\r\n" % path.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, "closed before the head: %r" % head
        head += chunk
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {a.strip().lower(): b.strip() for a, _, b in (l.partition(":") for l in lines[1:] if l)}
    return s, status, headers


@needs_world
def scenario_task_attach(k, ex, w):
    cid = new_task(k, w, ["sh"], body={"terminal": True, "options": {"stdin": True}}, tty=True)
    done = stopped_task(k, w)
    try:
        s, status, headers = attach_raw(k, tpath(w, cid, "/attach"))
        try:
            ex._check(status, headers, b"", 101, None, "upgraded")
            s.sendall(b"echo x$((40+2))y\n")
            got, deadline = b"", time.time() + TASK_TIMEOUT
            while b"x42y" not in got and time.time() < deadline:
                got += s.recv(4096)
            assert b"x42y" in got, got
        finally:
            s.close()
        ex.check(k.post(tpath(w, cid, "/attach")), 400, "invalid_argument", "no upgrade")
        for path, status, code, what in [
                (tpath(w, done, "/attach"), 409, "failed_precondition", "stopped"),
                (tpath(w, fresh(), "/attach"), 404, "not_found", "no such task"),
                (tpath(w, cid, "/attach", "&exec_id=" + fresh("e")), 404, "not_found",
                 "no such exec"),
                (tpath(w, cid, "/attach", "&exec_id=-x"), 400, "invalid_argument",
                 "bad exec id")]:
            resp = raw(k, b"POST %s HTTP/1.1\r\nHost: k\r\nConnection: Upgrade\r\n"
                       b"Upgrade: keg-attach\r\nContent-Length: 0\r\n\r\n" % path.encode())
            ex.check_raw(resp, status, code, what)
        task_common_errors(ex, k, "POST", "/attach")
    finally:
        drop_task(k, w, cid, done)


@needs_world
def scenario_list_execs(k, ex, w):
    cid = new_task(k, w)
    try:
        eid = new_exec(k, w, cid, start=False)
        doc = ex.check(k.get(tpath(w, cid, "/execs")), 200)
        assert [e["exec_id"] for e in doc["execs"]] == [eid]
        ex.check(k.get(tpath(w, fresh(), "/execs")), 404, "not_found")
        task_common_errors(ex, k, "GET", "/execs")
    finally:
        drop_task(k, w, cid)


@needs_world
def scenario_add_exec(k, ex, w):
    cid = new_task(k, w)
    created = new_task(k, w, start=False)
    try:
        path = tpath(w, cid, "/execs")
        body = {"exec_id": "e1", "process": {
            "args": ["sh", "-c", "echo hi"], "env": ["A=1"], "cwd": "/", "terminal": False,
            "user": {"uid": 0, "gid": 0, "additionalGids": [1]}}}
        doc = ex.check(k.post(path, body), 201, request=body)
        assert (doc["exec_id"], doc["status"]) == ("e1", "created")
        ex.check(k.post(path, body), 409, "already_exists", request=body)
        body = {"exec_id": "run", "wait": True,
                "process": {"args": ["sh", "-c", "echo out; echo err >&2; exit 5"]}}
        doc = ex.check(k.post(path, body, timeout=TASK_TIMEOUT), 200, request=body)
        assert (doc["exit_status"], doc["stdout"], doc["stderr"], doc["truncated"]) == \
            (5, "out\n", "err\n", False), doc
        body = {"exec_id": "bad", "wait": True, "process": {"args": ["/no/such/binary"]}}
        ex.check(k.post(path, body, timeout=TASK_TIMEOUT), 409, "failed_precondition",
                 "the runtime cannot start it", request=body)
        body = {"exec_id": "e2", "process": {"args": ["true"]}}
        ex.check(k.post(tpath(w, created, "/execs"), body), 409, "failed_precondition",
                 "task not running", request=body)
        ex.check(k.post(tpath(w, fresh(), "/execs"), body), 404, "not_found", request=body)
        for data in ["", "{", "[]"]:
            ex.check(k.request("POST", path, data=data), 400, "invalid_json")
        ok = {"args": ["true"]}
        for b, what in [({"exec_id": "x"}, "no process"),
                        ({"process": ok}, "no exec_id"),
                        ({"exec_id": 5, "process": ok}, "exec_id not a string"),
                        ({"exec_id": "../x", "process": ok}, "bad exec id"),
                        ({"exec_id": "x", "process": ok, "wait": "yes"}, "wait not a boolean"),
                        ({"exec_id": "x", "process": {}}, "no args"),
                        ({"exec_id": "x", "process": {"args": []}}, "empty args"),
                        ({"exec_id": "x", "process": {"args": ["true"], "env": ["NOEQ"]}},
                         "env without ="),
                        ({"exec_id": "x", "process": {"args": ["true"], "cwd": "rel"}},
                         "relative cwd"),
                        ({"exec_id": "x", "process": {"args": ["true"], "terminal": 1}},
                         "terminal not a boolean"),
                        ({"exec_id": "x", "process": {"args": ["true"], "user": {"uid": 1 << 32}}},
                         "uid too large"),
                        ({"exec_id": "x", "process": {"args": ["true"], "user": {"gid": 1}}},
                         "no uid"),
                        ({"exec_id": "x", "process": {"args": ["true"], "capabilities": {}}},
                         "unknown process key"),
                        ({"exec_id": "x", "process": ok, "bogus": 1}, "unknown field")]:
            ex.check(k.post(path, b), 400, "invalid_argument", what, request=b)
        bad_namespace_and_query(ex, k, "POST", "/v1/tasks/x/execs",
                                data=json.dumps({"exec_id": "x", "process": ok}))
        bad_task_ids(ex, k, "POST", "/execs", data=json.dumps({"exec_id": "x", "process": ok}))
        exercise_protocol_errors(ex, k, "/v1/tasks/x/execs")
    finally:
        drop_task(k, w, cid, created)


@needs_world
def scenario_get_exec(k, ex, w):
    cid = new_task(k, w)
    try:
        eid = new_exec(k, w, cid, start=False)
        doc = ex.check(k.get(tpath(w, cid, "/execs/" + eid)), 200)
        assert (doc["id"], doc["exec_id"], doc["pid"]) == (cid, eid, 0)
        ex.check(k.get(tpath(w, cid, "/execs/" + fresh())), 404, "not_found")
        exec_common_errors(ex, k, "GET", "")
    finally:
        drop_task(k, w, cid)


@needs_world
def scenario_delete_exec(k, ex, w):
    cid = new_task(k, w)
    try:
        created = new_exec(k, w, cid, start=False)
        running = new_exec(k, w, cid)
        ex.check(k.delete(tpath(w, cid, "/execs/" + running)), 409, "failed_precondition",
                 "running, not forced")
        doc = ex.check(k.delete(tpath(w, cid, "/execs/" + running, "&force=true"),
                                timeout=TASK_TIMEOUT), 200, param=("force", "true"))
        assert doc["exit_status"] == 137, doc
        ex.check(k.delete(tpath(w, cid, "/execs/" + created, "&force=0")), 200,
                 param=("force", "0"))
        ex.check(k.delete(tpath(w, cid, "/execs/" + created)), 404, "not_found")
        exec_common_errors(ex, k, "DELETE", "")
    finally:
        drop_task(k, w, cid)


@needs_world
def scenario_start_exec(k, ex, w):
    cid = new_task(k, w)
    try:
        eid = new_exec(k, w, cid, start=False)
        doc = ex.check(k.post(tpath(w, cid, "/execs/%s/start" % eid), timeout=TASK_TIMEOUT), 200)
        assert doc["status"] == "running" and doc["pid"] > 0
        ex.check(k.post(tpath(w, cid, "/execs/%s/start" % eid)), 409, "failed_precondition",
                 "running")
        ex.check(k.post(tpath(w, cid, "/execs/%s/start" % fresh())), 404, "not_found")
        exec_common_errors(ex, k, "POST", "/start")
    finally:
        drop_task(k, w, cid)


@needs_world
def scenario_kill_exec(k, ex, w):
    cid = new_task(k, w)
    try:
        eid = new_exec(k, w, cid)
        created = new_exec(k, w, cid, start=False)
        path = tpath(w, cid, "/execs/%s/kill" % eid)
        body = {"signal": "SIGCONT"}
        ex.check(k.post(path, body), 204, request=body)
        kill_errors(ex, k, path)
        body = {"signal": 9, "all": True}
        ex.check(k.post(path, body), 400, "invalid_argument", "all for an exec", request=body)
        ex.check(k.post(tpath(w, cid, "/execs/%s/kill" % created), {}), 409,
                 "failed_precondition", "created", request={})
        ex.check(k.request("POST", path, data=""), 204, what="empty body: SIGTERM")
        w8 = k.get(tpath(w, cid, "/execs/%s/wait" % eid), timeout=TASK_TIMEOUT)
        assert w8.json()["exit_status"] == 143, w8.text
        ex.check(k.post(path, {}), 404, "not_found", "finished", request={})
        exec_common_errors(ex, k, "POST", "/kill")
    finally:
        drop_task(k, w, cid)


@needs_world
def scenario_wait_exec(k, ex, w):
    cid = new_task(k, w)
    try:
        eid = new_exec(k, w, cid, ["sh", "-c", "exit 4"])
        doc = ex.check(k.get(tpath(w, cid, "/execs/%s/wait" % eid), timeout=TASK_TIMEOUT), 200)
        assert doc["exit_status"] == 4
        # An exec never started is waited for until it is deleted.
        idle = new_exec(k, w, cid, start=False)
        s = k.connect(TASK_TIMEOUT)
        try:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: k\r\n\r\n" %
                      tpath(w, cid, "/execs/%s/wait" % idle).encode())
            time.sleep(0.3)
            assert k.delete(tpath(w, cid, "/execs/" + idle)).status_code == 200
            ex.check_raw(conftest.read_response(s), 404, "not_found", "deleted while waited for")
        finally:
            s.close()
        ex.check(k.get(tpath(w, cid, "/execs/%s/wait" % fresh())), 404, "not_found")
        exec_common_errors(ex, k, "GET", "/wait")
    finally:
        drop_task(k, w, cid)


@needs_world
def scenario_exec_logs(k, ex, w):
    cid = new_task(k, w)
    try:
        eid = new_exec(k, w, cid, ["sh", "-c", "echo out; echo err >&2"])
        assert k.get(tpath(w, cid, "/execs/%s/wait" % eid), timeout=TASK_TIMEOUT).ok
        logs_scenario(k, ex, w, lambda q: tpath(w, cid, "/execs/%s/logs" % eid, q),
                      tpath(w, cid, "/execs/%s/logs" % fresh()))
        exec_common_errors(ex, k, "GET", "/logs")
    finally:
        drop_task(k, w, cid)


SCENARIOS = {
    ("GET", "/v1/version"): scenario_version,
    ("GET", "/v1/health"): simple_get("/v1/health"),
    ("GET", "/v1/info"): scenario_info,
    ("GET", "/v1/plugins"): scenario_plugins,
    ("GET", "/v1/namespaces"): scenario_list_namespaces,
    ("POST", "/v1/namespaces"): scenario_create_namespace,
    ("GET", "/v1/namespaces/{name}"): scenario_get_namespace,
    ("PATCH", "/v1/namespaces/{name}"): scenario_update_namespace,
    ("DELETE", "/v1/namespaces/{name}"): scenario_delete_namespace,
    ("GET", "/v1/events"): scenario_stream_events,
    ("POST", "/v1/events"): scenario_publish_event,
    ("GET", "/v1/operations"): scenario_list_operations,
    ("GET", "/v1/operations/{id}"): scenario_get_operation,
    ("DELETE", "/v1/operations/{id}"): scenario_cancel_operation,
    ("GET", "/v1/images"): scenario_list_images,
    ("POST", "/v1/images/pull"): scenario_pull,
    ("POST", "/v1/images/push"): scenario_push,
    ("POST", "/v1/images/tag"): scenario_tag,
    ("POST", "/v1/images/import"): scenario_import,
    ("POST", "/v1/images/export"): scenario_export,
    ("GET", "/v1/images/{ref}"): scenario_get_image,
    ("PATCH", "/v1/images/{ref}"): scenario_update_image,
    ("DELETE", "/v1/images/{ref}"): scenario_delete_image,
    ("GET", "/v1/content"): scenario_list_content,
    ("GET", "/v1/content/ingests"): scenario_list_ingests,
    ("GET", "/v1/content/{digest}"): scenario_get_content,
    ("PUT", "/v1/content/{digest}"): scenario_upload,
    ("PATCH", "/v1/content/{digest}"): scenario_update_content,
    ("DELETE", "/v1/content/{digest}"): scenario_delete_content,
    ("GET", "/v1/content/{digest}/blob"): scenario_read_blob,
    ("POST", "/v1/images/mount"): scenario_mount_image,
    ("POST", "/v1/images/unmount"): scenario_unmount_image,
    ("GET", "/v1/snapshots"): scenario_list_snapshots,
    ("POST", "/v1/snapshots/prepare"): scenario_prepare_snapshot,
    ("POST", "/v1/snapshots/view"): scenario_view_snapshot,
    ("POST", "/v1/snapshots/commit"): scenario_commit_snapshot,
    ("GET", "/v1/snapshots/{key}"): scenario_stat_snapshot,
    ("PATCH", "/v1/snapshots/{key}"): scenario_update_snapshot,
    ("DELETE", "/v1/snapshots/{key}"): scenario_remove_snapshot,
    ("GET", "/v1/snapshots/{key}/mounts"): scenario_snapshot_mounts,
    ("GET", "/v1/snapshots/{key}/usage"): scenario_snapshot_usage,
    ("GET", "/v1/containers"): scenario_list_containers,
    ("POST", "/v1/containers"): scenario_create_container,
    ("GET", "/v1/containers/{id}"): scenario_get_container,
    ("PATCH", "/v1/containers/{id}"): scenario_update_container,
    ("DELETE", "/v1/containers/{id}"): scenario_delete_container,
    ("PATCH", "/v1/containers/{id}/labels"): scenario_label_container,
    ("GET", "/v1/tasks"): scenario_list_tasks,
    ("POST", "/v1/tasks"): scenario_create_task,
    ("GET", "/v1/tasks/{id}"): scenario_get_task,
    ("DELETE", "/v1/tasks/{id}"): scenario_delete_task,
    ("POST", "/v1/tasks/{id}/start"): scenario_start_task,
    ("POST", "/v1/tasks/{id}/kill"): scenario_kill_task,
    ("GET", "/v1/tasks/{id}/wait"): scenario_wait_task,
    ("GET", "/v1/tasks/{id}/pids"): scenario_task_pids,
    ("POST", "/v1/tasks/{id}/pause"): scenario_pause_task,
    ("POST", "/v1/tasks/{id}/resume"): scenario_resume_task,
    ("PATCH", "/v1/tasks/{id}/resources"): scenario_task_resources,
    ("POST", "/v1/tasks/{id}/checkpoint"): scenario_checkpoint_task,
    ("GET", "/v1/tasks/{id}/metrics"): scenario_task_metrics,
    ("GET", "/v1/tasks/{id}/logs"): scenario_task_logs,
    ("POST", "/v1/tasks/{id}/resize"): scenario_task_resize,
    ("POST", "/v1/tasks/{id}/attach"): scenario_task_attach,
    ("GET", "/v1/tasks/{id}/execs"): scenario_list_execs,
    ("POST", "/v1/tasks/{id}/execs"): scenario_add_exec,
    ("GET", "/v1/tasks/{id}/execs/{eid}"): scenario_get_exec,
    ("DELETE", "/v1/tasks/{id}/execs/{eid}"): scenario_delete_exec,
    ("POST", "/v1/tasks/{id}/execs/{eid}/start"): scenario_start_exec,
    ("POST", "/v1/tasks/{id}/execs/{eid}/kill"): scenario_kill_exec,
    ("GET", "/v1/tasks/{id}/execs/{eid}/wait"): scenario_wait_exec,
    ("GET", "/v1/tasks/{id}/execs/{eid}/logs"): scenario_exec_logs,
}

_READ_500 = "only when SQLite cannot prepare a read; WAL readers are never locked out"

# Documented statuses the scenarios cannot provoke, and why.
NOT_TRIGGERABLE = {
    ("GET", "/v1/namespaces", "500"): _READ_500,
    ("GET", "/v1/namespaces/{name}", "500"): _READ_500,
    ("GET", "/v1/images", "500"): _READ_500,
    ("GET", "/v1/images/{ref}", "500"): _READ_500,
    ("GET", "/v1/content", "500"): _READ_500,
    ("GET", "/v1/content/{digest}", "500"): _READ_500,
    ("GET", "/v1/content/{digest}/blob", "500"): _READ_500,
    ("POST", "/v1/images/push", "500"): _READ_500 + " (push reads the image before it starts)",
    ("POST", "/v1/images/export", "500"):
        _READ_500 + "; or fork() failing for the tar worker",
    ("POST", "/v1/images/import", "500"):
        "only when mkdir of the staging directory or fork() of the worker fails (root "
        "ignores permissions, so a test cannot provoke it)",
}
_SNAP_503 = ("the snapshotter's probe failing (both overlayfs and native work on the test "
             "host), or kegd stopping during a native copy (test_snapshots.py "
             "test_sigterm_during_a_copy_answers_and_stops)")
_SNAP_500 = ("only when the metadata store or a snapshot directory fails (mkdir, rename, the "
             "usage worker); root ignores permissions, so a test cannot provoke it")
for _op in [("GET", "/v1/snapshots"), ("POST", "/v1/snapshots/prepare"),
            ("POST", "/v1/snapshots/view"), ("POST", "/v1/snapshots/commit"),
            ("GET", "/v1/snapshots/{key}"), ("PATCH", "/v1/snapshots/{key}"),
            ("DELETE", "/v1/snapshots/{key}"), ("GET", "/v1/snapshots/{key}/mounts"),
            ("GET", "/v1/snapshots/{key}/usage"), ("POST", "/v1/images/mount"),
            ("POST", "/v1/images/unmount")]:
    NOT_TRIGGERABLE[_op + ("503",)] = _SNAP_503
    NOT_TRIGGERABLE[_op + ("500",)] = _SNAP_500
NOT_TRIGGERABLE[("GET", "/v1/containers", "500")] = _READ_500
NOT_TRIGGERABLE[("GET", "/v1/containers/{id}", "500")] = _READ_500
NOT_TRIGGERABLE[("POST", "/v1/containers", "503")] = _SNAP_503
NOT_TRIGGERABLE[("POST", "/v1/images/mount", "500")] = (
    "only when mount(2) of the snapshot's mounts fails, or the store does; the snapshotters' "
    "mounts always mount on the test host")
_TASK_READ_500 = _READ_500 + " (the task rows)"
_TASK_RUN_500 = ("only when fork() of the runtime or the shim fails, or the store fails a write "
                 "(the loop cannot be made to fail fork, and root ignores permissions)")
for _op in [("GET", "/v1/tasks"), ("GET", "/v1/tasks/{id}"), ("GET", "/v1/tasks/{id}/wait"),
            ("GET", "/v1/tasks/{id}/metrics"), ("POST", "/v1/tasks/{id}/resize"),
            ("GET", "/v1/tasks/{id}/execs"), ("GET", "/v1/tasks/{id}/execs/{eid}"),
            ("POST", "/v1/tasks/{id}/execs/{eid}/kill"), ("GET", "/v1/tasks/{id}/execs/{eid}/wait")]:
    NOT_TRIGGERABLE[_op + ("500",)] = _TASK_READ_500
for _op in [("GET", "/v1/tasks/{id}/logs"), ("GET", "/v1/tasks/{id}/execs/{eid}/logs")]:
    NOT_TRIGGERABLE[_op + ("500",)] = _TASK_READ_500 + ", or open(2) of an existing log failing"
NOT_TRIGGERABLE[("POST", "/v1/tasks/{id}/attach", "500")] = (
    _TASK_READ_500 + ", or taking the connection over failing (out of memory)")
for _op in [("DELETE", "/v1/tasks/{id}"), ("POST", "/v1/tasks/{id}/start"),
            ("POST", "/v1/tasks/{id}/kill"), ("GET", "/v1/tasks/{id}/pids"),
            ("POST", "/v1/tasks/{id}/pause"), ("POST", "/v1/tasks/{id}/resume"),
            ("PATCH", "/v1/tasks/{id}/resources"), ("POST", "/v1/tasks/{id}/execs"),
            ("DELETE", "/v1/tasks/{id}/execs/{eid}"), ("POST", "/v1/tasks/{id}/execs/{eid}/start")]:
    NOT_TRIGGERABLE[_op + ("500",)] = _TASK_RUN_500
NOT_TRIGGERABLE[("POST", "/v1/tasks", "503")] = _SNAP_503

# Documented statuses a dedicated test below provokes.
EXERCISED_ELSEWHERE = {
    ("POST", "/v1/images/mount", "400"): "test_mount_refuses_an_unknown_snapshotter",
    ("POST", "/v1/namespaces", "500"): "test_internal_error_when_the_store_is_locked",
    ("PATCH", "/v1/namespaces/{name}", "500"): "test_internal_error_when_the_store_is_locked",
    ("DELETE", "/v1/namespaces/{name}", "500"): "test_internal_error_when_the_store_is_locked",
    ("POST", "/v1/events", "500"): "test_internal_error_when_the_store_is_locked",
    ("POST", "/v1/images/tag", "500"): "test_internal_error_when_the_store_is_locked",
    ("PATCH", "/v1/images/{ref}", "500"): "test_internal_error_when_the_store_is_locked",
    ("DELETE", "/v1/images/{ref}", "500"): "test_internal_error_when_the_store_is_locked",
    ("PUT", "/v1/content/{digest}", "500"): "test_internal_error_when_the_store_is_locked",
    ("PATCH", "/v1/content/{digest}", "500"): "test_internal_error_when_the_store_is_locked",
    ("DELETE", "/v1/content/{digest}", "500"): "test_internal_error_when_the_store_is_locked",
    ("POST", "/v1/containers", "500"): "test_internal_error_when_the_store_is_locked",
    ("PATCH", "/v1/containers/{id}", "500"): "test_internal_error_when_the_store_is_locked",
    ("PATCH", "/v1/containers/{id}/labels", "500"):
        "test_internal_error_when_the_store_is_locked",
    ("DELETE", "/v1/containers/{id}", "500"): "test_internal_error_when_the_store_is_locked",
    ("GET", "/v1/health", "503"): "test_unavailable_while_shutting_down",
    ("GET", "/v1/events", "503"): "test_unavailable_while_shutting_down",
    ("POST", "/v1/tasks", "500"): "test_internal_error_when_the_store_is_locked",
    ("GET", "/v1/tasks/{id}/wait", "503"): "test_task_waits_end_unavailable_at_shutdown",
    ("GET", "/v1/tasks/{id}/execs/{eid}/wait", "503"):
        "test_task_waits_end_unavailable_at_shutdown",
    ("POST", "/v1/tasks/{id}/execs", "503"): "test_task_waits_end_unavailable_at_shutdown",
    ("POST", "/v1/tasks/{id}/checkpoint", "200"): "test_checkpoint_answers_its_image_when_criu_works",
}

# Documented statuses whose live check trips a server bug (so the shared
# daemon does not provoke them); the named strict-xfail test does, and
# starts passing (failing the run) once the bug is fixed: then move the
# status back into its scenario and delete the entry.
KNOWN_SERVER_BUGS = {}


@pytest.mark.parametrize("method,path", OPERATIONS, ids=OP_IDS)
def test_operation_contract(api, request, method, path):
    scenario = SCENARIOS.get((method, path))
    assert scenario, ("%s %s is in the spec but has no live scenario: add one to SCENARIOS "
                      "in test/integration/test_openapi.py" % (method, path))
    ex = Exercise(method, path)
    if getattr(scenario, "needs_world", False):
        scenario(api, ex, request.getfixturevalue("world"))
    else:
        scenario(api, ex)
    excused = set()
    for table in (NOT_TRIGGERABLE, EXERCISED_ELSEWHERE, KNOWN_SERVER_BUGS):
        for (m, p, status) in table:
            if (m, p) == (method, path):
                assert status in ex.op["responses"], "stale entry %s %s %s" % (m, p, status)
                excused.add(status)
    for table in (EXERCISED_ELSEWHERE, KNOWN_SERVER_BUGS):
        for (m, p, status), test in table.items():
            assert callable(globals().get(test)), test
    missing = documented_statuses(method, path) - ex.seen - excused
    assert not missing, "%s %s: documented statuses never exercised: %s" % (
        method, path, sorted(missing))
    untriggerable = {s for (m, p, s) in NOT_TRIGGERABLE if (m, p) == (method, path)}
    assert not ex.seen & untriggerable, "%s %s: %s is listed in NOT_TRIGGERABLE, yet was seen" % (
        method, path, sorted(ex.seen & untriggerable))


def _example_value(param):
    schema = param.get("schema", {})
    if "$ref" in schema:
        schema = resolve(schema["$ref"])
    if param.get("examples"):
        return next(iter(param["examples"].values()))["value"]
    items = schema.get("items", {})
    if "$ref" in items:
        items = resolve(items["$ref"])
    for s in (schema, items):
        if s.get("examples"):
            return s["examples"][0]
    return "default"


def _example_path(method, path):
    """The path with each parameter's example (a namespace that does not exist
    for {name})."""
    out = path
    for (where, name), (_, p) in op_parameters(method, path).items():
        if where == "path":
            value = "no-such-" + uuid.uuid4().hex[:8] if name == "name" else _example_value(p)
            out = out.replace("{%s}" % name, value)
    return out


@pytest.mark.parametrize("method,path", OPERATIONS, ids=OP_IDS)
def test_query_parameters_agree(api, method, path):
    """Every documented query parameter is accepted; others are refused."""
    target = _example_path(method, path)
    params = [p for (where, _), (_, p) in op_parameters(method, path).items() if where == "query"]

    def send(query):
        # An empty object: the snapshot endpoints read the body before the
        # query, so a malformed one would be refused first (invalid_json).
        kw = {"data": "{}"} if method in ("POST", "PATCH", "PUT") else {}
        if method == "GET" and path == "/v1/events":
            kw.update(stream=True, timeout=(5, 10))
        r = api.request(method, target + "?" + query, **kw)
        body = b"" if kw.get("stream") and r.status_code == 200 else r.content
        r.close()
        return r.status_code, body

    for p in params:
        value = _example_value(p)
        status, body = send(urllib.parse.urlencode({p["name"]: value}, doseq=True))
        assert b"unknown query parameter" not in body, "%s %s refuses documented ?%s=%s: %r" % (
            method, path, p["name"], value, body)
        if status == 400:
            message = json.loads(body)["error"]["message"]
            assert p["name"] not in message, "%s %s refuses ?%s=%s: %s" % (
                method, path, p["name"], value, message)
    status, body = send("undocumented=1")
    assert status == 400 and b'unknown query parameter \\"undocumented\\"' in body, body


# --- what applies to every path ---------------------------------------------------------------

PATHS = sorted(SPEC["paths"])


def _fill(path):
    return re.sub(r"\{[^}]+\}", "example", path)


@pytest.mark.parametrize("path", PATHS)
def test_method_not_allowed_lists_the_spec_methods(api, path):
    """A method no route of the path has is 405, with the methods of every
    route that matches it (/v1/images/pull is also an image named "pull")."""
    concrete = _fill(path)
    documented = methods_serving(concrete)
    assert {m.upper() for m in SPEC["paths"][path] if m in HTTP_METHODS} <= documented
    tried = 0
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]:
        if method in documented:
            continue
        r = api.request(method, concrete)
        what = "%s %s" % (method, concrete)
        assert r.status_code == 405, "%s: %s %s" % (what, r.status_code, r.text)
        check_response("#/components/responses/MethodNotAllowed", "405",
                       lower_headers(r.headers), r.content, "method_not_allowed", what)
        allow = {m.strip() for m in r.headers["Allow"].split(",")}
        assert allow - {"HEAD"} == documented, "%s: Allow %s, spec %s" % (what, allow, documented)
        tried += 1
    assert tried


def test_unknown_path_is_not_found(api):
    for path in ["/v1/nope", "/v2/version", "/v1/namespaces/", "/v1/namespaces/a/b", "/",
                 "/v1/images/", "/v1/operations/a/b", "/v1/content/a/b/c", "/v1/content/"]:
        r = api.get(path)
        assert r.status_code == 404, (path, r.status_code)
        check_response("#/components/responses/NotFound", "404", lower_headers(r.headers),
                       r.content, "not_found", path)


def _head_then_get(api, path):
    """HEAD path and a pipelined GET /v1/version on one connection: the HEAD
    answer must be a head alone, so that the next answer follows it."""
    s = api.connect(timeout=3)
    try:
        s.sendall(b"HEAD %s HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/version HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n" % path.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            assert chunk, "connection closed before the HEAD answer"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        try:
            while len(rest) < 12:
                chunk = s.recv(65536)
                if not chunk:
                    break
                rest += chunk
        except OSError:
            pass
        return head.decode("latin-1"), rest
    finally:
        s.close()



def head_tasks(k, w):
    """For the HEAD test, made once: a running task whose exec has stopped
    (so that its wait answers at once), and a stopped task; their ids."""
    if getattr(w, "_head_tasks", None) is None:
        running = new_task(k, w)
        eid = new_exec(k, w, running, ["true"])
        assert k.get(tpath(w, running, "/execs/%s/wait" % eid), timeout=TASK_TIMEOUT).ok
        w._head_tasks = (running, stopped_task(k, w), eid)
    return w._head_tasks

# Once a server bug (task logs began a stream for HEAD and closed the
# connection after the head); now answered with the head alone like the rest.
GET_PATHS = [p for p in PATHS if "get" in SPEC["paths"][p]]


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_is_implied_by_get(api, request, path):
    if "{" in path:
        w = request.getfixturevalue("world")
        key = "head-" + uuid.uuid4().hex[:8]
        assert api.post("/v1/snapshots/prepare?namespace=" + w.ns, {"key": key}).ok
        fill = {"name": create_namespace(api)["name"], "ref": w.ref, "digest": w.digest,
                "id": w.pull_op, "key": key}
        if path.startswith("/v1/containers/"):
            # {id} is the pull operation's id elsewhere: a container gets it too.
            api.post("/v1/containers?namespace=" + w.ns, {"id": w.pull_op, "image": w.ref})
        if path.startswith("/v1/tasks/"):
            running, stopped, eid = head_tasks(api, w)
            fill["id"] = stopped if path == "/v1/tasks/{id}/wait" else running
            fill["eid"] = eid
        path = re.sub(r"\{([^}]+)\}", lambda m: fill[m.group(1)], path) + "?namespace=" + w.ns
    head, rest = _head_then_get(api, path)
    status_line, *lines = head.split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines)}
    assert status_line.split()[1] == "200", head
    get = api.get(path, stream=True, timeout=(5, 10))
    try:
        assert headers.get("content-type") == get.headers["Content-Type"], head
        if "content-length" in get.headers:
            assert headers.get("content-length") == get.headers["Content-Length"], head
    finally:
        get.close()
    assert rest.startswith(b"HTTP/1.1 200"), \
        "HEAD %s sent a body, or the next response did not follow: %r" % (path, rest[:80])


# --- names and topics: the spec's patterns and the server's rules ---------------------------

NAMES = ["a", "Z9", "k8s.io", "a_b-c.d", "n" * 76, "n" * 77, "-a", "a-", ".a", "a..b", "a._b",
         "a b", "a/b", "é", "", "..", "_"]


def _id(s):
    return "%d:%s" % (len(s), s[:12])


@pytest.mark.parametrize("name", NAMES, ids=[_id(n) for n in NAMES])
def test_identifier_pattern_agrees_with_server(api, name):
    spec_ok = is_valid("#/components/schemas/Identifier", name)
    r = api.post("/v1/namespaces", {"name": name})
    assert (r.status_code == 201) == spec_ok, (name, r.status_code, r.text)


TOPICS = ["/a", "/a/b", "/a.b/c-d_e", "/" + "a" * 76, "/" + "a" * 77, "/aaaa" * 52, "/aaaa" * 51,
          "a", "/", "/a/", "//a", "/a//b", "/-a", "/a b", "/a.", ""]


@pytest.mark.parametrize("topic", TOPICS, ids=[_id(t) for t in TOPICS])
def test_topic_pattern_agrees_with_server(api, topic):
    spec_ok = is_valid("#/components/schemas/Topic", topic)
    r = api.post("/v1/events", {"topic": topic, "event": {}})
    assert (r.status_code == 201) == spec_ok, (topic, r.status_code, r.text)


FILTERS = ["*", "/", "//", "/*", "//*", "/a", "/a/", "/a*", "/a/*", "/a//", "/a//*", "/a/b*",
           "/a/b/", "/a/b/*", "/a*/", "*/",
           "a", "a*", "**", "/a**", "/a.*", "/-", "/a b", "/" + "a" * 77 + "*", ""]


@pytest.mark.parametrize("flt", FILTERS, ids=[_id(t) for t in FILTERS])
def test_topic_filter_pattern_agrees_with_server(api, flt):
    spec_ok = is_valid("#/components/schemas/TopicFilter", flt)
    r = open_events(api, "?" + urllib.parse.urlencode({"topic": flt}))
    try:
        assert (r.status_code == 200) == spec_ok, (flt, r.status_code)
    finally:
        r.close()


# --- events: framing, replay, filters, payloads --------------------------------------------

STREAM_MEDIA = op_pointer("GET", "/v1/events") + "/responses/200/content/text~1event-stream"


def _publish(k, ns, topic, event=None):
    r = k.post("/v1/events?namespace=" + ns, {"topic": topic, "event": event or {}})
    assert r.status_code == 201, r.text
    return r.json()


def _replayed(k, query, headers=None):
    """The events a new stream replays (all written before its first heartbeat)."""
    r = open_events(k, query, headers)
    try:
        assert r.status_code == 200, r.text
        sse = SSEReader(r)
        return [check_sse_event(STREAM_MEDIA, ev) for ev in sse.until_heartbeat()]
    finally:
        r.close()


def test_event_stream_replay_and_filters(api):
    a, b = fresh(), fresh()
    first = _publish(api, a, "/t/one")
    since = first["id"] - 1
    e2 = _publish(api, a, "/t/two")
    e3 = _publish(api, a, "/u/x")
    e4 = _publish(api, b, "/t/one")
    ids = lambda evs: [e["id"] for e in evs]
    # Both namespaces given: everything from `since` on in either of them.
    assert ids(_replayed(api, "?since=%d&namespace=%s&namespace=%s" % (since, a, b))) == \
        [first["id"], e2["id"], e3["id"], e4["id"]]
    # Prefix filters ending in '/' or '*', and an exact topic.
    assert ids(_replayed(api, "?since=%d&namespace=%s&topic=/t/" % (since, a))) == \
        [first["id"], e2["id"]]
    assert ids(_replayed(api, "?since=%d&namespace=%s&topic=/u*" % (since, a))) == [e3["id"]]
    assert ids(_replayed(api, "?since=%d&namespace=%s&namespace=%s&topic=/t/one" % (
        since, a, b))) == [first["id"], e4["id"]]
    assert ids(_replayed(api, "?since=%d&namespace=%s&topic=/t/two&topic=/u/x" % (
        since, a))) == [e2["id"], e3["id"]]
    # Last-Event-ID wins over since.
    assert ids(_replayed(api, "?since=0&namespace=" + a, {"Last-Event-ID": str(e2["id"])})) == \
        [e3["id"]]
    # Keg-Namespace filters when no namespace parameter is given...
    assert ids(_replayed(api, "?since=%d" % since, {"Keg-Namespace": b})) == [e4["id"]]
    # ...and the parameter wins over it.
    assert ids(_replayed(api, "?since=%d&namespace=%s&topic=/u/" % (since, a),
                         {"Keg-Namespace": b})) == [e3["id"]]
    # Without a namespace filter, every namespace.
    got = ids(_replayed(api, "?since=%d&topic=/t/one" % since))
    assert first["id"] in got and e4["id"] in got


def test_event_stream_comments_and_ahead_id(api):
    latest = _publish(api, fresh(), "/t/ahead")["id"]
    r = open_events(api, "", {"Last-Event-ID": str(latest + 1000)})
    try:
        sse = SSEReader(r)
        assert sse.until_heartbeat() == []
        assert sse.comments[0] == "keg event stream"
        assert any("ahead" in c for c in sse.comments), sse.comments
    finally:
        r.close()


def test_namespace_events_follow_the_documented_payloads(api):
    name = fresh()
    r = open_events(api, "?topic=/namespaces/&namespace=" + name)
    try:
        sse = SSEReader(r)
        create_namespace(api, name, {"a": "1"})
        assert api.patch("/v1/namespaces/" + name, {"labels": {"b": "2"}}).status_code == 200
        assert api.delete("/v1/namespaces/" + name).status_code == 204
        got = []
        for _ in range(3):
            got.append(check_sse_event(STREAM_MEDIA, sse.next(), block=sse.last_block))
    finally:
        r.close()
    assert [(e["topic"], e["namespace"], e["event"]) for e in got] == [
        ("/namespaces/create", name, {"name": name, "labels": {"a": "1"}}),
        ("/namespaces/update", name, {"name": name, "labels": {"a": "1", "b": "2"}}),
        ("/namespaces/delete", name, {"name": name}),
    ]
    documented = resolve("#/components/schemas/EventEnvelope")["x-keg-topics"]
    assert {e["topic"] for e in got} <= set(documented)
    for topic in documented:
        assert "`%s`" % topic in SPEC["info"]["description"], topic


def test_image_content_and_operation_events_follow_the_documented_payloads(api, world):
    """Every topic of x-keg-topics that images, content and operations
    publish, live, each payload validated against its schema."""
    w, ns = world, fresh()
    r = open_events(api, "?namespace=" + ns)
    got = []

    def until(pred, what, timeout=10):
        deadline = time.time() + timeout
        while True:
            ev = check_sse_event(STREAM_MEDIA, sse.next(timeout), block=sse.last_block)
            got.append(ev)
            if pred(ev):
                return ev
            assert time.time() < deadline, "no %s in %s" % (what, [e["topic"] for e in got])

    try:
        sse = SSEReader(r)
        d = upload(api, b"events " + ns.encode(), ns)["digest"]
        assert api.patch("/v1/content/%s?namespace=%s" % (d, ns), {"labels": {"a": "1"}}).ok
        end = pull_lines(api, w.ref, ns)[-1]
        assert end["state"] == "done", end
        assert api.patch("/v1/images/%s?namespace=%s" % (w.ref, ns),
                         {"labels": {"b": "2"}}).ok
        name = tag(api, ns, w.ref)["name"]
        assert api.delete("/v1/images/%s?namespace=%s" % (name, ns)).status_code == 204
        assert api.delete("/v1/content/%s?namespace=%s" % (d, ns)).status_code == 204
        until(lambda e: e["topic"] == "/content/delete", "/content/delete")
        # A pull that runs long enough for /operations/update (at most one a
        # second), then is cancelled.
        op = start_stalled_pull(api, w, ns)
        until(lambda e: e["topic"] == "/operations/update" and e["event"]["id"] == op["id"],
              "/operations/update")
        assert api.delete("/v1/operations/%s?namespace=%s" % (op["id"], ns)).status_code == 200
        until(lambda e: e["topic"] == "/operations/finish" and e["event"]["id"] == op["id"],
              "/operations/finish")
    finally:
        r.close()
    assert {e["namespace"] for e in got} == {ns}
    by_topic = {}
    for e in got:
        by_topic.setdefault(e["topic"], []).append(e["event"])
    assert by_topic["/namespaces/create"] == [{"name": ns, "labels": {}}]
    assert {"digest": d, "labels": {"a": "1"}} in by_topic["/content/update"]
    assert {"name": w.ref, "labels": {}} in by_topic["/images/create"]
    assert {"name": w.ref, "labels": {"b": "2"}} in by_topic["/images/update"]
    assert by_topic["/images/delete"] == [{"name": name}]
    assert by_topic["/content/delete"] == [{"digest": d}]
    assert {w.digest, d} <= {e["digest"] for e in by_topic["/content/create"]}
    finishes = {e["id"]: e for e in by_topic["/operations/finish"]}
    assert finishes[end["id"]]["state"] == "done"
    assert finishes[op["id"]]["state"] == "cancelled"
    assert finishes[op["id"]]["error"]["code"] == "cancelled"
    assert {end["id"], op["id"]} <= {e["id"] for e in by_topic["/operations/create"]}
    documented = resolve("#/components/schemas/EventEnvelope")["x-keg-topics"]
    # The namespace and snapshot topics have tests of their own.
    assert set(documented) - {"/namespaces/update", "/namespaces/delete",
                              "/snapshot/remove"} <= set(by_topic), \
        "documented topics never seen: %s" % sorted(set(documented) - set(by_topic))


def test_snapshot_events_follow_the_documented_payloads(api):
    ns = fresh()
    r = open_events(api, "?topic=/snapshot/&namespace=" + ns)
    try:
        sse = SSEReader(r)
        snap(api, ns, "a/1", labels={"x": "1"})
        snap_commit(api, ns, "l/1", "a/1")
        snap(api, ns, "v", "l/1", view=True)  # no event, as containerd
        snap(api, ns, "c", "l/1")
        assert api.delete("/v1/snapshots/v?namespace=" + ns).status_code == 204
        got = [check_sse_event(STREAM_MEDIA, sse.next(), block=sse.last_block) for _ in range(4)]
    finally:
        r.close()
    assert [(e["topic"], e["namespace"], e["event"]) for e in got] == [
        ("/snapshot/prepare", ns, {"key": "a/1", "snapshotter": "overlayfs"}),
        ("/snapshot/commit", ns, {"key": "a/1", "name": "l/1", "snapshotter": "overlayfs"}),
        ("/snapshot/prepare", ns, {"key": "c", "parent": "l/1", "snapshotter": "overlayfs"}),
        ("/snapshot/remove", ns, {"key": "v", "snapshotter": "overlayfs"}),
    ]


# --- statuses that need a daemon of their own ------------------------------------------------

def test_internal_error_when_the_store_is_locked(kegd_factory, pushed_images):
    """Another process holding SQLite's write lock makes every write fail
    (after kegd's short busy timeout): 500 internal, nothing changed. The loop
    is blocked that long, so the write timeout must be longer: libevent's
    cached clock would otherwise expire it at once and drop the answer."""
    kegd = kegd_factory(config={"http_write_timeout_ms": 30000})
    ns = create_namespace(kegd, labels={"a": "1"})
    path = "/v1/namespaces/" + ns["name"]
    new = fresh()
    img = pushed_images["busybox"]
    assert pull_lines(kegd, img.ref, "default")[-1]["state"] == "done"
    image_path, blob_path = "/v1/images/" + img.ref, "/v1/content/" + img.digest
    image, blob = kegd.get(image_path).json(), kegd.get(blob_path).json()
    assert kegd.post("/v1/containers", {"id": "c", "image": img.ref}).status_code == 201
    container = kegd.get("/v1/containers/c").json()
    data = b"uploaded while locked"
    db = sqlite3.connect(os.path.join(kegd.root, "metadata.db"), isolation_level=None, timeout=5)
    try:
        db.execute("BEGIN IMMEDIATE")
        for method, spec_path, send in [
                ("POST", "/v1/namespaces", lambda: kegd.post("/v1/namespaces", {"name": new})),
                ("PATCH", "/v1/namespaces/{name}",
                 lambda: kegd.patch(path, {"labels": {"a": "2"}})),
                ("DELETE", "/v1/namespaces/{name}", lambda: kegd.delete(path)),
                ("POST", "/v1/events",
                 lambda: kegd.post("/v1/events", {"topic": "/t/x", "event": {}})),
                ("POST", "/v1/images/tag",
                 lambda: kegd.post("/v1/images/tag", {"source": img.ref, "target": "x:1"})),
                ("PATCH", "/v1/images/{ref}",
                 lambda: kegd.patch(image_path, {"labels": {"a": "2"}})),
                ("DELETE", "/v1/images/{ref}", lambda: kegd.delete(image_path)),
                ("PUT", "/v1/content/{digest}",
                 lambda: kegd.request("PUT", "/v1/content/" + sha256(data), data=data)),
                ("PATCH", "/v1/content/{digest}",
                 lambda: kegd.patch(blob_path, {"labels": {"a": "2"}})),
                ("POST", "/v1/containers",
                 lambda: kegd.post("/v1/containers", {"id": "c2", "image": img.ref})),
                ("PATCH", "/v1/containers/{id}",
                 lambda: kegd.patch("/v1/containers/c", {"labels": {"a": "2"}})),
                ("PATCH", "/v1/containers/{id}/labels",
                 lambda: kegd.patch("/v1/containers/c/labels", {"labels": {"a": "2"}})),
                ("POST", "/v1/tasks", lambda: kegd.post("/v1/tasks", {"container_id": "c"})),
                ("DELETE", "/v1/containers/{id}", lambda: kegd.delete("/v1/containers/c")),
                ("DELETE", "/v1/content/{digest}", lambda: kegd.delete(blob_path))]:
            Exercise(method, spec_path).check(send(), 500, "internal")
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert kegd.get(path).json() == ns
    assert kegd.get("/v1/namespaces/" + new).status_code == 404
    assert kegd.get(image_path).json() == image and kegd.get(blob_path).json() == blob
    assert kegd.get("/v1/images/x:1").status_code == 404
    assert kegd.get("/v1/containers/c").json() == container
    assert kegd.get("/v1/containers/c2").status_code == 404
    assert kegd.get("/v1/snapshots/c2").status_code == 404
    assert kegd.get("/v1/content/" + sha256(data)).status_code == 404
    assert kegd.get("/v1/health").status_code == 200


def test_unavailable_while_shutting_down(kegd):
    """A request that was still arriving when SIGTERM came is answered 503."""
    conns = {}
    for path in ["/v1/health", "/v1/events"]:
        s = kegd.connect()
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n" % path.encode())
        conns[path] = s
    time.sleep(0.3)  # let kegd read the request lines
    kegd.proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 5
    while os.path.exists(kegd.sock) and time.time() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(kegd.sock), "kegd did not start shutting down"
    try:
        for path, s in conns.items():
            s.sendall(b"\r\n")
            Exercise("GET", path).check_raw(conftest.read_response(s), 503, "unavailable")
    finally:
        for s in conns.values():
            s.close()
    assert kegd.proc.wait(10) == 0


def test_task_waits_end_unavailable_at_shutdown(pushed_images):
    """Long-polls on a process (task wait, exec wait, exec add with wait) are
    answered 503 when kegd stops; the shims live on, and a restarted kegd
    deletes the tasks."""
    with own_kegd() as k:
        ref = pushed_images["busybox"].ref
        assert pull_lines(k, ref, "default")[-1]["state"] == "done"
        assert k.post("/v1/containers", {"id": "w", "image": ref,
                                         "options": {"args": ["sleep", "1000"]}}).ok
        assert k.post("/v1/tasks", {"container_id": "w"}, timeout=TASK_TIMEOUT).ok
        try:
            assert k.post("/v1/tasks/w/start", timeout=TASK_TIMEOUT).ok
            assert k.post("/v1/tasks/w/execs", {"exec_id": "e", "process": {
                "args": ["sleep", "1000"]}}).status_code == 201
            assert k.post("/v1/tasks/w/execs/e/start", timeout=TASK_TIMEOUT).ok
            run = json.dumps({"exec_id": "r", "wait": True,
                              "process": {"args": ["sleep", "1000"]}}).encode()
            pending = [(("GET", "/v1/tasks/{id}/wait"), b"GET /v1/tasks/w/wait HTTP/1.1\r\n"
                        b"Host: k\r\n\r\n"),
                       (("GET", "/v1/tasks/{id}/execs/{eid}/wait"),
                        b"GET /v1/tasks/w/execs/e/wait HTTP/1.1\r\nHost: k\r\n\r\n"),
                       (("POST", "/v1/tasks/{id}/execs"),
                        b"POST /v1/tasks/w/execs HTTP/1.1\r\nHost: k\r\nContent-Length: %d"
                        b"\r\n\r\n%s" % (len(run), run))]
            socks = []
            for op, data in pending:
                s = k.connect(TASK_TIMEOUT)
                s.sendall(data)
                socks.append((op, s))
            deadline = time.time() + TASK_TIMEOUT
            while k.get("/v1/tasks/w/execs/r").status_code != 200 or \
                    k.get("/v1/tasks/w/execs/r").json()["status"] != "running":
                assert time.time() < deadline, "the exec with wait never ran"
                time.sleep(0.05)
            k.proc.send_signal(signal.SIGTERM)
            try:
                for op, s in socks:
                    Exercise(*op).check_raw(conftest.read_response(s), 503, "unavailable")
            finally:
                for _, s in socks:
                    s.close()
            assert k.proc.wait(10) == 0
        finally:
            if k.proc.poll() is not None:
                k.start()
            k.delete("/v1/tasks/w?force=1", timeout=TASK_TIMEOUT)



def test_checkpoint_answers_its_image_when_criu_works(api, world):
    """The 200 of a checkpoint needs a CRIU that can dump on this host (in
    many containers and CI sandboxes it cannot: 409 with CRIU's message,
    which scenario_checkpoint_task checks); skipped then."""
    k, w = api, world
    cid = new_task(k, w)
    image = tempfile.mkdtemp(prefix="keg-openapi-ckpt-")
    try:
        body = {"image_path": image + "/img", "leave_running": True}
        r = k.post(tpath(w, cid, "/checkpoint"), body, timeout=60)
        ex = Exercise("POST", "/v1/tasks/{id}/checkpoint")
        if r.status_code == 409:
            ex.check(r, 409, "failed_precondition", request=body)
            pytest.skip("CRIU cannot checkpoint here: " + r.json()["error"]["message"])
        assert ex.check(r, 200, request=body) == {"checkpoint": image + "/img"}
        assert k.get(tpath(w, cid)).json()["status"] == "running"
    finally:
        drop_task(k, w, cid)
        shutil.rmtree(image, ignore_errors=True)

def test_exec_delete_refuses_a_bad_force(api):
    # Once a server bug: exec delete took any value but 1/true as false.
    r = api.delete("/v1/tasks/x/execs/y?force=maybe")
    assert r.status_code == 400, r.text

# --- once known server bugs, now regression tests, each on a daemon of its own -----------------

def test_a_streamed_body_that_times_out_releases_its_upload():
    with own_kegd(FAST_TIMEOUTS) as k:
        data = b"times out " + uuid.uuid4().hex.encode()
        d = sha256(data)
        ex = Exercise("PUT", "/v1/content/{digest}")
        ex.check_raw(raw(k, b"PUT /v1/content/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                         b"\r\n%s" % (d.encode(), len(data), data[:3])),
                     408, "request_timeout", "body timeout")
        time.sleep(0.2)
        ex.check(k.request("PUT", "/v1/content/" + d, data=data), 201, what="the next upload")


def test_a_streamed_body_that_times_out_ends_its_import():
    with own_kegd(FAST_TIMEOUTS) as k:
        ex = Exercise("POST", "/v1/images/import")
        ex.check_raw(raw(k, b"POST /v1/images/import?namespace=t HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 10\r\n\r\n{"), 408, "request_timeout", "body timeout")
        deadline = time.time() + 3
        while time.time() < deadline:
            ops = k.get("/v1/operations?namespace=t").json()["operations"]
            if ops and ops[0]["state"] != "running":
                break
            time.sleep(0.05)
        assert ops and ops[0]["state"] == "failed", ops


def test_cancelling_an_import_stops_it(world):
    data = world.archive()
    with own_kegd() as k:
        s = k.connect(30)
        try:
            s.sendall(b"POST /v1/images/import?namespace=t HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(data) + data[:2000])
            deadline = time.time() + 5
            while not k.get("/v1/operations?namespace=t").json()["operations"]:
                assert time.time() < deadline
                time.sleep(0.02)
            [op] = k.get("/v1/operations?namespace=t").json()["operations"]
            r = k.delete("/v1/operations/%s?namespace=t" % op["id"])
            assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
            s.sendall(data[2000:])
            conftest.read_response(s)
        finally:
            s.close()
        time.sleep(0.3)
        after = k.get("/v1/operations/%s?namespace=t" % op["id"]).json()
        assert is_valid("#/components/schemas/Operation", after), after
        assert after["state"] == "cancelled", after
        assert k.get("/v1/images?namespace=t").json()["images"] == []


def test_tag_force_must_be_a_boolean(api, world):
    body = {"source": world.ref, "target": "spec/force-%s:1" % uuid.uuid4().hex[:8],
            "force": "yes"}
    assert not is_valid(request_body_schema("POST", "/v1/images/tag"), body)
    r = api.post("/v1/images/tag?namespace=" + world.ns, body)
    assert r.status_code == 400, r.text


def test_push_and_export_use_only_the_namespaces_content(registry, pushed_images):
    ma = pushed_images["multiarch"]
    with own_kegd() as k:
        assert pull_lines(k, ma.ref, "a")[-1]["state"] == "done"  # the host platform only
        assert pull_lines(k, ma.ref, "b", all_platforms=True)[-1]["state"] == "done"
        image = k.get("/v1/images/%s?namespace=a" % ma.ref).json()
        assert image["platforms"] == ["linux/amd64"]
        r = k.post("/v1/images/export?namespace=a", {"refs": [ma.ref], "all_platforms": True})
        assert r.status_code == 409, "namespace a exported platforms it never pulled"
        r = k.post("/v1/images/push?namespace=a",
                   {"ref": ma.ref, "remote": registry.host + "/spec/isolation:1"})
        assert r.status_code == 409, "namespace a pushed platforms it never pulled"


# --- once known server bugs, kept as regression tests --------------------------------

def test_mount_refuses_an_unknown_snapshotter(world):
    with mount_dirs() as base:
        target = os.path.join(base, "t")
        os.mkdir(target)
        body = {"ref": world.ref, "target": target, "snapshotter": "zfs"}
        assert not is_valid(request_body_schema("POST", "/v1/images/mount"), body)
        r = world.k.post("/v1/images/mount?namespace=" + world.ns, body)
        drop_mount_snapshot(world.k, world.ns, target)
        assert r.status_code == 400, r.text


def test_tag_and_patch_answer_the_unpacked_snapshots(world):
    k, w = world.k, world
    doc = tag(k, w.ns, w.ref)
    assert "unpacked" in doc, doc
    r = k.patch("/v1/images/%s?namespace=%s" % (doc["name"], w.ns), {"labels": {"a": "1"}})
    assert "unpacked" in r.json(), r.text
