"""Unpack on pull (containerd semantics) and image mount.

A pull unpacks the chosen platform's layers into committed snapshots named
by chainID (OCI image spec: chainID(L0) = diffID0, chainID(Ln) =
sha256("chainID(n-1) diffID(n)")) before it records the image. The trees
are checked against `umoci unpack` of the same OCI layout, never against
what kegd says about itself. Every mount made here is taken off in finally.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

import imagebuild as ib
from test_images import images, pull, pull_failed, pull_ok, wait_for

TIMEOUT = 60
TRANSIENT = "keg.io/snapshot.transient"


# --- helpers -----------------------------------------------------------------

def chain_ids(diff_ids):
    out = []
    for d in diff_ids:
        if not out:
            out.append(d)
        else:
            out.append("sha256:" + hashlib.sha256(
                ("%s %s" % (out[-1], d)).encode()).hexdigest())
    return out


def diff_ids_of(image):
    return image.config_json["rootfs"]["diff_ids"]


def snapshots(kegd, snapshotter=None):
    r = kegd.get("/v1/snapshots" + ("?snapshotter=" + snapshotter if snapshotter else ""))
    assert r.status_code == 200, r.text
    return {s["key"]: s for s in r.json()["snapshots"]}


def mounted(path):
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == real for line in f)


def tree(root):
    """{relative path: (type, mode, content or link target)}; ownership
    and times are left out (umoci and kegd both run as root)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            mode = st.st_mode & 0o7777
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", mode)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    out[rel] = ("file", mode, hashlib.sha256(f.read()).hexdigest())
            else:
                out[rel] = ("other", st.st_mode)
    return out


def umoci_tree(image, tmp):
    bundle = os.path.join(tmp, "bundle")
    subprocess.run(["umoci", "unpack", "--image", "%s:%s" % (image.layout, image.tag), bundle],
                   check=True, capture_output=True)
    return tree(os.path.join(bundle, "rootfs"))


