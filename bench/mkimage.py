#!/usr/bin/python3
"""Builds the benchmark images as OCI image layouts, offline, from host files.

    mkimage.py OUTDIR small|medium|large

OUTDIR/<name>/ becomes an OCI layout (oci-layout, index.json, blobs/sha256/)
with the tag "latest", and OUTDIR/<name>.json its summary (layers, gzip and
unpacked sizes, file count).  The layers are gzip tars (GNU tar piped into
gzip -6 -n, as `docker save`-era tooling makes them) of files picked from host
directories in sorted order until a per-layer budget of bytes or files is
spent, so the same Debian 12 host gives the same trees.  An existing summary
means the image is already built; delete the directory to rebuild.

small is busybox-static with its applet links (for runs); medium and large
hold host files only (for pulls).
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

# (source dirs, max bytes, max files) per layer.  Sizes were tuned on a
# Debian 12 host to ~185 MB / ~11k files (medium) and ~650 MB / ~38k files
# (large) unpacked.
MB = 1 << 20
SPECS = {
    "medium": [
        (["/usr/include"], 76 * MB, 5800),
        (["/usr/lib/python3", "/usr/share/perl"], 64 * MB, 3900),
        (["/usr/share/locale"], 55 * MB, 1700),
    ],
    "large": [
        (["/usr/lib/x86_64-linux-gnu"], 200 * MB, 3000),
        (["/usr/share/man"], 90 * MB, 20000),
        (["/usr/include"], 130 * MB, 8000),
        (["/usr/lib/llvm-14/lib", "/usr/lib/gcc"], 150 * MB, 1500),
        (["/usr/share/fpcsrc"], 90 * MB, 6000),
        (["/usr/share/locale", "/usr/lib/python3", "/usr/share/icons"], 100 * MB, 2500),
    ],
}
# When a host lacks some of these, the budget is spent on what follows.
FALLBACK = ["/usr/share", "/usr/lib"]
MAX_FILE = 24 * MB
BUSYBOX = "/bin/busybox"


def walk_sorted(top):
    """Yields (relative path, lstat) under top in sorted order, dirs first."""
    try:
        names = sorted(os.listdir(top))
    except OSError:
        return
    for n in names:
        p = os.path.join(top, n)
        try:
            st = os.lstat(p)
        except OSError:
            continue
        yield p, st
        if stat.S_ISDIR(st.st_mode):
            yield from walk_sorted(p)


def pick(dirs, max_bytes, max_files, used):
    """Files (regular and symlinks) under dirs not in used, within budget."""
    out, nbytes = [], 0
    for d in dirs:
        for p, st in walk_sorted(d):
            if stat.S_ISDIR(st.st_mode) or p in used:
                continue
            if stat.S_ISREG(st.st_mode):
                if st.st_size > MAX_FILE or not os.access(p, os.R_OK):
                    continue
                size = st.st_size
            elif stat.S_ISLNK(st.st_mode):
                size = 0
            else:
                continue
            if nbytes + size > max_bytes or len(out) >= max_files:
                return out, nbytes
            out.append(p)
            used.add(p)
            nbytes += size
    return out, nbytes


def with_parents(paths):
    """Relative paths of the files and all their parent dirs, sorted."""
    s = set()
    for p in paths:
        rel = p.lstrip("/")
        s.add(rel)
        d = os.path.dirname(rel)
        while d and d not in s:
            s.add(d)
            d = os.path.dirname(d)
    return sorted(s)


def write_blob(layout, data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", h), "wb") as f:
        f.write(data)
    return "sha256:" + h, len(data)


def tar_layer(layout, root, names):
    """tar -C root of names (NUL list) | gzip into the layout; returns
    (digest, gz size, diff_id)."""
    blobs = os.path.join(layout, "blobs", "sha256")
    tmp = os.path.join(blobs, ".layer.tmp")
    listf = os.path.join(layout, ".list")
    with open(listf, "wb") as f:
        f.write(b"\0".join(n.encode("utf-8", "surrogateescape") for n in names) + b"\0")
    with open(tmp, "wb") as out:
        tar = subprocess.Popen(["tar", "-C", root, "--no-recursion", "--numeric-owner",
                                "--null", "-T", listf, "-cf", "-"], stdout=subprocess.PIPE)
        gz = subprocess.Popen(["gzip", "-6", "-n"], stdin=subprocess.PIPE, stdout=out)
        diff = hashlib.sha256()
        while True:
            chunk = tar.stdout.read(1 << 20)
            if not chunk:
                break
            diff.update(chunk)
            gz.stdin.write(chunk)
        gz.stdin.close()
        if tar.wait() != 0 or gz.wait() != 0:
            raise SystemExit("mkimage: tar or gzip failed")
    os.unlink(listf)
    h = hashlib.sha256()
    with open(tmp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    size = os.path.getsize(tmp)
    os.rename(tmp, os.path.join(blobs, h.hexdigest()))
    return "sha256:" + h.hexdigest(), size, "sha256:" + diff.hexdigest()


def busybox_tree(dst):
    for d in ("bin", "etc", "dev", "proc", "sys", "tmp", "root"):
        os.makedirs(os.path.join(dst, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(dst, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(dst, "bin", a))
    with open(os.path.join(dst, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    with open(os.path.join(dst, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    names = []
    for p, _ in walk_sorted(dst):
        names.append(os.path.relpath(p, dst))
    return sorted(names)


def build(outdir, name):
    layout = os.path.join(outdir, name)
    summary_path = os.path.join(outdir, name + ".json")
    if os.path.exists(summary_path):
        return
    shutil.rmtree(layout, ignore_errors=True)
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    layers, files_total, bytes_total = [], 0, 0
    if name == "small":
        with tempfile.TemporaryDirectory() as tmp:
            names = busybox_tree(tmp)
            dg, gz, diff = tar_layer(layout, tmp, names)
            nbytes = sum(os.lstat(os.path.join(tmp, n)).st_size for n in names
                         if not os.path.isdir(os.path.join(tmp, n)))
            layers.append({"digest": dg, "size": gz, "diff_id": diff,
                           "files": len([n for n in names if not os.path.isdir(os.path.join(tmp, n))]),
                           "bytes": nbytes})
    else:
        used = set()
        for dirs, max_bytes, max_files in SPECS[name]:
            files, nbytes = pick(dirs + FALLBACK, max_bytes, max_files, used)
            dg, gz, diff = tar_layer(layout, "/", with_parents(files))
            layers.append({"digest": dg, "size": gz, "diff_id": diff, "files": len(files),
                           "bytes": nbytes, "from": dirs})
    files_total = sum(l["files"] for l in layers)
    bytes_total = sum(l["bytes"] for l in layers)
    config = {
        "created": "2024-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "keg bench/mkimage.py"}
                    for _ in layers],
    }
    cdg, csize = write_blob(layout, json.dumps(config, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cdg, "size": csize},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": l["digest"], "size": l["size"]} for l in layers],
    }
    mdg, msize = write_blob(layout, json.dumps(manifest, separators=(",", ":")).encode())
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdg, "size": msize,
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
        "platform": {"architecture": "amd64", "os": "linux"}}]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    summary = {"name": name, "manifest": mdg, "layers": layers, "files": files_total,
               "bytes": bytes_total, "gz_bytes": sum(l["size"] for l in layers)}
    with open(summary_path + ".tmp", "w") as f:
        json.dump(summary, f, indent=1)
    os.rename(summary_path + ".tmp", summary_path)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("small", "medium", "large"):
        sys.exit(__doc__)
    build(sys.argv[1], sys.argv[2])
    s = json.load(open(os.path.join(sys.argv[1], sys.argv[2] + ".json")))
    print("%s: %d layers, %.1f MB gz, %.1f MB unpacked, %d files" % (
        s["name"], len(s["layers"]), s["gz_bytes"] / MB, s["bytes"] / MB, s["files"]))
