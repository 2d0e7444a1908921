"""kegd-shim on its own, without kegd: a real OCI bundle (busybox-static
rootfs, config.json from `runc spec`) run by real runc, and by crun when it
is installed, with private runtime root, state directory and log.

Each test starts the shim as kegd does (a ready pipe as fd 3), reads the
ready line, and checks what the shim leaves: the CRI log, DIR/exit,
DIR/shim.json, and its attach and control sockets. Cleanup deletes the
container with the runtime and kills only pids the test started.
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("KEG_BUILDDIR", os.path.abspath(os.path.join(HERE, "..", "..")))
SHIM = os.path.join(BUILD, "kegd-shim")
BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "echo", "sleep", "cat", "ls", "tty", "stty", "head", "tr", "true"]
CRI_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$")

RUNTIMES = [r for r in ("runc", "crun") if shutil.which(r)]

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="running containers needs root"),
    pytest.mark.skipif(not RUNTIMES, reason="neither runc nor crun installed"),
    pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox-static missing"),
]


def _spec_template():
    """`runc spec` output, made once (crun's differs in no way we use)."""
    d = tempfile.mkdtemp(prefix="keg-spec-")
    try:
        subprocess.run(["runc", "spec"], cwd=d, check=True)
        with open(os.path.join(d, "config.json")) as f:
            return json.load(f)
    finally:
        shutil.rmtree(d)


class Env:
    """One test's bundle, state directories and cleanup list."""

    def __init__(self, runtime, tmp):
        self.runtime = shutil.which(runtime)
        self.tmp = tmp
        self.root = os.path.join(tmp, "runtime-root")
        self.bundle = os.path.join(tmp, "bundle")
        self.id = "shimtest-%d-%s" % (os.getpid(), os.path.basename(tmp)[-8:].replace("_", ""))
        self.ids = []
        self.pids = []  # processes this test started (shims, launchers)
        os.makedirs(self.root)
        rootfs = os.path.join(self.bundle, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        shutil.copy(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
        for a in APPLETS:
            os.symlink("busybox", os.path.join(rootfs, "bin", a))
        for d in ("proc", "sys", "dev", "tmp"):
            os.makedirs(os.path.join(rootfs, d), exist_ok=True)

    def write_config(self, args, terminal=False, pid_ns=True):
        spec = _spec_template()
        spec["process"]["args"] = args
        spec["process"]["terminal"] = terminal
        spec["root"]["readonly"] = False
        if not pid_ns:
            spec["linux"]["namespaces"] = [
                n for n in spec["linux"]["namespaces"] if n["type"] != "pid"]
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(spec, f)
        return spec

    def state(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        return d

    def launch(self, state, log, exec_process=None, tty=False, stdin=False,
               launcher=None, cid=None, restore=None):
        """Starts the shim as kegd does; returns (ready dict, launcher Popen)."""
        cid = cid or self.id
        if cid not in self.ids:
            self.ids.append(cid)
        r, w = os.pipe()
        os.set_inheritable(w, True)
        argv = [SHIM, "--id", cid, "--bundle", self.bundle, "--state-dir", state,
                "--runtime", self.runtime, "--runtime-root", self.root, "--log", log,
                "--ready-fd", str(w)]
        if exec_process:
            argv += ["--exec-process", exec_process]
        if restore:
            argv += ["--restore", restore]
        if tty:
            argv.append("--tty")
        if stdin:
            argv.append("--stdin")
        if launcher:
            argv = launcher + argv
        p = subprocess.Popen(argv, pass_fds=(w,), stdin=subprocess.DEVNULL)
        self.pids.append(p.pid)
        os.close(w)
        line = b""
        deadline = time.time() + 30
        while not line.endswith(b"\n") and time.time() < deadline:
            ready, _, _ = select.select([r], [], [], 1)
            if ready:
                chunk = os.read(r, 4096)
                if not chunk:
                    break
                line += chunk
        os.close(r)
        assert line.endswith(b"\n"), "no ready line: %r" % line
        info = json.loads(line)
        if "shim_pid" in info:
            self.pids.append(info["shim_pid"])
        if launcher is None:
            assert p.wait(timeout=10) == 0  # the started process exits at once
        return info, p

    def rt(self, *args, check=True):
        return subprocess.run([self.runtime, "--root", self.root] + list(args),
                              capture_output=True, text=True, check=check, timeout=30)

    def cleanup(self):
        for cid in self.ids:
            self.rt("delete", "--force", cid, check=False)
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


_PROBED = {}


def runtime_problem(runtime):
    """Why this runtime cannot run a container on this host (None: it can).

    crun refuses hybrid cgroup v1/v2 hosts, for one; that is the host's
    limit, not the shim's, so its tests skip and say why."""
    if runtime not in _PROBED:
        tmp = tempfile.mkdtemp(prefix="keg-probe-")
        e = Env(runtime, tmp)
        try:
            e.write_config(["true"])
            # The created process keeps the runtime's stdio: a file, not a
            # pipe that would never reach EOF.
            with tempfile.TemporaryFile() as err:
                rc = subprocess.run([e.runtime, "--root", e.root, "create", "--bundle",
                                     e.bundle, e.id], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err,
                                    timeout=30).returncode
                err.seek(0)
                msg = err.read().decode(errors="replace").strip()
            _PROBED[runtime] = None if rc == 0 else (msg or "create failed")
        finally:
            e.rt("delete", "--force", e.id, check=False)
            shutil.rmtree(tmp, ignore_errors=True)
    return _PROBED[runtime]


@pytest.fixture(params=RUNTIMES)
def env(request, tmp_path):
    problem = runtime_problem(request.param)
    if problem:
        pytest.skip("%s cannot run containers here: %s" % (request.param, problem[-200:]))
    e = Env(request.param, str(tmp_path))
    yield e
    e.cleanup()


def wait_file(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return
        time.sleep(0.05)
    raise AssertionError("%s never appeared" % path)


def wait_exit(state, timeout=20):
    path = os.path.join(state, "exit")
    wait_file(path, timeout)
    with open(path) as f:
        return json.load(f)


def cri_records(log):
    with open(log) as f:
        text = f.read()
    assert text.endswith("\n") or text == ""
    out = []
    for line in text.splitlines():
        m = CRI_RE.match(line)
        assert m, "not a CRI record: %r" % line[:200]
        out.append((m.group(2), m.group(3), m.group(4)))
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def run_to_exit(env, args, **kw):
    """Creates, starts and waits: (exit dict, CRI records)."""
    env.write_config(args, **kw)
    state, log = env.state("st"), os.path.join(env.tmp, "ctr.log")
    info, _ = env.launch(state, log)
    assert info["pid"] > 0 and info["shim_pid"] > 0 and info["shim_start"] > 0
    env.rt("start", env.id)
    ex = wait_exit(state)
    return ex, cri_records(log)


def test_echo_hi(env):
    before = time.time_ns()
    ex, recs = run_to_exit(env, ["echo", "hi"])
    assert ex["status"] == 0
    assert before <= ex["exited_at"] <= time.time_ns()
    assert ("stdout", "F", "hi") in recs
    with open(os.path.join(env.tmp, "st", "shim.json")) as f:
        info = json.load(f)
    assert set(info) == {"shim_pid", "shim_start", "pid"}


def test_exit_code(env):
    ex, _ = run_to_exit(env, ["sh", "-c", "exit 7"])
    assert ex["status"] == 7


def test_sigterm_gives_143(env):
    # Without its own pid namespace the process is not an init, which
    # would ignore SIGTERM without a handler.
    env.write_config(["sleep", "100"], pid_ns=False)
    state = env.state("st")
    info, _ = env.launch(state, os.path.join(env.tmp, "ctr.log"))
    env.rt("start", env.id)
    time.sleep(0.3)
    os.kill(info["pid"], signal.SIGTERM)
    assert wait_exit(state)["status"] == 143


def test_stdout_and_stderr_streams(env):
    ex, recs = run_to_exit(env, ["sh", "-c", "echo out; echo err >&2; echo out2"])
    assert ex["status"] == 0
    assert ("stdout", "F", "out") in recs
    assert ("stderr", "F", "err") in recs
    assert ("stdout", "F", "out2") in recs
    assert ("stderr", "F", "out") not in recs


def test_long_line_split(env):
    ex, recs = run_to_exit(env, ["sh", "-c", "head -c 102400 /dev/zero | tr '\\0' a; echo; echo next"])
    assert ex["status"] == 0
    out = [r for r in recs if r[0] == "stdout"]
    tags = [r[1] for r in out]
    assert tags == ["P"] * 6 + ["F", "F"], tags
    assert all(len(r[2]) == 16384 for r in out[:6])
    assert "".join(r[2] for r in out[:7]) == "a" * 102400
    assert out[7][2] == "next"


def test_shim_survives_launcher_and_sigterm(env):
    env.write_config(["sleep", "1000"])
    state = env.state("st")
    # The launcher runs the shim, then lingers like a daemon would.
    launcher = ["/bin/sh", "-c", '"$@"; exec sleep 1000', "launcher"]
    info, lp = env.launch(state, os.path.join(env.tmp, "ctr.log"), launcher=launcher)
    env.rt("start", env.id)
    shim = info["shim_pid"]
    assert os.getsid(shim) == shim  # its own session
    lp.kill()
    lp.wait(timeout=10)
    os.kill(shim, signal.SIGTERM)  # ignored: only the process's exit ends it
    time.sleep(0.5)
    assert alive(shim) and alive(info["pid"])
    with open("/proc/%d/stat" % info["pid"]) as f:
        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    assert ppid == shim  # the container process is the shim's child
    assert not os.path.exists(os.path.join(state, "exit"))
    env.rt("kill", env.id, "KILL")
    assert wait_exit(state)["status"] == 137
    deadline = time.time() + 10
    while alive(shim) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(shim)


def test_runtime_error_reported(env):
    env.write_config(["/no/such/binary"])
    state = env.state("st")
    info, _ = env.launch(state, os.path.join(env.tmp, "ctr.log"))
    assert set(info) == {"error"}
    assert "no/such/binary" in info["error"] or "no such file" in info["error"].lower()
    time.sleep(0.5)
    assert not os.path.exists(os.path.join(state, "exit"))
    assert not os.path.exists(os.path.join(state, "shim.json"))


def test_restore_from_a_bogus_image_reports_the_runtime_error(env):
    """--restore runs `restore --detach --image-path DIR` instead of
    create; from a directory that holds no checkpoint the runtime's
    complaint comes back on the ready line and nothing is left."""
    env.write_config(["sleep", "1000"])
    state = env.state("st")
    image = os.path.join(env.tmp, "image")
    os.makedirs(image)
    info, _ = env.launch(state, os.path.join(env.tmp, "ctr.log"), restore=image)
    assert set(info) == {"error"}, info
    assert info["error"], info
    time.sleep(0.5)
    assert not os.path.exists(os.path.join(state, "exit"))
    assert not os.path.exists(os.path.join(state, "shim.json"))
    assert env.rt("state", env.id, check=False).returncode != 0   # no container left


def test_restore_and_exec_process_exclude_each_other(tmp_path):
    r, w = os.pipe()
    p = subprocess.Popen([SHIM, "--id", "x", "--bundle", "/b", "--state-dir", str(tmp_path),
                          "--runtime", "/bin/true", "--runtime-root", "/r", "--log", "/l",
                          "--ready-fd", str(w), "--exec-process", "/p", "--restore", "/i"],
                         pass_fds=(w,), stderr=subprocess.DEVNULL)
    os.close(w)
    assert p.wait(timeout=10) == 1
    line = os.read(r, 4096)
    os.close(r)
    assert "exclude" in json.loads(line)["error"]


def test_exec_process(env):
    spec = env.write_config(["sleep", "1000"])
    init_state = env.state("st")
    init, _ = env.launch(init_state, os.path.join(env.tmp, "ctr.log"))
    env.rt("start", env.id)
    proc = dict(spec["process"], args=["sh", "-c", "echo exec; exit 3"])
    exec_state = env.state("exec1")
    pfile = os.path.join(exec_state, "process.json")
    with open(pfile, "w") as f:
        json.dump(proc, f)
    elog = os.path.join(env.tmp, "ctr.exec1.log")
    info, _ = env.launch(exec_state, elog, exec_process=pfile)
    assert info["pid"] != init["pid"] and info["shim_pid"] != init["shim_pid"]
    assert wait_exit(exec_state)["status"] == 3
    assert ("stdout", "F", "exec") in cri_records(elog)
    # The init process is untouched by the exec's end.
    assert alive(init["pid"])
    assert not os.path.exists(os.path.join(init_state, "exit"))
    env.rt("kill", env.id, "KILL")
    assert wait_exit(init_state)["status"] == 137


def test_tty(env):
    env.write_config(["sh", "-c", "tty"], terminal=True)
    state, log = env.state("st"), os.path.join(env.tmp, "ctr.log")
    env.launch(state, log, tty=True)
    env.rt("start", env.id)
    assert wait_exit(state)["status"] == 0
    recs = cri_records(log)
    assert any(s == "stdout" and re.match(r"^/dev/pts/\d+\r?$", t) for s, _, t in recs), recs
    assert not os.path.exists(os.path.join(state, "console.sock"))


def _read_until(sock, needle, timeout=10):
    data = b""
    deadline = time.time() + timeout
    sock.settimeout(0.5)
    while needle not in data and time.time() < deadline:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
    return data


def _connect(state, name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(state, name))
    return s


def test_attach_stdin_and_close(env):
    env.write_config(["cat"])
    state, log = env.state("st"), os.path.join(env.tmp, "ctr.log")
    env.launch(state, log, stdin=True)
    env.rt("start", env.id)
    a = _connect(state, "attach.sock")
    a.sendall(b"echo attached\n")
    assert b"echo attached\n" in _read_until(a, b"attached\n")
    c = _connect(state, "control.sock")
    c.sendall(b"close-stdin\n")
    c.close()
    assert wait_exit(state)["status"] == 0  # cat saw EOF
    assert ("stdout", "F", "echo attached") in cri_records(log)
    assert a.recv(10) == b""  # the shim closed the client on its way out
    a.close()


def test_tty_resize(env):
    env.write_config(["sh"], terminal=True)
    state, log = env.state("st"), os.path.join(env.tmp, "ctr.log")
    env.launch(state, log, tty=True, stdin=True)
    env.rt("start", env.id)
    c = _connect(state, "control.sock")
    c.sendall(b"resize 100 40\n")
    c.close()
    time.sleep(0.2)
    a = _connect(state, "attach.sock")
    a.sendall(b"stty size; exit 5\n")
    assert b"40 100" in _read_until(a, b"40 100")
    assert wait_exit(state)["status"] == 5
    a.close()


def test_slow_attach_client_dropped(env):
    # A client that never reads must not stall the process or the log.
    env.write_config(["sh", "-c", "sleep 0.5; head -c 3000000 /dev/zero | tr '\\0' x; echo; echo done"])
    state, log = env.state("st"), os.path.join(env.tmp, "ctr.log")
    env.launch(state, log)
    a = _connect(state, "attach.sock")
    a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    env.rt("start", env.id)
    assert wait_exit(state, timeout=30)["status"] == 0
    assert ("stdout", "F", "done") in cri_records(log)
    a.close()


def test_no_fd_leaks_into_container(env):
    # "; true" keeps sh from exec-ing ls, whose own directory fd is 3.
    ex, recs = run_to_exit(env, ["sh", "-c", "ls /proc/$$/fd; true"])
    assert ex["status"] == 0
    fds = sorted(t for s, _, t in recs if s == "stdout")
    assert fds == ["0", "1", "2"], fds


def test_no_fd_leaks_into_exec(env):
    spec = env.write_config(["sleep", "1000"])
    env.launch(env.state("st"), os.path.join(env.tmp, "ctr.log"))
    env.rt("start", env.id)
    exec_state = env.state("exec1")
    pfile = os.path.join(exec_state, "process.json")
    with open(pfile, "w") as f:
        json.dump(dict(spec["process"], args=["sh", "-c", "ls /proc/$$/fd; true"]), f)
    elog = os.path.join(env.tmp, "exec.log")
    env.launch(exec_state, elog, exec_process=pfile)
    assert wait_exit(exec_state)["status"] == 0
    fds = sorted(t for s, _, t in cri_records(elog) if s == "stdout")
    assert fds == ["0", "1", "2"], fds


def test_shim_own_fds_are_cloexec(env):
    env.write_config(["sleep", "1000"])
    state = env.state("st")
    info, _ = env.launch(state, os.path.join(env.tmp, "ctr.log"))
    shim = info["shim_pid"]
    for fd in os.listdir("/proc/%d/fd" % shim):
        if int(fd) <= 2:
            continue
        with open("/proc/%d/fdinfo/%s" % (shim, fd)) as f:
            flags = int(re.search(r"flags:\s+(\d+)", f.read()).group(1), 8)
        assert flags & 0o2000000, "fd %s of the shim is not close-on-exec" % fd


def test_bad_usage_reports_error(tmp_path):
    r, w = os.pipe()
    p = subprocess.Popen([SHIM, "--id", "x", "--ready-fd", str(w)], pass_fds=(w,),
                         stderr=subprocess.DEVNULL)
    os.close(w)
    assert p.wait(timeout=10) == 1
    line = os.read(r, 4096)
    os.close(r)
    assert "error" in json.loads(line)
