"""keg's own HTTP/1.1 client (src/client/api_client.c) against a stand-in for
kegd on a Unix socket, which records what keg sends and answers as each test
scripts it: the request heads and bodies, one connection kept from request
to request, a new one when kegd closed the kept one (and never a request
sent again once kegd read it), reply framings, replies that are not HTTP,
uploads (with a length, chunked, refused before they are all sent), and a
stream that Ctrl-C ends while it is idle."""
import json
import os
import select
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import KEG


def read_request(conn, buf, with_body=True):
    """(request dict, rest of buf), or (None, buf) when the client closed.
    Without with_body, only the head is read (and what came with it)."""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = conn.recv(65536)
            if not chunk:
                raise EOFError("body cut short")
            buf += chunk

    body = b""
    if not with_body:
        pass
    elif headers.get("transfer-encoding") == "chunked":
        pieces = 0
        while True:
            while b"\r\n" not in buf:
                need(len(buf) + 1)
            line, buf = buf.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            need(size + 2)
            assert buf[size:size + 2] == b"\r\n"
            body += buf[:size]
            buf = buf[size + 2:]
            if size == 0:
                break
            pieces += 1
        headers["x-chunks"] = str(pieces)
    elif "content-length" in headers:
        n = int(headers["content-length"])
        need(n)
        body, buf = buf[:n], buf[n:]
    req = {"method": method, "target": target, "version": version, "headers": headers,
           "body": body}
    return req, buf


def reply(status, body=b"", headers=(), reason="X"):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    head = "HTTP/1.1 %d %s\r\n" % (status, reason)
    names = [h.split(":")[0].lower() for h in headers]
    if "transfer-encoding" not in names and "content-length" not in names and status != 204:
        head += "Content-Length: %d\r\n" % len(body)
    for h in headers:
        head += h + "\r\n"
    return head.encode() + b"\r\n" + body


def envelope(status, code, message):
    return reply(status, {"error": {"code": code, "message": message}},
                 ["Content-Type: application/json"])


class FakeKegd:
    """answer(req, fake) returns what to do after a request: bytes to send
    and keep the connection, or a tuple (bytes or None, then) with then one
    of "keep", "close" (at once), "close-unread" (once the next request's
    bytes are there, without reading them), "silent" (keep it open, send
    nothing more). Each request records its connection number. With
    head_only, requests are answered once their head is in, and their
    bodies are not read (a refusal before the upload)."""

    def __init__(self, path, answer, head_only=False):
        self.path, self.answer, self.head_only = path, answer, head_only
        self.requests = []
        self.connections = 0
        self.done = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.threads = [threading.Thread(target=self.serve, daemon=True)]
        self.threads[0].start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self.handle, args=(conn, self.connections),
                                 daemon=True)
            self.threads.append(t)
            t.start()

    def handle(self, conn, number):
        buf = b""
        with conn:
            while True:
                try:
                    req, buf = read_request(conn, buf, not self.head_only)
                except (EOFError, OSError):
                    return
                if req is None:
                    return
                req["conn"] = number
                self.requests.append(req)
                action = self.answer(req, self)
                data, then = action if isinstance(action, tuple) else (action, "keep")
                try:
                    if data:
                        conn.sendall(data)
                except OSError:
                    return
                if then == "close":
                    return
                if then == "close-unread":
                    select.select([conn], [], [], 10)
                    return
                if then == "silent":
                    self.done.wait(30)
                    return

    def close(self):
        self.done.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept
        except OSError:
            pass
        self.sock.close()
        for t in self.threads:
            t.join(5)


@pytest.fixture
def fake(tmp_path):
    made = []

    def start(answer, **kw):
        f = FakeKegd(str(tmp_path / "fake.sock"), answer, **kw)
        made.append(f)
        return f
    yield start
    for f in made:
        f.close()


def keg(fake_kegd, *args, input=None, timeout=30):
    return subprocess.run([KEG, "--address", fake_kegd.path] + list(args),
                          capture_output=True, timeout=timeout,
                          input=input if input is not None else b"")


def text(r):
    return r.stderr.decode(errors="replace")


def created(req, fake):
    return reply(201, json.loads(req["body"]) if req["body"] else {})


# --- requests ---------------------------------------------------------------

def test_request_head_and_json_body(fake):
    f = fake(created)
    r = keg(f, "-n", "team-a", "namespaces", "create", "web")
    assert r.returncode == 0, text(r)
    (req,) = f.requests
    assert (req["method"], req["target"], req["version"]) == \
        ("POST", "/v1/namespaces", "HTTP/1.1")
    h = req["headers"]
    assert h["host"] == "localhost"
    assert h["user-agent"].startswith("keg/")
    assert h["accept"] == "application/json"
    assert h["keg-namespace"] == "team-a"
    assert h["content-type"] == "application/json"
    assert int(h["content-length"]) == len(req["body"])
    assert json.loads(req["body"]) == {"name": "web", "labels": {}}
    assert "expect" not in h and "transfer-encoding" not in h