@pytest.fixture
def tmpdir_():
    d = tempfile.mkdtemp(prefix="keg-unpack-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Mounts:
    """Mounts made through the API, always taken off at the end."""

    def __init__(self, kegd):
        self.kegd = kegd
        self.targets = []

    def mount(self, ref, target, **opts):
        r = self.kegd.post("/v1/images/mount", dict(opts, ref=ref, target=target))
        if r.status_code == 201:
            self.targets.append(target)
        return r

    def cleanup(self):
        for t in self.targets:
            if mounted(t):
                self.kegd.post("/v1/images/unmount", {"target": t, "rm": True})
            while mounted(t):
                subprocess.run(["umount", "-l", t], check=False)


@pytest.fixture
def mounts(kegd):
    m = Mounts(kegd)
    yield m
    m.cleanup()


# --- pull unpacks ----------------------------------------------------------------

def test_pull_unpacks_into_chain_snapshots(kegd, pushed_images):
    p = pushed_images["multilayer"]
    end = pull_ok(kegd, p.ref)
    layers = [b for b in end["progress"]["blobs"] if b["kind"] == "layer"]
    assert layers and all(b["unpack"] == "unpacked" for b in layers), layers
    assert all(b["state"] in ("done", "exists") for b in end["progress"]["blobs"])
    chain = chain_ids(diff_ids_of(p.image))
    snaps = snapshots(kegd)
    assert set(chain) <= set(snaps), snaps
    for i, c in enumerate(chain):
        assert snaps[c]["kind"] == "committed"
        assert snaps[c].get("parent") == (chain[i - 1] if i else None)
    # No extraction snapshot stays.
    assert not [k for k in snaps if k.startswith("extract-")]
    img = images(kegd)[p.ref]
    assert img["unpacked"] == {"overlayfs": chain[-1]}
    got = kegd.get("/v1/images/" + p.ref).json()
    assert got["unpacked"] == {"overlayfs": chain[-1]}
    # The config keeps the chain from gc, as containerd's label says.
    r = kegd.get("/v1/content/" + p.config_digest)
    assert r.status_code == 200, r.text
    assert r.json()["labels"]["containerd.io/gc.ref.snapshot.overlayfs"] == chain[-1]
    # The usage of each snapshot is measured after its commit.
    wait_for(lambda: "size_unpacked" in kegd.get("/v1/images/" + p.ref).json(),
             "size_unpacked")
    assert kegd.get("/v1/images/" + p.ref).json()["size_unpacked"] > 0


def test_unpack_false_makes_no_snapshots(kegd, pushed_images):
    p = pushed_images["busybox"]
    end = pull_ok(kegd, p.ref, unpack=False)
    assert all(b["state"] in ("done", "exists") for b in end["progress"]["blobs"])
    assert not [b for b in end["progress"]["blobs"] if "unpack" in b]
    assert snapshots(kegd) == {}
    assert images(kegd)[p.ref]["unpacked"] == {}


def test_pull_unknown_snapshotter_refused(kegd, pushed_images):
    r = kegd.post("/v1/images/pull", {"ref": pushed_images["busybox"].ref,
                                      "snapshotter": "nosuch"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_argument"
    r = kegd.post("/v1/images/pull", {"ref": pushed_images["busybox"].ref, "unpack": "yes"})
    assert r.status_code == 400


def test_images_sharing_layers_share_snapshots(kegd, pushed_images):
    bb, ml = pushed_images["busybox"], pushed_images["multilayer"]
    pull_ok(kegd, bb.ref)
    before = snapshots(kegd)
    base = chain_ids(diff_ids_of(bb.image))[0]
    assert list(before) == [base]
    created = before[base]["created_at"]
    pull_ok(kegd, ml.ref)
    after = snapshots(kegd)
    chain = chain_ids(diff_ids_of(ml.image))
    assert chain[0] == base
    assert set(after) == set(chain)
    assert after[base]["created_at"] == created   # reused, not made again


def test_multiarch_unpacks_the_host_platform_only(kegd, pushed_images):
    p = pushed_images["multiarch"]
    pull_ok(kegd, p.ref, all_platforms=True)
    snaps = snapshots(kegd)
    # The host (amd64) entry is the busybox image: one layer.
    assert len(snaps) == 1, snaps


# --- mount -------------------------------------------------------------------------

@pytest.mark.parametrize("snapshotter", ["overlayfs", "native"])
def test_mount_shows_the_umoci_tree(kegd, pushed_images, tmpdir_, mounts, snapshotter):
    p = pushed_images["multilayer"]
    pull_ok(kegd, p.ref, snapshotter=snapshotter)
    expected = umoci_tree(p.image, tmpdir_)
    target = os.path.join(tmpdir_, "mnt")
    os.mkdir(target)
    r = kegd.keg("images", "mount", "--snapshotter", snapshotter, p.ref, target)
    mounts.targets.append(target)
    assert r.returncode == 0, r.stderr
    assert mounted(target)
    got = tree(target)
    assert got == expected
    for path, data in p.image.expect_present.items():
        assert os.path.exists(target + path)
        if data is not None:
            with open(target + path, "rb") as f:
                assert f.read() == data
    for path in p.image.expect_absent:
        assert not os.path.lexists(target + path)
    key = "mount:" + os.path.realpath(target)
    snaps = snapshots(kegd, snapshotter)
    assert snaps[key]["kind"] == "view"
    assert snaps[key]["parent"] == chain_ids(diff_ids_of(p.image))[-1]
    # Read-only.
    with pytest.raises(OSError):
        open(os.path.join(target, "new-file"), "w")
    r = kegd.keg("images", "unmount", target)
    assert r.returncode == 0, r.stderr
    assert not mounted(target)
    assert key not in snapshots(kegd, snapshotter)
    assert os.listdir(target) == []


def test_mount_rw_and_refusals(kegd, pushed_images, tmpdir_, mounts):
    p = pushed_images["busybox"]
    target = os.path.join(tmpdir_, "mnt")
    os.mkdir(target)
    pull_ok(kegd, p.ref, unpack=False)
    r = mounts.mount(p.ref, target)
    assert r.status_code == 409 and r.json()["error"]["code"] == "failed_precondition", r.text
    assert "not unpacked" in r.json()["error"]["message"]
    pull_ok(kegd, p.ref)
    # Not empty, not a directory, inside the daemon's root: refused.
    with open(os.path.join(tmpdir_, "file"), "w") as f:
        f.write("x")
    r = mounts.mount(p.ref, tmpdir_)
    assert r.status_code == 409, r.text
    r = mounts.mount(p.ref, os.path.join(tmpdir_, "file"))
    assert r.status_code == 400, r.text
    inside = os.path.join(kegd.root, "mnt-inside")
    os.mkdir(inside)
    r = mounts.mount(p.ref, inside)
    assert r.status_code == 400, r.text
    r = mounts.mount("nosuch:latest", target)
    assert r.status_code == 404, r.text
    # A writable mount: an active snapshot, kept by unmount unless rm.
    r = mounts.mount(p.ref, target, rw=True)
    assert r.status_code == 201, r.text
    with open(os.path.join(target, "written"), "w") as f:
        f.write("w")
    assert mounts.mount(p.ref, target).status_code in (409,)
    key = "mount:" + os.path.realpath(target)
    assert snapshots(kegd)[key]["kind"] == "active"
    r = kegd.post("/v1/images/unmount", {"target": target})
    assert r.status_code == 200, r.text
    assert not mounted(target)
    assert key in snapshots(kegd)
    # Unmounted already: rm still removes the writable snapshot.
    r = kegd.post("/v1/images/unmount", {"target": target, "rm": True})
    assert r.status_code == 200 and r.json()["removed"] is True, r.text
    assert key not in snapshots(kegd)
    r = kegd.post("/v1/images/unmount", {"target": target})
    assert r.status_code == 404, r.text


# --- failures --------------------------------------------------------------------

def push_raw(registry, repo, layers, diff_ids=None):
    img = ib.assemble_image(layers, diff_ids=diff_ids)
    registry.push_image(img, repo, "latest")
    return registry.ref(repo + ":latest"), img


def test_diffid_mismatch_fails_the_pull(kegd, registry, pushed_images):
    good = ib.Layer.from_entries([ib.tfile("a.txt", "a\n")])
    bad = ib.Layer.from_entries([ib.tfile("b.txt", "b\n")])
    lie = "sha256:" + "ab" * 32
    ref, img = push_raw(registry, "unpack-lie", [good, bad], diff_ids=[good.diff_id, lie])
    end = pull_failed(kegd, ref, "failed_precondition")
    msg = end["error"]["message"]
    assert lie in msg and bad.diff_id in msg, msg
    assert ref not in images(kegd)
    # Layers unpack in parallel: the good base's extraction, when it was
    # still running, is cancelled and goes soon after.
    wait_for(lambda: not [k for k in snapshots(kegd) if k.startswith("extract-")],
             "the cancelled extraction to go")
    snaps = snapshots(kegd)
    # The good base layer may stay committed (shared, like containerd); nothing
    # of the lying one does.
    assert set(snaps) <= {good.diff_id}, snaps


@pytest.mark.parametrize("entries", [
    lambda canary: [ib.tfile("../escape", "x")],
    lambda canary: [ib.tsymlink("link", canary), ib.tfile("link/evil", "x")],
], ids=["dotdot", "symlink"])
def test_hostile_layer_fails_and_canary_untouched(kegd, registry, tmpdir_, entries):
    canary = os.path.join(tmpdir_, "canary")
    os.mkdir(canary)
    layer = ib.Layer.from_entries(entries(canary))
    repo = "unpack-hostile-%d" % (hash(canary) & 0xffff)
    ref, img = push_raw(registry, repo, [layer])
    end = pull(kegd, ref)
    assert end["state"] == "failed", end
    assert end["error"]["code"] in ("invalid_argument",), end
    assert os.listdir(canary) == []
    assert not os.path.exists(os.path.join(tmpdir_, "escape"))
    assert ref not in images(kegd)
    assert snapshots(kegd) == {}


def big_layer(n=40000):
    return ib.Layer.from_entries([ib.tdir("many")] +
                                 [ib.tfile("many/f%05d" % i, "%d\n" % i) for i in range(n)])


def test_kill9_mid_unpack_then_repull(kegd, registry):
    ref, img = push_raw(registry, "unpack-big", [big_layer()])
    r = kegd.post("/v1/images/pull", {"ref": ref})
    assert r.status_code == 202, r.text
    wait_for(lambda: [k for k in snapshots(kegd) if k.startswith("extract-")],
             "the extraction snapshot", timeout=TIMEOUT)
    kegd.kill9()
    kegd.start()
    snaps = snapshots(kegd)
    assert snaps == {}, snaps
    assert ref not in images(kegd)
    pull_ok(kegd, ref)
    snaps = snapshots(kegd)
    assert list(snaps) == [img.layers[0].diff_id]
    assert images(kegd)[ref]["unpacked"] == {"overlayfs": img.layers[0].diff_id}


def test_cancel_mid_unpack_removes_the_active_snapshot(kegd, registry):
    ref, img = push_raw(registry, "unpack-big-cancel", [big_layer()])
    r = kegd.post("/v1/images/pull", {"ref": ref})
    assert r.status_code == 202, r.text
    op_id = r.json()["id"]
    wait_for(lambda: [k for k in snapshots(kegd) if k.startswith("extract-")],
             "the extraction snapshot", timeout=TIMEOUT)
    r = kegd.delete("/v1/operations/" + op_id)
    assert r.status_code == 200, r.text
    wait_for(lambda: snapshots(kegd) == {}, "the active snapshot to go")
    assert ref not in images(kegd)


def test_two_pulls_of_one_chain_share_one_unpack(kegd, registry):
    ref, img = push_raw(registry, "unpack-big-twice", [big_layer(20000)])
    ids = []
    for ns in ("one", "one"):
        r = kegd.post("/v1/images/pull?namespace=" + ns, {"ref": ref})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    for op_id in ids:
        deadline = time.monotonic() + TIMEOUT
        while True:
            op = kegd.get("/v1/operations/" + op_id + "?namespace=one").json()
            if op["state"] != "running":
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert op["state"] == "done", op
    r = kegd.get("/v1/snapshots?namespace=one")
    keys = [s["key"] for s in r.json()["snapshots"]]
    assert keys == [img.layers[0].diff_id]
    # One unpack worker served both (kegd logs each at debug level).
    assert len(re.findall(r"unpack: worker \d+ into ", kegd.log())) == 1, kegd.log()


# --- parallel unpack -------------------------------------------------------------

def op_layers(kegd, op_id):
    """{digest: layer progress} of a running (or ended) pull operation."""
    op = kegd.get("/v1/operations/" + op_id).json()
    return op, {b["digest"]: b for b in op.get("progress", {}).get("blobs", [])
                if b["kind"] == "layer"}


def wait_op_end(kegd, op_id):
    deadline = time.monotonic() + TIMEOUT
    while True:
        op = kegd.get("/v1/operations/" + op_id).json()
        if op["state"] != "running":
            return op
        assert time.monotonic() < deadline, op
        time.sleep(0.05)


def stalled_base_pull(kegd, front_factory, ref_of, base_digest, **opts):
    """Starts a pull through a front that stalls the base layer's blob after
    1 KiB; returns (front, operation id)."""
    front = front_factory("slow", stall_after=1024, stall_timeout=60, only=[base_digest])
    r = kegd.post("/v1/images/pull", dict(opts, ref=ref_of(front)))
    assert r.status_code == 202, r.text
    return front, r.json()["id"]


def let_base_through(front):
    front.stall_after = None    # the retry (a Range request) is served in full
    front.release()


def uppers_extracted(kegd, op_id, base, uppers):
    op, layers = op_layers(kegd, op_id)
    assert op["state"] == "running", op
    if not all(layers.get(d, {}).get("unpack") == "extracted" for d in uppers):
        return None
    return layers


@pytest.mark.parametrize("snapshotter", ["overlayfs", "native"])
def test_upper_layers_unpack_before_the_base_arrives(kegd, pushed_images, front_factory,
                                                     tmpdir_, mounts, snapshotter):
    p = pushed_images["multilayer"]
    base, uppers = p.layer_digests[0], p.layer_digests[1:]
    assert len(set(p.layer_digests)) == 3
    front, op_id = stalled_base_pull(kegd, front_factory, p.ref_on, base,
                                     snapshotter=snapshotter)
    chain = chain_ids(diff_ids_of(p.image))
    if snapshotter == "overlayfs":
        # Every upper layer is extracted while the base still downloads.
        layers = wait_for(lambda: uppers_extracted(kegd, op_id, base, uppers),
                          "the upper layers' extraction", timeout=TIMEOUT)
        assert layers[base]["state"] == "downloading", layers[base]
        assert layers[base]["unpack"] == "waiting", layers[base]
        snaps = snapshots(kegd, snapshotter)
        extracting = [s for k, s in snaps.items() if k.startswith("extract-")]
        assert len(extracting) == 2, snaps
        # Parentless active snapshots, dropped by a crash; nothing committed yet.
        assert all(s["kind"] == "active" and "parent" not in s and
                   s["labels"].get(TRANSIENT) for s in extracting), extracting
        assert not set(chain) & set(snaps)
    else:
        # native copies the parent: nothing above the base starts before it.
        wait_for(lambda: all(op_layers(kegd, op_id)[1].get(d, {}).get("state") == "done"
                             for d in uppers), "the upper blobs")
        time.sleep(0.5)
        op, layers = op_layers(kegd, op_id)
        assert op["state"] == "running", op
        assert all(layers[d]["unpack"] in ("waiting", "unpacking") for d in uppers), layers
        assert snapshots(kegd, snapshotter) == {}
    let_base_through(front)
    op = wait_op_end(kegd, op_id)
    assert op["state"] == "done", op
    assert all(b["unpack"] == "unpacked" for b in op["progress"]["blobs"]
               if b["kind"] == "layer"), op
    snaps = snapshots(kegd, snapshotter)
    assert set(snaps) == set(chain), snaps
    for i, c in enumerate(chain):
        assert snaps[c]["kind"] == "committed"
        assert snaps[c].get("parent") == (chain[i - 1] if i else None)
    # The merged tree is umoci's.
    expected = umoci_tree(p.image, tmpdir_)
    target = os.path.join(tmpdir_, "mnt")
    os.mkdir(target)
    r = kegd.keg("images", "mount", "--snapshotter", snapshotter, p.ref_on(front), target)
    mounts.targets.append(target)
    assert r.returncode == 0, r.stderr
    assert tree(target) == expected
    for path in p.image.expect_absent:
        assert not os.path.lexists(target + path)


def lying_base_image(registry, repo):
    """Three layers; the config lies about the base's diffID."""
    # Incompressible: the blob is well over the 1 KiB the front lets through.
    base = ib.Layer.from_entries([ib.tdir("etc"), ib.tfile("etc/base", os.urandom(50000))])
    up1 = ib.Layer.from_entries([ib.tfile("etc/one", "1\n")])
    up2 = ib.Layer.from_entries([ib.tfile("etc/two", "2\n"), ib.tfile("etc/.wh.base", "")])
    lie = "sha256:" + "cd" * 32
    ref, img = push_raw(registry, repo, [base, up1, up2],
                        diff_ids=[lie, up1.diff_id, up2.diff_id])
    return img, lie


def test_base_failure_removes_the_extracted_uppers(kegd, registry, front_factory):
    img, lie = lying_base_image(registry, "unpack-lying-base")
    base, uppers = img.layers[0].digest, [l.digest for l in img.layers[1:]]
    front, op_id = stalled_base_pull(kegd, front_factory,
                                     lambda f: f.ref("unpack-lying-base:latest"), base)
    wait_for(lambda: uppers_extracted(kegd, op_id, base, uppers),
             "the upper layers' extraction", timeout=TIMEOUT)
    assert len([k for k in snapshots(kegd) if k.startswith("extract-")]) == 2
    let_base_through(front)
    op = wait_op_end(kegd, op_id)
    assert op["state"] == "failed", op
    assert op["error"]["code"] == "failed_precondition", op
    assert lie in op["error"]["message"], op
    # Nothing of any layer stays: the uppers' trees went with the base.
    wait_for(lambda: snapshots(kegd) == {}, "the extraction snapshots to go")
    assert "unpack-lying-base" not in str(list(images(kegd)))
    assert len(re.findall(r"unpack: worker \d+ into ", kegd.log())) == 3, kegd.log()


def test_kill9_during_parallel_unpack_then_repair(kegd, pushed_images, front_factory):
    p = pushed_images["multilayer"]
    base, uppers = p.layer_digests[0], p.layer_digests[1:]
    chain = chain_ids(diff_ids_of(p.image))
    front, op_id = stalled_base_pull(kegd, front_factory, p.ref_on, base)
    wait_for(lambda: uppers_extracted(kegd, op_id, base, uppers),
             "the upper layers' extraction", timeout=TIMEOUT)
    kegd.kill9()
    let_base_through(front)
    kegd.start()
    # The parentless extractions were transient: dropped, directories too.
    assert snapshots(kegd) == {}
    d = os.path.join(kegd.root, "snapshots", "overlayfs")
    wait_for(lambda: not [n for n in os.listdir(d) if not n.startswith("trash-")],
             "the repair's removals")
    # Pulled again: the uppers are extracted before the base (lower ids),
    # then committed onto it.
    front.stall(1024)
    r = kegd.post("/v1/images/pull", {"ref": p.ref_on(front)})
    assert r.status_code == 202, r.text
    op_id = r.json()["id"]
    wait_for(lambda: uppers_extracted(kegd, op_id, base, uppers),
             "the upper layers' extraction", timeout=TIMEOUT)
    let_base_through(front)
    op = wait_op_end(kegd, op_id)
    assert op["state"] == "done", op
    assert set(snapshots(kegd)) == set(chain)
    ids = sorted(int(n) for n in os.listdir(d) if n.isdigit())
    assert len(ids) == 3, os.listdir(d)
    # The base has the highest id; its children lower ones. When its
    # directory is lost, the whole chain goes at the next start.
    kegd.kill9()
    shutil.rmtree(os.path.join(d, str(ids[-1])))
    kegd.start()
    assert snapshots(kegd) == {}
    rep = [x for x in kegd.get("/v1/plugins").json()["plugins"]
           if x["id"] == "overlayfs"][0]["info"]["repair"]
    assert rep["missing"] == 3, rep
    wait_for(lambda: not [n for n in os.listdir(d) if not n.startswith("trash-")],
             "the repair's removals")
    assert "directory is missing" in kegd.log()
    # And the image pulls whole again.
    pull_ok(kegd, p.ref_on(front))
    assert set(snapshots(kegd)) == set(chain)
