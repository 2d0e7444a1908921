"""Shared fixtures: a real kegd on a private temp root and socket.

Every test that needs the daemon takes the `kegd` fixture. It starts the
binary named by $KEGD (default: ./kegd in the build tree), waits until the
socket answers, and stops it by pid at the end. Nothing here is a mock: the
tests talk to the real socket with requests (via requests_unixsocket), raw
sockets, and real curl.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import pytest
import requests_unixsocket

# Registry, image and registry-front fixtures (docker-registry on 127.0.0.1).
from registry import *  # noqa: F401,F403

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("KEG_BUILDDIR", os.path.abspath(os.path.join(HERE, "..", "..")))
KEGD = os.environ.get("KEGD", os.path.join(BUILD, "kegd"))
KEG = os.environ.get("KEG", os.path.join(BUILD, "keg"))

# Short limits so timeout behaviour is testable in seconds, not minutes.
TEST_CONFIG = {
    "http_header_timeout_ms": 2000,
    "http_body_timeout_ms": 2000,
    "http_idle_timeout_ms": 5000,
    "http_write_timeout_ms": 5000,
    "event_heartbeat_ms": 1000,
    "event_log_size": 1000,
    "event_max_pending_bytes": 256 * 1024,
    "http_max_body_bytes": 1024 * 1024,
}


class Kegd:
    """A kegd process on its own root, state and socket."""

    def __init__(self, base, config=None, extra_args=()):
        self.base = base
        self.root = os.path.join(base, "root")
        self.state = os.path.join(base, "state")
        self.sock = os.path.join(base, "keg.sock")
        self.log_path = os.path.join(base, "kegd.log")
        self.config_path = os.path.join(base, "kegd.json")
        self.log_root = os.path.join(base, "logs")
        os.makedirs(base, exist_ok=True)
        cfg = dict(TEST_CONFIG)
        cfg.update(config or {})
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)
        self.extra_args = list(extra_args)
        self.proc = None
        self.session = requests_unixsocket.Session()
        self.base_url = "http+unix://" + urllib.parse.quote(self.sock, safe="")

    # --- lifecycle -------------------------------------------------------
    def argv(self):
        return [KEGD, "--root", self.root, "--state", self.state,
                "--address", self.sock, "--config", self.config_path,
                "--log-root", self.log_root, "--log-level", "debug"] + self.extra_args

    def start(self, timeout=10):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kegd exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                if self.get("/v1/health").status_code == 200:
                    return self
            except Exception:
                pass
            time.sleep(0.02)
        raise RuntimeError("kegd did not answer in time:\n" + self.log())

    def stop(self, timeout=10):
        """SIGTERM, as systemd would; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    # --- HTTP ---------------------------------------------------------------
    def url(self, path):
        return self.base_url + path

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        if body is not None:
            kw["data"] = json.dumps(body)
        return self.request("POST", path, **kw)

    def patch(self, path, body=None, **kw):
        if body is not None:
            kw["data"] = json.dumps(body)
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def connect(self, timeout=10):
        """A raw socket to the API, for hand-written HTTP."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.sock)
        return s

    def curl(self, *args, check=True, timeout=30):
        """Real curl against the real socket; returns CompletedProcess."""
        argv = ["curl", "-sS", "--unix-socket", self.sock] + list(args)
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout, check=check)

    def keg(self, *args, check=False, timeout=30, env=None, input=None):
        """The keg CLI against this daemon."""
        e = dict(os.environ)
        e.update(env or {})
        argv = [KEG, "--address", self.sock] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=check, env=e, input=input)


def read_response(sock, limit=1 << 20):
    """Reads one whole HTTP response (head + Content-Length body) from a raw
    socket; returns (status, headers dict lowercased, body bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(body) < n and len(body) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


@pytest.fixture
def tmpbase():
    d = tempfile.mkdtemp(prefix="keg-test-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def kegd_factory(tmpbase):
    """Starts daemons on demand (e.g. with a special config); stops them all."""
    started = []

    def make(config=None, extra_args=(), name="d", start=True):
        k = Kegd(os.path.join(tmpbase, name), config, extra_args)
        started.append(k)
        return k.start() if start else k

    yield make
    for k in started:
        try:
            k.stop()
        except Exception:
            pass
        cleanup_tasks(k)
    for k in started:
        check_sanitizer_reports(k)


# --- what a test's containers leave behind ------------------------------------------
def _proc_start(pid):
    """Field 22 of /proc/PID/stat, or None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rpartition(")")[2].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _proc_ppid(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _shim_files(state):
    for root, _dirs, files in os.walk(os.path.join(state, "tasks")):
        if "shim.json" in files:
            try:
                with open(os.path.join(root, "shim.json")) as f:
                    yield json.load(f)
            except (OSError, ValueError):
                pass


def _mounts_under(path):
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                out.append(mp)
    return sorted(out, key=len, reverse=True)


def cleanup_tasks(k):
    """Kills (by pid, checked against shim.json of THIS daemon's state dir)
    the shims and container processes a test left, deletes their runtime
    state and unmounts whatever is mounted under the state dir. Never by
    name: other daemons and tests run on the same host."""
    if not os.path.isdir(os.path.join(k.state, "tasks")):
        return
    for info in list(_shim_files(k.state)):
        shim, start, pid = info.get("shim_pid"), info.get("shim_start"), info.get("pid")
        if not shim or _proc_start(shim) != start:
            continue
        if pid and _proc_ppid(pid) == shim:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.kill(shim, signal.SIGKILL)
        except OSError:
            pass
    runc_root = os.path.join(k.state, "runc")
    if os.path.isdir(runc_root):
        for ns in os.listdir(runc_root):
            root = os.path.join(runc_root, ns)
            for cid in os.listdir(root):
                for rt in ("runc", "crun"):
                    if shutil.which(rt):
                        subprocess.run([rt, "--root", root, "delete", "--force", cid],
                                       capture_output=True, timeout=30)
    for mp in _mounts_under(k.state):
        subprocess.run(["umount", "-l", mp], capture_output=True, timeout=30)


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "AddressSanitizer:DEADLYSIGNAL")


def check_sanitizer_reports(k):
    """In sanitizer builds a report in kegd's log fails the test that ran it."""
    log = k.log()
    for mark in SANITIZER_MARKS:
        if mark in log:
            pytest.fail("sanitizer report in %s:\n%s" % (k.log_path, log[-8000:]))


@pytest.fixture
def kegd(kegd_factory):
    return kegd_factory()