def test_no_namespace_header_unless_chosen(fake):
    f = fake(lambda req, f: reply(204))
    r = keg(f, "namespaces", "rm", "web")
    assert r.returncode == 0, text(r)
    (req,) = f.requests
    assert (req["method"], req["target"]) == ("DELETE", "/v1/namespaces/web")
    assert "keg-namespace" not in req["headers"] and "content-length" not in req["headers"]


# --- one connection, kept; a new one when kegd closed it ---------------------

def test_connection_kept_across_requests(fake):
    f = fake(lambda req, f: reply(204))
    r = keg(f, "namespaces", "rm", "a", "b", "c")
    assert r.returncode == 0, text(r)
    assert [q["target"] for q in f.requests] == \
        ["/v1/namespaces/a", "/v1/namespaces/b", "/v1/namespaces/c"]
    assert [q["conn"] for q in f.requests] == [1, 1, 1]


@pytest.mark.parametrize("then", ["close", "close-unread"])
def test_new_connection_when_kegd_closed_the_kept_one(fake, then):
    """kegd closes an idle connection (its idle timeout, a restart) without
    saying so: the next request goes on a new one, each exactly once."""
    f = fake(lambda req, f: (reply(204), then))
    r = keg(f, "namespaces", "rm", "a", "b", "c")
    assert r.returncode == 0, text(r)
    assert [q["target"] for q in f.requests] == \
        ["/v1/namespaces/a", "/v1/namespaces/b", "/v1/namespaces/c"]
    assert [q["conn"] for q in f.requests] == [1, 2, 3]


def test_connection_close_is_honoured(fake):
    f = fake(lambda req, f: (reply(204, headers=["Connection: close"]), "keep"))
    r = keg(f, "namespaces", "rm", "a", "b")
    assert r.returncode == 0, text(r)
    assert [q["conn"] for q in f.requests] == [1, 2]


def test_request_kegd_read_is_never_sent_again(fake):
    """kegd read the request and closed without an answer (it crashed): keg
    says so rather than sending it again."""
    def answer(req, f):
        return (reply(204), "keep") if req["target"].endswith("/a") else (None, "close")
    f = fake(answer)
    r = keg(f, "namespaces", "rm", "a", "b")
    assert (r.returncode, r.stdout) == (1, b"a\n")
    assert text(r) == "keg: talking to kegd at %s: kegd closed the connection without " \
        "answering\n" % f.path
    assert [q["target"] for q in f.requests] == ["/v1/namespaces/a", "/v1/namespaces/b"]


# --- replies ----------------------------------------------------------------

NS_LIST = {"namespaces": [{"name": "alpha", "labels": {}}]}


@pytest.mark.parametrize("framing", ["length", "chunked", "eof", "close"])
def test_reply_framings(fake, framing):
    body = json.dumps(NS_LIST).encode()

    def answer(req, f):
        if framing == "length":
            return reply(200, body)
        if framing == "close":
            return reply(200, body, ["Connection: close"]), "close"
        if framing == "eof":
            return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + body, \
                "close"
        pieces = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7])
                          for i in range(0, len(body), 7))
        return reply(200, pieces + b"0\r\nTrailer: x\r\n\r\n",
                     ["Transfer-Encoding: chunked"])
    f = fake(answer)
    r = keg(f, "namespaces", "ls", "-q")
    assert (r.returncode, r.stdout, text(r)) == (0, b"alpha\n", "")


def test_reply_cut_short(fake):
    f = fake(lambda req, f: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"nam", "close"))
    r = keg(f, "namespaces", "ls")
    assert r.returncode == 1
    assert text(r) == "keg: talking to kegd at %s: kegd closed the connection before " \
        "the reply ended\n" % f.path


def test_reply_not_http(fake):
    f = fake(lambda req, f: (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "close"))
    r = keg(f, "namespaces", "ls")
    assert r.returncode == 1
    assert text(r) == "keg: talking to kegd at %s: a reply that is not HTTP/1.x\n" % f.path


def test_reply_head_too_long(fake):
    f = fake(lambda req, f: (b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70000 + b"\r\n\r\n",
                             "close"))
    r = keg(f, "namespaces", "ls")
    assert r.returncode == 1
    assert text(r) == "keg: talking to kegd at %s: a reply head longer than 65536 " \
        "bytes\n" % f.path


def test_reply_malformed_chunks(fake):
    f = fake(lambda req, f: (reply(200, b"zz\r\n{}\r\n0\r\n\r\n",
                                   ["Transfer-Encoding: chunked"]), "close"))
    r = keg(f, "namespaces", "ls")
    assert r.returncode == 1
    assert text(r) == "keg: talking to kegd at %s: a reply with a malformed chunked " \
        "body\n" % f.path


