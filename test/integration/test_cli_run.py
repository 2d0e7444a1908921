"""The keg CLI for containers that run: `keg run` and `keg tasks`.

Real runc, real images pulled (with unpack) into the kegd under test from
the session's docker-registry. What is checked from outside keg:

* `keg run --rm REF id echo hi` prints hi and exits 0, and nothing is left
  (no container, no task); the exit code is passed on; stderr goes to
  stderr;
* a detached run (-d) shows RUNNING in `keg tasks ls`, runs `keg tasks
  exec`, has metrics with memory usage, answers `keg tasks logs --tail`;
  `keg tasks kill` ends it, `keg tasks wait` prints its status, `keg tasks
  rm` and `keg containers rm` remove it;
* `keg run -t REF id sh` is an interactive shell on a pty: what is typed
  runs, what it prints comes back, `exit 3` is keg's exit status;
* Ctrl-C (SIGINT) to keg without -t reaches the task.
"""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import time

import pytest

from conftest import KEG

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="containers need root"),
    pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed"),
]


@pytest.fixture
def busybox(kegd, pushed_images):
    """The busybox image, pulled and unpacked into this kegd."""
    ref = pushed_images["busybox"].ref
    r = kegd.keg("images", "pull", ref, timeout=120)
    assert r.returncode == 0, r.stderr
    return ref


def containers(kegd):
    r = kegd.keg("--format", "json", "containers", "ls")
    assert r.returncode == 0, r.stderr
    return [c["id"] for c in json.loads(r.stdout)["containers"]]


def tasks(kegd):
    r = kegd.keg("--format", "json", "tasks", "ls")
    assert r.returncode == 0, r.stderr
    return {t["id"]: t for t in json.loads(r.stdout)["tasks"]}


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


# --- keg run, attached to its output -------------------------------------------------------

