"""What an idle kegd maps, and the libraries it opens only when needed.

kegd does not link libcurl or libarchive (src/lazy/): libcurl is opened on
the first registry transfer, libarchive only in the forked workers that read
or write archives (unpack, import, export), never in the daemon itself. The
socket's group is looked up in a child, so no NSS module is loaded into the
daemon either (src/kegd/socket_group.c). Read from /proc/PID/maps.

When a library cannot be opened (hidden here by a bind mount of /dev/null
over its file, in a private mount namespace of that daemon alone), the
operation that needs it fails with a JSON error naming it.
"""
import grp
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile

import pytest

from conftest import BUILD, KEGD, Kegd, check_sanitizer_reports
from test_images import pull_failed, pull_ok


def mapped(kegd):
    """The basenames of the files kegd's process maps."""
    with open("/proc/%d/maps" % kegd.proc.pid) as f:
        return {os.path.basename(line.split()[5]) for line in f if len(line.split()) > 5}


def mapping(kegd, prefix):
    return sorted(name for name in mapped(kegd) if name.startswith(prefix))


def soname(what):
    """The soname configure found for what (config.h), e.g. libcurl.so.4."""
    with open(os.path.join(BUILD, "config.h")) as f:
        m = re.search(r'#define KEG_%s_SONAME "([^"]+)"' % what, f.read())
    assert m, "KEG_%s_SONAME not in config.h" % what
    return m.group(1)


def import_archive(kegd, path, ns=None):
    headers = {"Content-Type": "application/x-tar", "Accept": "application/x-ndjson"}
    if ns:
        headers["Keg-Namespace"] = ns
    with open(path, "rb") as f:
        r = kegd.post("/v1/images/import", data=f, headers=headers, stream=True)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.iter_lines() if line][-1]


def test_idle_kegd_maps_no_libcurl_libarchive_or_nss_module(kegd):
    assert mapping(kegd, "libcurl") == []
    assert mapping(kegd, "libarchive") == []
    # getgrnam() of the socket group ran in a child (the default group
    # "keg" need not exist: NSS then asks every source).
    assert mapping(kegd, "libnss_") == []
    # Not linked either (the whole point: nothing of theirs at start).
    out = subprocess.run(["readelf", "-d", KEGD], capture_output=True,
                         text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\).*\[(.+)\]", out)
    assert needed and not [n for n in needed if n.startswith(("libcurl", "libarchive"))], needed


def test_libcurl_is_opened_by_a_pull_libarchive_only_in_workers(kegd, pushed_images, tmp_path):
    img = pushed_images["multilayer"]
    end = pull_ok(kegd, img.ref)
    layers = [b for b in end["progress"]["blobs"] if b["kind"] == "layer"]
    assert layers and all(b["unpack"] == "unpacked" for b in layers), layers
    # The file's own name, e.g. libcurl.so.4.8.0 for libcurl.so.4.
    assert mapping(kegd, soname("LIBCURL")), mapped(kegd)
    # The unpack workers had it; the daemon did not.
    assert mapping(kegd, "libarchive") == []
    # Export and import: their children too.
    path = str(tmp_path / "ml.tar")
    r = kegd.post("/v1/images/export", {"refs": [img.ref]}, stream=True)
    assert r.status_code == 200, r.text
    with open(path, "wb") as f:
        for chunk in r.iter_content(1 << 16):
            f.write(chunk)
    last = import_archive(kegd, path, ns="other")
    assert last["state"] == "done", last
    assert mapping(kegd, "libarchive") == []


def test_socket_group_is_looked_up_as_before(kegd_factory):
    # A group from the files source, other than root's, so the chown shows.
    with open("/etc/group") as f:
        groups = [line.split(":") for line in f if line.strip() and not line.startswith("#")]
    name, gid = next((g[0], int(g[2])) for g in groups if int(g[2]) != 0)
    assert grp.getgrnam(name).gr_gid == gid
    k = kegd_factory(config={"socket_group": name})
    assert os.stat(k.sock).st_gid == gid
    assert mapping(k, "libnss_") == []


# --- a library that cannot be opened ----------------------------------------------

def library_file(name):
    """The file the dynamic loader opens for soname name (ldconfig's cache)."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split(" => ")
        if len(parts) == 2 and parts[0].split()[0] == name:
            return os.path.realpath(parts[1].strip())
    pytest.skip("%s is not in ldconfig's cache" % name)


class HidingKegd(Kegd):
    """A kegd in its own mount namespace where the given files read as
    empty (bind mounts of /dev/null): dlopen() of them fails there, and
    nowhere else."""

    def __init__(self, base, hide):
        super().__init__(base)
        self.hide = hide

    def argv(self):
        binds = " && ".join("mount --bind /dev/null %s" % shlex.quote(p) for p in self.hide)
        # unshare without --fork execs: the pid stays kegd's, for stop().
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                binds + ' && exec "$@"', "sh"] + super().argv()


@pytest.fixture
def hiding_kegd():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1)")
    base = tempfile.mkdtemp(prefix="keg-test-")
    started = []

    def make(*sonames):
        k = HidingKegd(os.path.join(base, "d%d" % len(started)),
                       [library_file(s) for s in sonames])
        started.append(k)
        return k.start()

    try:
        yield make
    finally:
        for k in started:
            k.stop()
        for k in started:
            check_sanitizer_reports(k)
        shutil.rmtree(base, ignore_errors=True)


def test_pull_without_libcurl_fails_as_unavailable(hiding_kegd, pushed_images):
    k = hiding_kegd(soname("LIBCURL"))
    end = pull_failed(k, pushed_images["busybox"].ref, "unavailable")
    assert "cannot load " + soname("LIBCURL") in end["error"]["message"], end
    # The daemon goes on serving, and tries again on the next pull.
    end = pull_failed(k, pushed_images["busybox"].ref, "unavailable")
    assert k.get("/v1/health").status_code == 200


def test_import_without_libarchive_fails_as_internal(hiding_kegd, tmp_path):
    k = hiding_kegd(soname("LIBARCHIVE"))
    path = str(tmp_path / "empty.tar")
    with open(path, "wb") as f:
        f.write(b"\0" * 10240)
    last = import_archive(k, path)
    assert last["state"] == "failed", last
    assert last["error"]["code"] == "internal", last
    assert "cannot load " + soname("LIBARCHIVE") in last["error"]["message"], last
