"""The layer unpacker (src/unpack/) through its driver test/unpack/unpack-run.

Layers are built here with tarfile; each test unpacks into a private target
directory next to a canary directory. Every test, hostile or not, checks that
nothing outside the target changed: a full listing with stat info (ctime and
link counts included, so a chmod or a hardlink through an escape shows) and
content hashes, taken before and after.

Needs root (chroot, mknod, chown, trusted xattrs, overlay mounts).
"""
import gzip
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("KEG_BUILDDIR", os.path.abspath(os.path.join(HERE, "..", "..")))
RUNNER = os.path.join(BUILD, "test", "unpack", "unpack-run")



def _sanitized():
    """An AddressSanitizer build: no RLIMIT_AS, and no valgrind on top."""
    try:
        with open(RUNNER, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SANITIZED = _sanitized()

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="unpacking needs root (chroot, mknod, chown)"),
    pytest.mark.skipif(not os.path.exists(RUNNER), reason="unpack-run is not built (make check)"),
]

MTIME = 1234567890.5          # exact in binary, so the pax mtime keeps its half second
MTIME_NS = 1234567890_500000000
# VFS_CAP_REVISION_2 with the effective bit; permitted = CAP_NET_RAW (13).
CAP_NET_RAW_EP = (0x02000001).to_bytes(4, "little") + (1 << 13).to_bytes(4, "little") + bytes(12)

# ---- building layers --------------------------------------------------------


def _info(name, kind, mode, uid=0, gid=0, mtime=MTIME, xattrs=None, pax=None):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, gid, mtime
    ti.uname = ti.gname = ""
    headers = dict(pax or {})
    for key, value in (xattrs or {}).items():
        if isinstance(value, bytes):   # binary values: tarfile writes hdrcharset=BINARY
            value = value.decode("utf-8", "surrogateescape")
        headers["SCHILY.xattr." + key] = value
    ti.pax_headers = headers
    return ti


def reg(name, data=b"", mode=0o644, **kw):
    ti = _info(name, tarfile.REGTYPE, mode, **kw)
    ti.size = len(data)
    return ti, data


def dir_(name, mode=0o755, **kw):
    return _info(name, tarfile.DIRTYPE, mode, **kw), None


def sym(name, target, **kw):
    ti = _info(name, tarfile.SYMTYPE, 0o777, **kw)
    ti.linkname = target
    return ti, None


def hard(name, target, data=None, **kw):
    ti = _info(name, tarfile.LNKTYPE, 0o644, **kw)
    ti.linkname = target
    if data is not None:        # pax lets a hardlink carry data
        ti.size = len(data)
    return ti, data


def dev(name, kind, major, minor, mode=0o666):
    ti = _info(name, kind, mode)
    ti.devmajor, ti.devminor = major, minor
    return ti, None


def tar_bytes(entries, tail=b""):
    path = tempfile.mktemp()
    try:
        with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
            for ti, data in entries:
                if data is not None:
                    tf.addfile(ti, _Reader(data))
                else:
                    tf.addfile(ti)
        with open(path, "rb") as f:
            return f.read() + tail
    finally:
        os.unlink(path)


class _Reader:
    """A file object tarfile reads entry data from."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def read(self, n=-1):
        n = len(self.data) - self.pos if n < 0 else n
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


def compress(raw, compression):
    if compression == "gzip":
        return gzip.compress(raw, mtime=0)
    if compression.startswith("zstd"):   # "zstd" or "zstd --long=26"
        return subprocess.run(["zstd", "-q", "-c"] + compression.split()[1:], input=raw,
                              stdout=subprocess.PIPE, check=True).stdout
    return raw


def diff_id(raw):
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# ---- the canary and the work area --------------------------------------------


def listing(root, skip=()):
    """Everything below root, symlinks not followed: stat info, xattrs, content."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for name in [""] + dirnames + filenames:
            path = os.path.join(dirpath, name) if name else dirpath
            if path in skip:
                continue
            st = os.lstat(path)
            entry = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_nlink, st.st_ino,
                     st.st_mtime_ns, st.st_ctime_ns, st.st_rdev)
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    entry += (hashlib.sha256(f.read()).hexdigest(),)
            elif stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(path),)
            if not stat.S_ISLNK(st.st_mode):
                entry += (tuple(sorted((k, os.getxattr(path, k)) for k in os.listxattr(path))),)
            out[os.path.relpath(path, root)] = entry
    return out