def test_run_rm_prints_and_exits_zero(kegd, busybox):
    r = kegd.keg("run", "--rm", busybox, "hi1", "echo", "hi", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hi\n"
    assert "hi1" not in containers(kegd)
    assert "hi1" not in tasks(kegd)


def test_run_passes_the_exit_code_on(kegd, busybox):
    r = kegd.keg("run", "--rm", busybox, "ex5", "sh", "-c", "exit 5", timeout=60)
    assert r.returncode == 5, r.stderr
    assert r.stdout == ""


def test_run_stderr_goes_to_stderr(kegd, busybox):
    r = kegd.keg("run", "--rm", busybox, "err1", "sh", "-c",
                 "echo out; echo err >&2; echo out2", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "out\nout2\n"
    assert r.stderr == "err\n"


def test_run_options_reach_the_process(kegd, busybox):
    r = kegd.keg("run", "--rm", "--env", "GREETING=hello there", "--cwd", "/tmp",
                 "--user", "65534", busybox, "opts1", "sh", "-c",
                 'echo "$GREETING"; pwd; id -u', timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello there\n/tmp\n65534\n"


def test_run_without_rm_keeps_the_container(kegd, busybox):
    r = kegd.keg("run", busybox, "keep1", "true", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "keep1" in containers(kegd)
    assert tasks(kegd)["keep1"]["status"] == "stopped"
    assert kegd.keg("tasks", "rm", "keep1").returncode == 0
    assert kegd.keg("containers", "rm", "keep1").returncode == 0
    assert "keep1" not in containers(kegd)


def test_run_output_is_whole(kegd, busybox):
    """Many lines, and a line longer than the shim's 16 KiB pieces (CRI P
    lines), come out exactly as written."""
    r = kegd.keg("run", "--rm", busybox, "big1", "sh", "-c",
                 "seq 1 100000; head -c 40000 /dev/zero | tr '\\0' x; echo; echo end",
                 timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split("\n")
    assert out[:100000] == [str(i) for i in range(1, 100001)]
    assert out[100000] == "x" * 40000
    assert out[100001:] == ["end", ""]


def test_run_readonly(kegd, busybox):
    r = kegd.keg("run", "--rm", "--readonly", busybox, "ro1", "sh", "-c",
                 "touch /x 2>/dev/null || echo refused", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "refused\n"



def test_readonly_view_container_says_why_it_cannot_start(kegd, busybox):
    r = kegd.keg("containers", "create", "--readonly", busybox, "rov1", "true", timeout=60)
    assert r.returncode == 0, r.stderr
    r = kegd.keg("tasks", "start", "rov1", timeout=60)
    assert r.returncode == 1
    assert "read-only" in r.stderr and "readonly_rootfs" in r.stderr, r.stderr
    assert "keg run --readonly" in r.stderr, r.stderr
    assert "rov1" not in tasks(kegd)
    kegd.keg("containers", "rm", "rov1")

def test_tasks_start_of_a_created_container(kegd, busybox):
    r = kegd.keg("containers", "create", busybox, "st1", "sh", "-c", "echo started; exit 6")
    assert r.returncode == 0, r.stderr
    r = kegd.keg("tasks", "start", "st1", timeout=60)
    assert r.returncode == 6, r.stderr
    assert r.stdout == "started\n"
    assert kegd.keg("tasks", "rm", "st1").returncode == 0
    r = kegd.keg("tasks", "start", "-d", "st1")
    assert r.returncode == 0 and r.stdout == ""
    assert kegd.keg("tasks", "wait", "st1").stdout == "6\n"
    assert kegd.keg("tasks", "rm", "st1").returncode == 0
    assert kegd.keg("containers", "rm", "st1").returncode == 0


def test_run_usage_errors(kegd):
    r = kegd.keg("run", "--rm", "-d", "img", "id1")
    assert r.returncode == 2 and "--rm and -d" in r.stderr
    r = kegd.keg("run", "img")
    assert r.returncode == 2
    r = kegd.keg("run", "--mount", "nonsense", "img", "id1")
    assert r.returncode == 2 and "--mount" in r.stderr
    r = kegd.keg("run", "--memory-limit", "lots", "img", "id1")
    assert r.returncode == 2


def test_run_unknown_image_fails_cleanly(kegd):
    r = kegd.keg("run", "--rm", "no.such/image:1", "bad1", "true", timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("keg: ")
    assert "bad1" not in containers(kegd)


def test_sigint_is_forwarded_to_the_task(kegd, busybox):
    p = subprocess.Popen([KEG, "--address", kegd.sock, "run", "--rm", busybox, "int1",
                          "sh", "-c", "trap 'echo got-int; exit 7' INT; echo ready; "
                          "while :; do sleep 0.1; done"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 7, err
    assert out == "got-int\n"


# --- a detached task and keg tasks ----------------------------------------------------------

def test_detached_task_lifecycle(kegd, busybox):
    r = kegd.keg("run", "-d", busybox, "det1", "sh", "-c",
                 "for i in 1 2 3 4; do echo line$i; done; exec sleep 1000", timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""

    r = kegd.keg("tasks", "ls")
    assert r.returncode == 0, r.stderr
    rows = [l.split() for l in r.stdout.splitlines()]
    assert rows[0] == ["TASK", "PID", "STATUS"]
    row = [x for x in rows[1:] if x[0] == "det1"][0]
    assert row[2] == "RUNNING" and int(row[1]) > 0
    assert kegd.keg("tasks", "ls", "-q").stdout.split() == ["det1"]

    # The output is in the log file by now (or very soon).
    wait_for(lambda: "line4" in kegd.keg("tasks", "logs", "det1").stdout, what="output")
    r = kegd.keg("tasks", "logs", "--tail", "2", "det1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "line3\nline4\n"
    r = kegd.keg("tasks", "logs", "--since", "1h", "det1")
    assert r.stdout.splitlines() == ["line1", "line2", "line3", "line4"]
    r = kegd.keg("tasks", "logs", "--since", "2099-01-01T00:00:00Z", "det1")
    assert r.returncode == 0 and r.stdout == ""

    r = kegd.keg("tasks", "exec", "det1", "echo", "x")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "x\n"
    r = kegd.keg("tasks", "exec", "--exec-id", "e2", "det1", "sh", "-c", "echo e >&2; exit 4")
    assert r.returncode == 4
    assert r.stderr == "e\n"

    r = kegd.keg("--format", "json", "tasks", "metrics", "det1")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["memory"]["usage"] > 0
    assert m["pids"]["current"] >= 1
    r = kegd.keg("tasks", "metrics", "det1")
    assert r.returncode == 0 and "memory.usage" in r.stdout

    r = kegd.keg("tasks", "ps", "det1")
    assert r.returncode == 0 and r.stdout.splitlines()[0] == "PID"
    assert len(r.stdout.splitlines()) >= 2

    # rm of a running task is refused without -f.
    r = kegd.keg("tasks", "rm", "det1")
    assert r.returncode == 1 and r.stderr.startswith("keg: ")

    assert kegd.keg("tasks", "kill", "-s", "KILL", "det1").returncode == 0
    r = kegd.keg("tasks", "wait", "det1", timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "137\n"
    assert tasks(kegd)["det1"]["status"] == "stopped"
    r = kegd.keg("tasks", "rm", "det1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "det1\n"
    assert "det1" not in tasks(kegd)
    assert kegd.keg("containers", "rm", "det1").returncode == 0
    assert "det1" not in containers(kegd)


def test_tasks_pause_resume_and_follow(kegd, busybox):
    r = kegd.keg("run", "-d", busybox, "pr1", "sh", "-c",
                 "read x < /dev/null; while :; do sleep 0.2; done")
    assert r.returncode == 0, r.stderr
    assert kegd.keg("tasks", "pause", "pr1").returncode == 0
    assert tasks(kegd)["pr1"]["status"] == "paused"
    assert kegd.keg("tasks", "resume", "pr1").returncode == 0
    assert tasks(kegd)["pr1"]["status"] == "running"

    # logs -f ends by itself once the task is gone.
    p = subprocess.Popen([KEG, "--address", kegd.sock, "tasks", "logs", "-f", "pr1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert p.poll() is None
    # sh is the container's pid 1: SIGTERM without a trap does nothing.
    assert kegd.keg("tasks", "kill", "--signal", "SIGKILL", "pr1").returncode == 0
    p.communicate(timeout=30)
    assert p.returncode == 0
    assert kegd.keg("tasks", "wait", "pr1").stdout == "137\n"
    r = kegd.keg("tasks", "rm", "-f", "pr1")
    assert r.returncode == 0, r.stderr
    assert kegd.keg("containers", "rm", "pr1").returncode == 0


def test_tasks_errors(kegd):
    r = kegd.keg("tasks", "kill", "-s", "NOPE", "x")
    assert r.returncode == 2 and "unknown signal" in r.stderr
    r = kegd.keg("tasks", "logs", "--tail", "-3", "x")
    assert r.returncode == 2
    for cmd in (["kill", "ghost"], ["wait", "ghost"], ["metrics", "ghost"],
                ["logs", "ghost"], ["rm", "ghost"], ["pause", "ghost"]):
        r = kegd.keg("tasks", *cmd)
        assert r.returncode == 1, (cmd, r.stdout, r.stderr)
        assert r.stderr.startswith("keg: "), (cmd, r.stderr)


# --- an interactive shell ------------------------------------------------------------------

def read_until(fd, want, timeout=20):
    data = b""
    deadline = time.time() + timeout
    while want not in data:
        left = deadline - time.time()
        if left <= 0:
            raise AssertionError("no %r in %r" % (want, data))
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_run_tty_is_an_interactive_shell(kegd, busybox):
    master, slave = pty.openpty()
    p = subprocess.Popen([KEG, "--address", kegd.sock, "run", "--rm", "-t", busybox,
                          "tty1", "sh"],
                         stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                         start_new_session=True)
    os.close(slave)
    try:
        os.write(master, b"echo $((6*7))\n")
        out = read_until(master, b"42")
        # The command line echoed by the tty is "$((6*7))"; the answer is
        # on a line of its own.
        assert b"\n42" in out.replace(b"\r", b""), out
        os.write(master, b"tty; exit 3\n")
        out = read_until(master, b"/dev/pts/")
        assert p.wait(timeout=30) == 3
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    assert "tty1" not in containers(kegd)



def set_winsize(fd, rows, cols):
    import fcntl
    import struct
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def test_tasks_exec_tty_is_an_interactive_shell(kegd, busybox):
    assert kegd.keg("run", "-d", busybox, "ex1", "sleep", "1000", timeout=60).returncode == 0
    master, slave = pty.openpty()
    set_winsize(slave, 33, 111)
    p = subprocess.Popen([KEG, "--address", kegd.sock, "tasks", "exec", "-t",
                          "--exec-id", "sh1", "ex1", "sh"],
                         stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                         start_new_session=True)
    os.close(slave)
    try:
        # Its first prompt, written before keg could attach, is shown.
        read_until(master, b"# ")
        # The window size at the start reaches the exec's tty (a resize
        # with its exec_id), and so does a change (SIGWINCH to keg).
        os.write(master, b"stty size; echo $((6*7))\n")
        out = read_until(master, b"\n42").replace(b"\r", b"")
        assert b"33 111" in out, out
        set_winsize(master, 20, 70)
        p.send_signal(signal.SIGWINCH)
        time.sleep(0.5)
        os.write(master, b"stty size; tty; exit 3\n")
        out = read_until(master, b"/dev/pts/").replace(b"\r", b"")
        assert b"20 70" in out, out
        assert p.wait(timeout=30) == 3
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    # keg removed the stopped exec, as ctr does; the task runs on.
    assert kegd.get("/v1/tasks/ex1/execs/sh1").status_code == 404
    assert tasks(kegd)["ex1"]["status"] == "running"
    kegd.keg("tasks", "rm", "-f", "ex1", timeout=60)
    kegd.keg("containers", "rm", "ex1")


def test_tasks_exec_tty_of_a_quick_command(kegd, busybox):
    """An exec done before keg attaches: its output and status still come
    (once, its tty's EOF read before runc exited made the shim report "no
    console": a few rounds catch that)."""
    assert kegd.keg("run", "-d", busybox, "ex2", "sleep", "1000", timeout=60).returncode == 0
    try:
        for i in range(int(os.environ.get("KEG_QUICK_N", "10"))):
            r = kegd.keg("tasks", "exec", "-t", "ex2", "sh", "-c", "echo quick%d; exit 5" % i,
                         timeout=60)
            assert r.returncode == 5, r.stderr
            assert r.stdout.replace("\r", "") == "quick%d\n" % i, r.stdout
    finally:
        kegd.keg("tasks", "rm", "-f", "ex2", timeout=60)
        kegd.keg("containers", "rm", "ex2")


def test_tasks_checkpoint_and_restore_commands(kegd, busybox, tmp_path):
    r = kegd.keg("tasks", "checkpoint", "ghost")
    assert r.returncode == 2 and "image directory" in r.stderr, r.stderr
    r = kegd.keg("tasks", "restore", "ghost")
    assert r.returncode == 2 and "image directory" in r.stderr, r.stderr
    assert kegd.keg("run", "-d", busybox, "ck1", "sleep", "1000", timeout=60).returncode == 0
    try:
        crit = subprocess.run(["criu", "check"], capture_output=True) if shutil.which("criu") \
            else None
        r = kegd.keg("tasks", "checkpoint", "--leave-running", "ck1", str(tmp_path / "img"),
                     timeout=120)
        if crit is not None and crit.returncode == 0:
            assert r.returncode == 0, r.stderr
        else:  # CRIU cannot dump here: kegd's message, and the task runs on
            assert r.returncode == 1 and r.stderr.startswith("keg: "), r.stderr
            assert "CRIU" in r.stderr or "criu" in r.stderr, r.stderr
        assert tasks(kegd)["ck1"]["status"] == "running"
    finally:
        kegd.keg("tasks", "rm", "-f", "ck1", timeout=60)
    # A restore from what is not an image: the runtime's complaint, no task.
    (tmp_path / "empty").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        r = kegd.keg("tasks", "restore", "ck1", "empty", timeout=60)   # relative: made absolute
    finally:
        os.chdir(cwd)
    assert r.returncode == 1, r.stderr
    assert "cannot restore the task" in r.stderr, r.stderr
    assert "ck1" not in tasks(kegd)
    r = kegd.keg("tasks", "restore", "ck1", str(tmp_path / "missing"))
    assert r.returncode == 1 and "No such file" in r.stderr, r.stderr
    kegd.keg("containers", "rm", "ck1")


# --- another runtime, completion -------------------------------------------------------------

@pytest.mark.skipif(shutil.which("crun") is None, reason="crun is not installed")
def test_run_with_crun(kegd, busybox):
    r = kegd.keg("run", "--rm", "--runtime", "crun", busybox, "crun1", "sh", "-c",
                 "echo via-crun; exit 2", timeout=60)
    if "hybrid mode not supported" in r.stderr:
        pytest.skip("crun refuses this host's hybrid cgroup layout: " + r.stderr.strip())
    assert r.returncode == 2, r.stderr
    assert r.stdout == "via-crun\n"


def test_bash_completion_of_tasks_and_run(kegd, busybox):
    from test_cli_images import complete_line
    assert kegd.keg("run", "-d", busybox, "comp1", "sleep", "100").returncode == 0
    try:
        assert {"tasks", "run"} <= set(complete_line(kegd, "", False))
        assert {"ls", "exec", "logs", "metrics", "attach"} <= set(
            complete_line(kegd, "tasks ", False))
        assert complete_line(kegd, "tasks kill ", False) == ["comp1"]
        assert complete_line(kegd, "tasks logs --ta", False) == ["--tail"]
        assert complete_line(kegd, "run --r", False) == ["--readonly", "--rm", "--runtime"]
    finally:
        kegd.keg("tasks", "rm", "-f", "comp1")
        kegd.keg("containers", "rm", "comp1")