def test_error_replies(fake):
    answers = {
        "/v1/namespaces/a": envelope(404, "not_found", "namespace a not found"),
        "/v1/namespaces/b": reply(502, b"Bad Gateway", ["Content-Type: text/plain"]),
        "/v1/namespaces/c": reply(503, {"error": {"code": "unavailable"}}),
    }
    f = fake(lambda req, f: answers[req["target"]])
    r = keg(f, "namespaces", "rm", "a", "b", "c")
    assert r.returncode == 1
    assert text(r) == ("keg: namespace a not found\n"
                       "keg: kegd answered HTTP 502\n"
                       "keg: kegd answered HTTP 503: unavailable\n")
    # Error replies read to their end keep the connection.
    assert [q["conn"] for q in f.requests] == [1, 1, 1]


def test_interim_reply_skipped(fake):
    f = fake(lambda req, f: b"HTTP/1.1 100 Continue\r\n\r\n" + reply(204))
    r = keg(f, "namespaces", "rm", "a")
    assert (r.returncode, text(r)) == (0, "")


# --- uploads ----------------------------------------------------------------

def import_refused(req, f):
    return envelope(400, "invalid_argument", "not an archive (%d bytes)" % len(req["body"]))


def test_upload_from_a_pipe_goes_chunked(fake):
    data = os.urandom(300 * 1024)
    f = fake(import_refused)
    r = keg(f, "images", "import", "-", input=data)
    assert r.returncode == 1
    assert text(r) == "keg: not an archive (%d bytes)\n" % len(data)
    (req,) = f.requests
    h = req["headers"]
    assert (req["method"], req["target"]) == ("POST", "/v1/images/import")
    assert h["transfer-encoding"] == "chunked" and "content-length" not in h
    assert h["content-type"] == "application/x-tar"
    assert h["accept"] == "application/x-ndjson"
    assert int(h["x-chunks"]) >= 2
    assert req["body"] == data


def test_upload_from_a_file_has_its_length(fake, tmp_path):
    data = os.urandom(200 * 1024 + 7)
    path = tmp_path / "a.tar"
    path.write_bytes(data)
    f = fake(import_refused)
    r = keg(f, "images", "import", "--base-name", "x/y", str(path))
    assert r.returncode == 1
    assert text(r) == "keg: not an archive (%d bytes)\n" % len(data)
    (req,) = f.requests
    assert req["target"] == "/v1/images/import?base_name=x%2Fy"
    assert int(req["headers"]["content-length"]) == len(data)
    assert "transfer-encoding" not in req["headers"]
    assert req["body"] == data


def test_upload_refused_before_it_is_sent(fake, tmp_path):
    """kegd answers as soon as the head is in, reads none of the body, and
    closes: its reason is what keg reports, not the broken pipe that
    sending the rest meets."""
    path = tmp_path / "big.tar"
    path.write_bytes(b"\0" * (16 << 20))
    f = fake(lambda req, f: (envelope(413, "payload_too_large", "the archive is too large"),
                             "close"), head_only=True)
    r = keg(f, "images", "import", str(path))
    assert (r.returncode, text(r)) == (1, "keg: the archive is too large\n")
    assert len(f.requests) == 1


# --- streams ----------------------------------------------------------------

def events_answer(ends_with_id=None):
    def answer(req, f):
        if req["target"] == "/v1/plugins":
            return reply(200, {"plugins": []})
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        first = b": hello\n\n"
        body = head + b"%x\r\n%s\r\n" % (len(first), first)
        if ends_with_id is not None and len(f.requests) == 2:
            event = (b"id: %d\nevent: /namespaces/create\ndata: {\"namespace\":\"x\","
                     b"\"topic\":\"/namespaces/create\",\"event\":{\"name\":\"n\"}}\n\n"
                     % ends_with_id)
            return body + b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event)
        return body, "silent"
    return answer


def wait_for(cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_idle_stream_ends_on_ctrl_c(fake):
    f = fake(events_answer())
    proc = subprocess.Popen([KEG, "--address", f.path, "events"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: len(f.requests) == 2)
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read()
    assert took < 1.5, "keg took %.2f s to see Ctrl-C" % took
    assert [q["target"] for q in f.requests][0] == "/v1/plugins"
    assert f.requests[1]["target"].startswith("/v1/events")
    h = f.requests[1]["headers"]
    assert h["accept"] == "text/event-stream"
    # The stream went on the connection the first request left open.
    assert [q["conn"] for q in f.requests] == [1, 1]


def test_stream_resumes_with_last_event_id(fake):
    f = fake(events_answer(ends_with_id=41))
    proc = subprocess.Popen([KEG, "--address", f.path, "events"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: len(f.requests) == 3)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "last-event-id" not in f.requests[1]["headers"]
    assert f.requests[2]["headers"]["last-event-id"] == "41"
    # The ended stream left its connection fit for the next request.
    assert f.requests[2]["conn"] == f.requests[1]["conn"]
    assert b"/namespaces/create" in proc.stdout.read()