class Work:
    """A private directory: canary/ (must never change), layers/, targets."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="keg-unpack-")
        self.canary = os.path.join(self.base, "canary")
        self.layers = os.path.join(self.base, "layers")
        self.targets = []
        os.makedirs(os.path.join(self.canary, "sub"))
        os.makedirs(self.layers)
        with open(os.path.join(self.canary, "file"), "w") as f:
            f.write("canary\n")
        with open(os.path.join(self.canary, "sub", "passwd"), "w") as f:
            f.write("root:x:0:0::/root:/bin/sh\n")
        os.symlink("file", os.path.join(self.canary, "link"))
        os.setxattr(os.path.join(self.canary, "file"), "user.canary", b"1")
        self.before = None

    def target(self, name="target"):
        path = os.path.join(self.base, name)
        os.mkdir(path)
        self.targets.append(path)
        return path

    def layer(self, entries, compression="none", name=None, tail=b""):
        raw = tar_bytes(entries, tail)
        name = name or "layer%d.tar" % len(os.listdir(self.layers))
        path = os.path.join(self.layers, name)
        with open(path, "wb") as f:
            f.write(compress(raw, compression))
        return path, diff_id(raw)

    def outside(self):
        return listing(self.base, skip=set(self.targets))

    def freeze(self):
        """Takes the 'before' listing once all layers and targets exist."""
        self.before = self.outside()

    def assert_untouched(self):
        assert self.before is not None
        after = self.outside()
        changed = {k for k in set(self.before) | set(after) if self.before.get(k) != after.get(k)}
        assert not changed, "changed outside the target: %s" % sorted(changed)

    def remove(self):
        shutil.rmtree(self.base)


@pytest.fixture
def work():
    w = Work()
    try:
        yield w
    finally:
        w.remove()


def unpack(layer, target, *args, mode="overlay", compression="none", expect="ok", **popen):
    argv = [RUNNER, "--mode", mode, "--compression", compression, *args, layer, target]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                          **popen)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    res = json.loads(proc.stdout)
    assert (proc.returncode == 0) == (res["status"] == "ok")
    if expect is not None:
        assert res["status"] == expect, res
    if res["status"] != "ok":
        assert res["message"], res
    return res


# ---- a faithful unpack --------------------------------------------------------

SU = b"\x7fELF pretend setuid binary"


def normal_entries():
    return [
        dir_("./", mode=0o755),
        dir_("etc", mode=0o755),
        reg("etc/hosts", b"127.0.0.1 localhost\n", uid=1000, gid=1001),
        dir_("bin", mode=0o755),
        reg("bin/su", SU, mode=0o4755),
        hard("bin/su2", "bin/su"),
        reg("bin/ping", b"ping", mode=0o755, xattrs={"security.capability": CAP_NET_RAW_EP}),
        sym("bin/sh", "/bin/busybox"),
        sym("lib", "usr/lib"),
        dir_("usr/lib", mode=0o755),
        reg("tagged", b"x", xattrs={"user.mime": "text/plain", "security.selinux": "system_u",
                                    "trusted.other": "t"}),
        dir_("dev", mode=0o755),
        dev("dev/null", tarfile.CHRTYPE, 1, 3),
        dev("dev/loop0", tarfile.BLKTYPE, 7, 0, mode=0o660),
        dev("run/fifo", tarfile.FIFOTYPE, 0, 0, mode=0o600),
        reg("nobody", b"n", uid=65534, gid=65534, mode=0o600),
        reg("donn\u00e9es/\u00e9t\u00e9.txt", b"utf-8 name"),
        reg("deep/" + "d" * 120 + "/long-name-" + "x" * 100, b"long"),
        dir_("locked", mode=0o500),
        reg("locked/inside", b"written before the directory was locked"),
        reg("empty", b""),
        reg("acl", b"a", mode=0o640,
            pax={"SCHILY.acl.access": "user::rw-,user:1000:rwx:1000,group::r--,mask::rwx,other::---"}),
    ]


def check_normal(t):
    st = os.lstat(os.path.join(t, "etc/hosts"))
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1001, 0o644)
    assert st.st_mtime_ns == MTIME_NS
    with open(os.path.join(t, "etc/hosts"), "rb") as f:
        assert f.read() == b"127.0.0.1 localhost\n"
    su, su2 = os.lstat(os.path.join(t, "bin/su")), os.lstat(os.path.join(t, "bin/su2"))
    assert stat.S_IMODE(su.st_mode) == 0o4755
    assert su.st_ino == su2.st_ino and su.st_nlink == 2
    assert os.getxattr(os.path.join(t, "bin/ping"), "security.capability") == CAP_NET_RAW_EP
    assert os.readlink(os.path.join(t, "bin/sh")) == "/bin/busybox"
    assert os.lstat(os.path.join(t, "bin/sh")).st_mtime_ns == MTIME_NS
    assert os.readlink(os.path.join(t, "lib")) == "usr/lib"
    tagged = os.path.join(t, "tagged")
    assert os.getxattr(tagged, "user.mime") == b"text/plain"
    assert "security.selinux" not in os.listxattr(tagged)
    assert "trusted.other" not in os.listxattr(tagged)
    null = os.lstat(os.path.join(t, "dev/null"))
    assert stat.S_ISCHR(null.st_mode) and (os.major(null.st_rdev), os.minor(null.st_rdev)) == (1, 3)
    loop = os.lstat(os.path.join(t, "dev/loop0"))
    assert stat.S_ISBLK(loop.st_mode) and os.major(loop.st_rdev) == 7
    assert stat.S_IMODE(loop.st_mode) == 0o660
    fifo = os.lstat(os.path.join(t, "run/fifo"))
    assert stat.S_ISFIFO(fifo.st_mode) and stat.S_IMODE(fifo.st_mode) == 0o600
    nobody = os.lstat(os.path.join(t, "nobody"))
    assert (nobody.st_uid, nobody.st_gid, stat.S_IMODE(nobody.st_mode)) == (65534, 65534, 0o600)
    assert os.path.isfile(os.path.join(t, "donn\u00e9es/\u00e9t\u00e9.txt"))
    assert os.path.isfile(os.path.join(t, "deep/" + "d" * 120 + "/long-name-" + "x" * 100))
    locked = os.lstat(os.path.join(t, "locked"))
    assert stat.S_IMODE(locked.st_mode) == 0o500 and locked.st_mtime_ns == MTIME_NS
    assert os.path.getsize(os.path.join(t, "locked/inside")) > 0
    assert os.lstat(t).st_mtime_ns == MTIME_NS   # the "./" entry applies to the root
    assert "system.posix_acl_access" in os.listxattr(os.path.join(t, "acl"))


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_normal_layer_is_faithful(work, compression):
    if compression == "zstd" and shutil.which("zstd") is None:
        pytest.skip("python has no zstd and the zstd CLI is not installed (apt-get install zstd)")
    layer, did = work.layer(normal_entries(), compression)
    t = work.target()
    work.freeze()
    res = unpack(layer, t, "--diff-id", did, compression=compression)
    assert res["diff_id"] == did
    assert res["entries"] == len(normal_entries())
    assert res["bytes"] == sum(len(d) for ti, d in normal_entries() if d and ti.isreg())
    assert res["xattrs_skipped"] == 2
    check_normal(t)
    work.assert_untouched()


def test_layer_as_descriptor_and_from_a_pipe(work):
    layer, did = work.layer(normal_entries(), "gzip")
    t1, t2 = work.target("t1"), work.target("t2")
    work.freeze()
    assert unpack(layer, t1, "--fd", "--diff-id", did, compression="gzip")["diff_id"] == did
    with open(layer, "rb") as f:
        data = f.read()
    # A pipe: what a streaming pull would hand over.
    proc = subprocess.run([RUNNER, "--compression", "gzip", "-", t2], input=data,
                          stdout=subprocess.PIPE, timeout=30)
    assert json.loads(proc.stdout)["diff_id"] == did
    check_normal(t2)
    work.assert_untouched()


def test_diff_id_covers_trailing_bytes(work):
    """containerd reads the stream to its end: padding after the tar counts."""
    layer, did = work.layer([reg("a", b"a")], tail=bytes(10240))
    t = work.target()
    work.freeze()
    assert unpack(layer, t, "--diff-id", did)["diff_id"] == did
    work.assert_untouched()


def test_diff_id_mismatch_fails_and_reports_the_computed_one(work):
    layer, did = work.layer([reg("a", b"a")], "gzip")
    t = work.target()
    work.freeze()
    wrong = "sha256:" + "0" * 64
    res = unpack(layer, t, "--diff-id", wrong, compression="gzip", expect="digest_mismatch")
    assert res["diff_id"] == did
    assert res["errcode"] == "failed_precondition"
    assert did in res["message"] and wrong in res["message"]
    work.assert_untouched()


def test_hardlink_data_is_dropped_even_onto_a_fifo(work):
    """libarchive would open a hardlink carrying data for writing: onto a FIFO
    that hangs, onto a device node it writes the device. The data is dropped."""
    layer, _ = work.layer([reg("f", b"original"), hard("g", "f", data=b"EVIL"),
                           dev("p", tarfile.FIFOTYPE, 0, 0), hard("q", "p", data=b"EVIL")])
    t = work.target()
    work.freeze()
    unpack(layer, t)
    with open(os.path.join(t, "g"), "rb") as f:
        assert f.read() == b"original"
    assert os.lstat(os.path.join(t, "q")).st_ino == os.lstat(os.path.join(t, "p")).st_ino
    work.assert_untouched()


def test_not_a_layer(work):
    garbage = os.path.join(work.layers, "garbage")
    with open(garbage, "wb") as f:
        f.write(os.urandom(4096))
    good, _ = work.layer([reg("a", b"a" * 100000)], "gzip")
    with open(good, "rb") as f:
        truncated_data = f.read()[:200]
    truncated = os.path.join(work.layers, "truncated.gz")
    with open(truncated, "wb") as f:
        f.write(truncated_data)
    t = work.target()
    work.freeze()
    assert unpack(garbage, t, expect="invalid_layer")["errcode"] == "invalid_argument"
    unpack(garbage, t, compression="gzip", expect="invalid_layer")
    unpack(truncated, t, compression="gzip", expect="invalid_layer")
    unpack(good, t, compression="zstd", expect="invalid_layer")  # gzip data labelled zstd
    work.assert_untouched()


def test_missing_blob_and_target(work):
    layer, _ = work.layer([reg("a")])
    t = work.target()
    work.freeze()
    unpack(os.path.join(work.layers, "nope"), t, expect="setup_failed")
    unpack(layer, os.path.join(work.base, "no-target"), expect="setup_failed")
    work.assert_untouched()


# ---- whiteouts and opaque directories ---------------------------------------


def lower_entries():
    return [dir_("a"), reg("a/keep", b"k"), reg("a/gone", b"g"),
            dir_("o"), reg("o/old", b"o"), dir_("o/sub"), reg("o/sub/old", b"o"),
            reg("top", b"t"), dir_("r"), reg("r/inside", b"i")]


def upper_entries():
    return [dir_("a"), reg("a/.wh.gone", uid=1, gid=2),
            dir_("o"), reg("o/+early", b"sorted before the marker"),
            reg("o/.wh..wh..opq"), reg("o/new", b"n"), reg("o/sub/x", b"x"),
            reg(".wh.top"), reg("r", b"a file where a directory was"),
            reg("d/.wh..wh.plnk")]


def test_overlay_mode_markers(work):
    lower, _ = work.layer(lower_entries())
    upper, _ = work.layer(upper_entries())
    t1, t2 = work.target("t1"), work.target("t2")
    work.freeze()
    unpack(lower, t1)
    unpack(upper, t2)
    gone = os.lstat(os.path.join(t2, "a/gone"))
    assert stat.S_ISCHR(gone.st_mode) and gone.st_rdev == 0
    assert (gone.st_uid, gone.st_gid) == (1, 2)
    assert stat.S_ISCHR(os.lstat(os.path.join(t2, "top")).st_mode)
    assert os.getxattr(os.path.join(t2, "o"), "trusted.overlay.opaque") == b"y"
    assert not os.path.lexists(os.path.join(t2, "a/.wh.gone"))
    assert not os.path.lexists(os.path.join(t2, "d/.wh..wh.plnk"))
    work.assert_untouched()


def test_overlay_mount_of_two_layers(work):
    lower, _ = work.layer(lower_entries())
    upper, _ = work.layer(upper_entries())
    t1, t2, merged = work.target("t1"), work.target("t2"), work.target("merged")
    work.freeze()
    unpack(lower, t1)
    unpack(upper, t2)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    "ro,lowerdir=%s:%s" % (t2, t1), merged], check=True)
    try:
        names = lambda d: sorted(os.listdir(os.path.join(merged, d)))  # noqa: E731
        assert names("a") == ["keep"]                     # the whiteout hides a/gone
        assert names("o") == ["+early", "new", "sub"]     # opaque hides o/old
        assert names("o/sub") == ["x"]                    # ... and all below it
        assert not os.path.lexists(os.path.join(merged, "top"))
        assert os.path.isfile(os.path.join(merged, "r"))
        assert os.path.isfile(os.path.join(merged, "a/keep"))
    finally:
        subprocess.run(["umount", merged], check=True)
    work.assert_untouched()


def test_native_mode_applies_markers(work):
    lower, _ = work.layer(lower_entries())
    upper, _ = work.layer(upper_entries())
    t = work.target()
    work.freeze()
    unpack(lower, t, mode="native")
    unpack(upper, t, mode="native")
    tree = sorted(os.path.relpath(os.path.join(d, n), t)
                  for d, ds, fs in os.walk(t) for n in ds + fs)
    assert tree == ["a", "a/keep", "o", "o/+early", "o/new", "o/sub", "o/sub/x", "r"]
    assert os.path.isfile(os.path.join(t, "r"))
    assert "trusted.overlay.opaque" not in os.listxattr(os.path.join(t, "o"))
    work.assert_untouched()


def test_native_replaces_the_parents_symlinks_without_following(work):
    """The parent's copy has symlinks pointing outside (allowed: created as
    is). The next layer replaces them with a file and a directory (merged
    /usr undone): both replace the link itself, never what it points at."""
    parent, _ = work.layer([sym("f", work.canary + "/file"), sym("lib", work.canary),
                            sym("rel", "../canary/sub")])
    child, _ = work.layer([reg("f", b"replaced"), dir_("lib", mode=0o750), reg("lib/x", b"x"),
                           dir_("rel/")])
    t = work.target()
    work.freeze()
    unpack(parent, t, mode="native")
    unpack(child, t, mode="native")
    assert os.path.isfile(os.path.join(t, "f")) and not os.path.islink(os.path.join(t, "f"))
    with open(os.path.join(t, "f"), "rb") as f:
        assert f.read() == b"replaced"
    assert os.path.isdir(os.path.join(t, "lib")) and not os.path.islink(os.path.join(t, "lib"))
    assert stat.S_IMODE(os.lstat(os.path.join(t, "lib")).st_mode) == 0o750
    assert os.listdir(os.path.join(t, "lib")) == ["x"]
    assert os.path.isdir(os.path.join(t, "rel")) and not os.path.islink(os.path.join(t, "rel"))
    work.assert_untouched()


def test_fifo_in_the_way_never_blocks(work):
    """Opening a FIFO would hang the worker: directories are opened with
    O_DIRECTORY, regular files are made anew, never opened where they are."""
    parent, _ = work.layer([dev("p", tarfile.FIFOTYPE, 0, 0), dev("q", tarfile.FIFOTYPE, 0, 0),
                            dev("w", tarfile.FIFOTYPE, 0, 0)])
    child, _ = work.layer([reg("p/x", b"x")])
    child2, _ = work.layer([reg("q", b"file now"), reg("w/.wh.y")])
    t = work.target()
    work.freeze()
    unpack(parent, t, mode="native")
    res = unpack(child, t, mode="native", expect="invalid_layer")
    assert "p/x: a parent is not a directory" in res["message"]
    assert stat.S_ISFIFO(os.lstat(os.path.join(t, "p")).st_mode)
    res = unpack(child2, t, mode="native", expect="invalid_layer")
    assert "w/.wh.y" in res["message"]
    assert stat.S_ISREG(os.lstat(os.path.join(t, "q")).st_mode)
    work.assert_untouched()


def test_later_entries_win(work):
    """Duplicates happen in real layers: the last one is what stays."""
    layer, _ = work.layer([reg("f", b"first"), reg("f", b"second", mode=0o600),
                           sym("s", "one"), sym("s", "two"), reg("d", b"file"), dir_("d")])
    t = work.target()
    work.freeze()
    unpack(layer, t)
    with open(os.path.join(t, "f"), "rb") as f:
        assert f.read() == b"second"
    assert stat.S_IMODE(os.lstat(os.path.join(t, "f")).st_mode) == 0o600
    assert os.readlink(os.path.join(t, "s")) == "two"
    assert os.path.isdir(os.path.join(t, "d"))
    work.assert_untouched()


def test_native_whiteout_of_missing_name_is_fine(work):
    layer, _ = work.layer([reg("nothere/.wh.x"), reg(".wh.absent")])
    t = work.target()
    work.freeze()
    unpack(layer, t, mode="native")
    assert os.listdir(t) == []
    work.assert_untouched()


# ---- hostile layers -----------------------------------------------------------
# Each builds its entries from the work area (absolute canary paths), may need
# a parent layer first (native mode: the target holds the parent's copy), and
# must fail with the given status, leaving everything outside untouched.


def H(id, entries, expect="unsafe_entry", mode="overlay", parent=None, args=(), comp="none",
      tail=b""):
    return pytest.param(entries, expect, mode, parent, args, comp, tail, id=id)


HOSTILE = [
    H("dotdot-name", lambda w: [reg("../canary/pwned", b"x")]),
    H("dotdot-deep", lambda w: [dir_("a"), reg("a/../../canary/file", b"x")]),
    H("absolute-name", lambda w: [reg(w.canary + "/pwned", b"x")]),
    H("absolute-etc", lambda w: [reg("/etc/keg-unpack-pwned", b"x")]),
    H("symlink-abs-then-write", lambda w: [sym("evil", w.canary), reg("evil/pwned", b"x")]),
    H("symlink-rel-then-write", lambda w: [sym("evil", "../canary"), reg("evil/file", b"x")]),
    H("symlink-etc-then-write", lambda w: [sym("etc", "/etc"), reg("etc/keg-unpack-pwned", b"x")]),
    H("symlink-then-dir", lambda w: [sym("evil", w.canary), dir_("evil/sub/newdir")]),
    H("symlink-then-hardlink", lambda w: [sym("evil", w.canary), hard("h", "evil/file")]),
    H("symlink-replaces-dir", lambda w: [dir_("d"), reg("d/ok", b"ok"), sym("d", w.canary),
                                         reg("d/pwned", b"x")], expect=None),
    H("symlink-replaces-empty-dir", lambda w: [dir_("d"), sym("d", w.canary),
                                               reg("d/pwned", b"x")]),
    H("hardlink-absolute", lambda w: [hard("h", w.canary + "/file")]),
    H("hardlink-dotdot", lambda w: [hard("h", "../canary/file", data=b"EVIL")]),
    H("hardlink-host-passwd", lambda w: [hard("h", "/etc/passwd")]),
    H("hardlink-missing", lambda w: [hard("h", "not/extracted")]),
    H("hardlink-to-dir", lambda w: [dir_("d"), hard("h", "d")]),
    H("whiteout-dotdot-overlay", lambda w: [dir_("a"), reg("a/.wh...")]),
    H("whiteout-dotdot-native", lambda w: [dir_("a"), reg("a/.wh...")], mode="native"),
    H("whiteout-root-dotdot-native", lambda w: [reg(".wh...")], mode="native"),
    H("whiteout-dot-native", lambda w: [reg("a/.wh..")], mode="native"),
    H("whiteout-through-symlink-native", lambda w: [sym("l", w.canary), reg("l/.wh.file")],
      mode="native"),
    H("opaque-through-symlink-native", lambda w: [sym("l", w.canary), reg("l/.wh..wh..opq")],
      mode="native"),
    H("opaque-through-symlink-overlay", lambda w: [sym("l", w.canary), reg("l/.wh..wh..opq")]),
    H("whiteout-through-parent-symlink", lambda w: [reg("l/.wh.file")], mode="native",
      parent=lambda w: [sym("l", w.canary)]),
    H("write-through-parent-symlink", lambda w: [reg("lib/pwned", b"x")], mode="native",
      parent=lambda w: [sym("lib", w.canary)]),
    H("device-major-absurd", lambda w: [dev("d", tarfile.CHRTYPE, 5000, 1)]),
    H("device-minor-absurd", lambda w: [dev("d", tarfile.BLKTYPE, 8, 2000000)]),
    H("xattr-trusted-overlay-opaque", lambda w: [dir_("d", xattrs={"trusted.overlay.opaque": "y"})]),
    H("xattr-trusted-overlay-redirect", lambda w: [dir_("d", xattrs={
        "trusted.overlay.redirect": "/etc"})]),
    H("xattr-user-overlay", lambda w: [reg("f", xattrs={"user.overlay.origin": "x"})]),
    H("owner-out-of-range", lambda w: [reg("f", uid=4294967295)], expect="invalid_layer"),
    H("root-entry-not-a-dir", lambda w: [reg(".", b"x")]),
    H("bomb-bytes-written", lambda w: [reg("zeros", bytes(16 << 20))], expect="limit_exceeded",
      args=("--max-bytes", str(1 << 20)), comp="gzip"),
    H("bomb-trailing-zeros", lambda w: [reg("a", b"a")], expect="limit_exceeded",
      args=("--max-tar-bytes", str(1 << 20)), comp="gzip", tail=bytes(32 << 20)),
    H("many-entries", lambda w: [reg("f%05d" % i) for i in range(3000)],
      expect="limit_exceeded", args=("--max-entries", "1000")),
    H("long-path", lambda w: [reg("a/" * 40 + "f")], expect="limit_exceeded",
      args=("--max-path", "64")),
    H("long-symlink-target", lambda w: [sym("s", "x" * 100)], expect="limit_exceeded",
      args=("--max-path", "64")),
    H("big-xattr", lambda w: [reg("f", xattrs={"user.big": "v" * 1000})],
      expect="limit_exceeded", args=("--max-xattr-size", "100")),
]


@pytest.mark.parametrize("entries,expect,mode,parent,args,comp,tail", HOSTILE)
def test_hostile_layer(work, entries, expect, mode, parent, args, comp, tail):
    layer, _ = work.layer(entries(work), comp, tail=tail)
    parent_layer = work.layer(parent(work))[0] if parent else None
    t = work.target()
    work.freeze()
    host_etc = sorted(os.listdir("/etc"))
    if parent_layer:
        unpack(parent_layer, t, mode=mode)
    res = unpack(layer, t, *args, mode=mode, compression=comp, expect=expect)
    assert res["status"] != "ok", res
    assert res["diff_id"] == ""
    work.assert_untouched()
    assert sorted(os.listdir("/etc")) == host_etc
    assert not os.path.lexists("/etc/keg-unpack-pwned")


# ---- confinement ----------------------------------------------------------------


def worker_of(pid, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = f.read().split()
        if kids:
            return int(kids[0])
        time.sleep(0.01)
    raise AssertionError("no worker appeared")


def status_fields(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


EXTRACTION_CAPS = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 27) | (1 << 31)
CAP_SYS_ADMIN = 1 << 21


@pytest.mark.parametrize("mode", ["overlay", "native"])
def test_worker_is_confined_and_cancellable(work, mode):
    """A worker blocked on a pipe that never ends: look at it from /proc, then
    cancel it."""
    layer, _ = work.layer([reg("f%d" % i, b"x" * 512) for i in range(50)])
    with open(layer, "rb") as f:
        head = f.read(4096)
    t = work.target()
    work.freeze()
    proc = subprocess.Popen([RUNNER, "--mode", mode, "--cancel-after-ms", "1500", "-", t],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        proc.stdin.write(head[:1000])  # inside the second entry: the worker must wait
        proc.stdin.flush()
        worker = worker_of(proc.pid)
        # Let it confine itself and block on the pipe: poll, as a loaded
        # machine may take a while to get there.
        deadline = time.time() + 10
        while time.time() < deadline and (os.readlink("/proc/%d/root" % worker) != t or
                                          status_fields(worker)["Seccomp"].strip() != "2"):
            time.sleep(0.05)
        fields = status_fields(worker)
        assert os.readlink("/proc/%d/root" % worker) == t
        assert fields["Seccomp"].strip() == "2"
        assert fields["NoNewPrivs"].strip() == "1"
        admin = CAP_SYS_ADMIN if mode == "overlay" else 0
        assert int(fields["CapEff"], 16) == EXTRACTION_CAPS
        assert int(fields["CapPrm"], 16) == EXTRACTION_CAPS | admin
        assert int(fields["CapBnd"], 16) == EXTRACTION_CAPS | admin
        assert int(fields["CapInh"], 16) == 0 and int(fields["CapAmb"], 16) == 0
        fds = sorted(int(fd) for fd in os.listdir("/proc/%d/fd" % worker))
        assert fds == [0, 1, 2, 3, 4]
        out = proc.stdout.read()   # the pipe stays open: only the cancel ends it
        proc.stdin.close()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    res = json.loads(out)
    assert res["status"] == "cancelled" and res["errcode"] == "cancelled"
    work.assert_untouched()


@pytest.mark.skipif(SANITIZED, reason="AddressSanitizer builds set no RLIMIT_AS")
@pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd CLI is not installed")
def test_memory_limit(work):
    """A zstd frame with a 64 MiB window needs 64 MiB to decode: fine by
    default, refused within a 16 MiB budget."""
    layer, did = work.layer([reg("r", os.urandom(100000))], "zstd --long=26")
    t1, t2 = work.target("t1"), work.target("t2")
    work.freeze()
    assert unpack(layer, t1, compression="zstd")["diff_id"] == did
    res = unpack(layer, t2, "--max-memory", str(16 << 20), compression="zstd", expect=None)
    assert res["status"] in ("invalid_layer", "worker_died"), res
    work.assert_untouched()


VALGRIND_CASES = [
    pytest.param(normal_entries, "ok", "overlay", id="normal"),
    pytest.param(lambda w: [sym("evil", w.canary), reg("evil/pwned", b"x")], "unsafe_entry",
                 "overlay", id="symlink-then-write"),
    pytest.param(lambda w: [sym("l", w.canary), reg("l/.wh..wh..opq")], "unsafe_entry",
                 "native", id="opaque-through-symlink"),
]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.skipif(SANITIZED, reason="an AddressSanitizer build does not run under valgrind")
@pytest.mark.parametrize("entries,expect,mode", VALGRIND_CASES)
def test_under_valgrind(work, entries, expect, mode):
    """The driver and its forked worker (valgrind follows the fork). Valgrind
    has neither seccomp() nor openat2(): the worker skips the filter and
    beneath.c takes its openat() path, which the hostile cases exercise."""
    built = entries() if entries is normal_entries else entries(work)
    layer, did = work.layer(built, "gzip")
    t = work.target()
    work.freeze()
    proc = subprocess.run(["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                           "--errors-for-leak-kinds=definite", "--child-silent-after-fork=no",
                           RUNNER, "--mode", mode, "--compression", "gzip",
                           "--max-memory", "0", layer, t],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    # A valgrind error in the worker turns its exit status into 99, which
    # the parent reports as worker_died.
    assert proc.returncode in (0, 1), proc.stderr.decode()[-4000:]
    res = json.loads(proc.stdout)
    assert res["status"] == expect, res
    if expect == "ok":
        assert res["diff_id"] == did
        check_normal(t)
    work.assert_untouched()
