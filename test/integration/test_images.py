"""Pulling images from real registries, and the image API around them.

Everything here is real: docker-registry on loopback with images pushed by
skopeo (registry.py), Python fronts in front of it that add token auth,
cut connections, corrupt bytes, slow down or redirect (fronts.py), and
kegd on a private root. Expectations come from the registry's own bytes,
never from what kegd says about itself.

A pull is POST /v1/images/pull; with Accept: application/x-ndjson the
answer is the operation's snapshots, one JSON object a line, until it ends.
"""
import base64
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import threading
import time

import pytest

import fronts

TIMEOUT = 30          # seconds a pull may take on loopback
NDJSON = {"Accept": "application/x-ndjson"}
GC = "containerd.io/gc.ref.content."


# --- helpers -----------------------------------------------------------------

def q(ns):
    return "?namespace=" + ns if ns else ""


def pull_lines(kegd, body, ns=None):
    """POST /v1/images/pull streaming NDJSON: every snapshot, in order."""
    r = kegd.post("/v1/images/pull" + q(ns), body, headers=NDJSON, stream=True,
                  timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(l) for l in r.iter_lines() if l]
    r.close()
    assert lines, "no progress line at all"
    for snap in lines[:-1]:
        assert snap["state"] == "running", snap
    assert lines[-1]["state"] in ("done", "failed", "cancelled")
    assert len({s["id"] for s in lines}) == 1
    return lines


def pull(kegd, ref, ns=None, **opts):
    """The last snapshot of a streamed pull."""
    body = dict(opts, ref=ref)
    return pull_lines(kegd, body, ns)[-1]


def pull_ok(kegd, ref, ns=None, **opts):
    end = pull(kegd, ref, ns, **opts)
    assert end["state"] == "done", end
    return end


def pull_failed(kegd, ref, code, ns=None, **opts):
    end = pull(kegd, ref, ns, **opts)
    assert end["state"] == "failed", end
    assert end["error"]["code"] == code, end
    assert "result" not in end
    return end


def images(kegd, ns=None):
    r = kegd.get("/v1/images" + q(ns))
    assert r.status_code == 200, r.text
    return {i["name"]: i for i in r.json()["images"]}


def content(kegd, ns=None):
    r = kegd.get("/v1/content" + q(ns))
    assert r.status_code == 200, r.text
    return {c["digest"]: c for c in r.json()["content"]}


def ingests(kegd):
    r = kegd.get("/v1/content/ingests")
    assert r.status_code == 200, r.text
    return r.json()["ingests"]


def get_op(kegd, op_id, ns=None):
    r = kegd.get("/v1/operations/" + op_id + q(ns))
    assert r.status_code == 200, r.text
    return r.json()


def wait_op(kegd, op_id, ns=None, timeout=TIMEOUT):
    """Polls GET /v1/operations/{id} until the operation has ended."""
    deadline = time.monotonic() + timeout
    while True:
        op = get_op(kegd, op_id, ns)
        if op["state"] != "running":
            return op
        assert time.monotonic() < deadline, "operation still running: %s" % op
        time.sleep(0.05)


def wait_for(pred, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.02)


def start_pull(kegd, body, ns=None):
    """POST without Accept: 202 and the operation; returns its id."""
    r = kegd.post("/v1/images/pull" + q(ns), body)
    assert r.status_code == 202, r.text
    op = r.json()
    assert r.headers["Location"] == "/v1/operations/" + op["id"]
    assert op["kind"] == "pull" and op["state"] == "running"
    return op["id"]


def expect_error(r, status, code):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]["message"]


def operation_ids(kegd, ns=None):
    r = kegd.get("/v1/operations" + q(ns))
    assert r.status_code == 200
    return {o["id"] for o in r.json()["operations"]}


def platform_key(p):
    return "/".join([p["os"], p["architecture"]] + ([p["variant"]] if p.get("variant") else []))


class Expected:
    """What a pull must store, computed from the registry's bytes:
    blobs {digest: bytes}, labels {digest: gc labels}, target digest,
    media type, size (distinct bytes), platforms of the pulled manifests."""

    def __init__(self, registry, repo, ref, platforms=None):
        self.registry, self.repo = registry, repo
        self.blobs, self.labels = {}, {}
        self.platforms = []
        raw, mt, digest = registry.get_manifest(repo, ref)
        self.target, self.media_type = digest, mt.split(";")[0]
        self._doc(raw, digest, platforms)

    def _doc(self, raw, digest, platforms):
        self.blobs[digest] = raw
        doc = json.loads(raw)
        labels = self.labels.setdefault(digest, {})
        if "manifests" in doc:
            for i, d in enumerate(doc["manifests"]):
                if platforms is not None and platform_key(d["platform"]) not in platforms:
                    continue
                labels[GC + "m.%d" % i] = d["digest"]
                child, _, _ = self.registry.get_manifest(self.repo, d["digest"])
                self._doc(child, d["digest"], None)
            return
        cfg = doc["config"]["digest"]
        labels[GC + "config"] = cfg
        self.blobs[cfg] = self.registry.get_blob(self.repo, cfg)
        self.labels.setdefault(cfg, {})
        config = json.loads(self.blobs[cfg])
        self.platforms.append(platform_key({"os": config["os"],
                                            "architecture": config["architecture"],
                                            "variant": config.get("variant")}))
        for i, l in enumerate(doc["layers"]):
            labels[GC + "l.%d" % i] = l["digest"]
            self.blobs[l["digest"]] = self.registry.get_blob(self.repo, l["digest"])
            self.labels.setdefault(l["digest"], {})

    @property
    def size(self):
        return sum(len(b) for b in self.blobs.values())


def check_pulled(kegd, name, exp, ns=None):
    """The image row, every content row, and the bytes, against exp."""
    img = images(kegd, ns)[name]
    assert img["target"] == {"mediaType": exp.media_type, "digest": exp.target,
                             "size": len(exp.blobs[exp.target])}
    assert sorted(img["platforms"]) == sorted(exp.platforms)
    assert img["size"] == exp.size
    assert img["complete"] is True
    rows = content(kegd, ns)
    assert set(rows) == set(exp.blobs)
    for digest, data in exp.blobs.items():
        assert rows[digest]["size"] == len(data), digest
        # Unpack adds the snapshot chain's gc reference to the config
        # (test_pull_unpack.py checks it); the content references are these.
        labels = {k: v for k, v in rows[digest]["labels"].items()
                  if not k.startswith("containerd.io/gc.ref.snapshot.")}
        assert labels == exp.labels[digest], digest
        r = kegd.get("/v1/content/%s/blob%s" % (digest, q(ns)))
        assert r.status_code == 200
        assert r.content == data, digest
        assert r.headers["Docker-Content-Digest"] == digest
    return img


def db_path(kegd):
    return os.path.join(kegd.root, "metadata.db")


def db_integrity(kegd):
    con = sqlite3.connect(db_path(kegd))
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


def latest_event_id(kegd):
    r = kegd.get("/v1/plugins")
    for p in r.json()["plugins"]:
        if p["type"] == "keg.events.v1":
            return p["info"]["latest_id"]
    raise AssertionError("no events plugin")


def events_since(kegd, since):
    """Every event after `since` up to the latest now, replayed from the log."""
    last = latest_event_id(kegd)
    out = []
    if last <= since:
        return out
    r = kegd.get("/v1/events?since=%d" % since, stream=True, timeout=10)
    assert r.status_code == 200
    block = {}
    for line in r.iter_lines(decode_unicode=True):
        if line == "":
            if "data" in block:
                out.append(json.loads(block["data"]))
                if out[-1]["id"] >= last:
                    break
            block = {}
        elif not line.startswith(":"):
            k, _, v = line.partition(":")
            block[k] = v[1:] if v.startswith(" ") else v
    r.close()
    return out


def topics(events, prefix=""):
    return [e["topic"] for e in events if e["topic"].startswith(prefix)]


# --- pulling one image -------------------------------------------------------

@pytest.mark.parametrize("key", ["busybox", "busybox_v2s2", "multilayer"])
def test_pull_single_manifest(kegd, registry, pushed_images, key):
    p = pushed_images[key]
    lines = pull_lines(kegd, {"ref": p.ref})
    end = lines[-1]
    assert end["state"] == "done", end
    assert lines[0]["progress"]["ref"] == p.ref
    assert end["target"] == p.ref and end["kind"] == "pull"
    assert end["result"]["image"]["name"] == p.ref
    assert end["result"]["image"]["target"]["digest"] == p.digest
    prog = end["progress"]
    exp = Expected(registry, p.repo, p.tag)
    assert exp.target == p.digest
    assert prog["done_bytes"] == prog["total_bytes"] == exp.size
    kinds = {b["digest"]: b["kind"] for b in prog["blobs"]}
    assert kinds[p.digest] == "manifest" and kinds[p.config_digest] == "config"
    assert all(kinds[d] == "layer" for d in p.layer_digests)
    assert all(b["state"] in ("done", "exists") for b in prog["blobs"])
    img = check_pulled(kegd, p.ref, exp)
    assert img["platforms"] == ["linux/amd64"]
    # the detailed view names the manifest, its config and layers
    one = kegd.get("/v1/images/" + p.ref).json()
    assert [m["digest"] for m in one["manifests"]] == [p.digest]
    assert [l["digest"] for l in one["manifests"][0]["layers"]] == p.layer_digests
    # real curl on the socket: a Range gives 206 and the first 100 bytes
    layer = p.layer_digests[0]
    out = kegd.curl("-o", "/dev/null", "-w", "%{http_code}", "-r", "0-99",
                    "http://keg/v1/content/%s/blob" % layer)
    assert out.stdout == "206"
    raw = subprocess.run(["curl", "-sS", "--unix-socket", kegd.sock, "-r", "0-99",
                          "http://keg/v1/content/%s/blob" % layer],
                         capture_output=True, timeout=30, check=True).stdout
    assert raw == exp.blobs[layer][:100]


def test_pull_by_digest_and_short_names(kegd, registry, pushed_images):
    p = pushed_images["busybox"]
    ref = p.digest_ref()
    end = pull_ok(kegd, ref)
    assert end["result"]["image"]["name"] == ref
    assert images(kegd)[ref]["target"]["digest"] == p.digest
    # the URL takes the reference as typed, slashes and all
    assert kegd.get("/v1/images/" + ref).status_code == 200


def test_pull_by_digest_of_local_content_needs_no_registry(kegd, front_factory, pushed_images):
    p = pushed_images["multiarch"]
    front = front_factory("plain")
    ref = p.digest_ref(front.host)
    pull_ok(kegd, ref, all_platforms=True)
    front.reset()
    start = latest_event_id(kegd)
    end = pull_ok(kegd, ref, all_platforms=True)
    assert front.requests == []
    blobs = end["progress"]["blobs"]
    assert {b["state"] for b in blobs} == {"exists"}, blobs
    assert blobs[0]["media_type"] == p.media_type
    img = images(kegd)[ref]
    assert img["target"] == {"mediaType": p.media_type, "digest": p.digest,
                             "size": len(p.manifest)}
    assert topics(events_since(kegd, start), "/images/") == ["/images/update"]


def test_pull_with_curl_streams_ndjson(kegd, pushed_images):
    p = pushed_images["busybox"]
    out = kegd.curl("-N", "-H", "Accept: application/x-ndjson", "-H",
                    "Content-Type: application/json", "-d", json.dumps({"ref": p.ref}),
                    "-D", "-", "http://keg/v1/images/pull")
    head, _, body = out.stdout.partition("\n\n")    # text mode: \r\n is \n
    assert head.startswith("HTTP/1.1 200")
    assert "application/x-ndjson" in head.lower()
    lines = [json.loads(l) for l in body.splitlines() if l.strip()]
    assert [l["state"] for l in lines][-1] == "done"
    assert all(l["state"] == "running" for l in lines[:-1])
    assert lines[-1]["result"]["image"]["target"]["digest"] == p.digest


def test_pull_without_ndjson_is_202_then_poll(kegd, pushed_images):
    p = pushed_images["multilayer"]
    r = kegd.post("/v1/images/pull", {"ref": p.ref})
    assert r.status_code == 202, r.text
    op = r.json()
    assert r.headers["Location"] == "/v1/operations/" + op["id"]
    assert op["state"] == "running" and op["target"] == p.ref
    end = wait_op(kegd, op["id"])
    assert end["state"] == "done", end
    assert end["result"]["image"]["target"]["digest"] == p.digest
    assert op["id"] in operation_ids(kegd)
    assert len(op["id"]) == 32 and int(op["id"], 16) >= 0
    assert set(op) >= {"id", "kind", "namespace", "target", "state", "created_at",
                       "updated_at", "progress"}
    assert op["namespace"] == "default"
    # operations belong to their namespace
    assert op["id"] not in operation_ids(kegd, "other")
    expect_error(kegd.get("/v1/operations/%s?namespace=other" % op["id"]), 404, "not_found")
    expect_error(kegd.delete("/v1/operations/%s?namespace=other" % op["id"]), 404, "not_found")
    # curl sees the same 202 and Location
    out = kegd.curl("-i", "-H", "Content-Type: application/json", "-d",
                    json.dumps({"ref": p.ref}), "http://keg/v1/images/pull")
    assert out.stdout.startswith("HTTP/1.1 202")
    loc = [l for l in out.stdout.splitlines() if l.lower().startswith("location:")][0]
    op_id = loc.split("/")[-1].strip()
    assert wait_op(kegd, op_id)["state"] == "done"
    # a finished operation can be watched: one line, the end
    r = kegd.get("/v1/operations/" + op_id, headers=NDJSON)
    lines = [json.loads(l) for l in r.text.splitlines() if l]
    assert [l["state"] for l in lines] == ["done"]
    # and no longer cancelled
    expect_error(kegd.delete("/v1/operations/" + op_id), 409, "failed_precondition")


# --- indexes and platforms ------------------------------------------------------

@pytest.mark.parametrize("key", ["multiarch", "multiarch_docker"])
def test_index_platform_selection(kegd, registry, pushed_images, key):
    p = pushed_images[key]
    amd64, arm64 = p.platforms["linux/amd64"], p.platforms["linux/arm64/v8"]
    # default: the host's platform (linux/amd64) only
    end = pull_ok(kegd, p.ref, ns="host")
    exp = Expected(registry, p.repo, p.tag, platforms={"linux/amd64"})
    img = check_pulled(kegd, p.ref, exp, ns="host")
    assert img["platforms"] == ["linux/amd64"]
    assert {b["digest"] for b in end["progress"]["blobs"]} == set(exp.blobs)
    assert arm64 not in content(kegd, "host")
    # one other platform, by os/arch (the variant is optional)
    pull_ok(kegd, p.ref, ns="arm", platform="linux/arm64")
    exp = Expected(registry, p.repo, p.tag, platforms={"linux/arm64/v8"})
    img = check_pulled(kegd, p.ref, exp, ns="arm")
    assert img["platforms"] == ["linux/arm64/v8"]
    assert amd64 not in content(kegd, "arm")
    # what one namespace pulled does not show in another's image
    assert images(kegd, "host")[p.ref]["platforms"] == ["linux/amd64"]
    # all of them
    pull_ok(kegd, p.ref, ns="all", all_platforms=True)
    exp = Expected(registry, p.repo, p.tag)
    img = check_pulled(kegd, p.ref, exp, ns="all")
    assert sorted(img["platforms"]) == ["linux/amd64", "linux/arm/v7", "linux/arm64/v8"]
    detail = kegd.get("/v1/images/%s?namespace=all" % p.ref).json()
    assert len(detail["manifests"]) == 3
    # a platform the index does not have: not found, nothing recorded
    end = pull_failed(kegd, p.ref, "not_found", ns="none", platform="linux/s390x")
    assert "s390x" in end["error"]["message"]
    assert images(kegd, "none") == {} and content(kegd, "none") == {}


# --- authentication -----------------------------------------------------------

def test_basic_auth(kegd_factory, auth_registry, tmpbase):
    p = auth_registry.pushed["busybox"]
    k = kegd_factory()
    end = pull_failed(k, p.ref, "unauthenticated")
    assert auth_registry.host in end["error"]["message"]
    assert images(k) == {} and content(k) == {}
    end = pull_ok(k, p.ref, auth={"username": auth_registry.user,
                                  "password": auth_registry.password})
    assert images(k)[p.ref]["target"]["digest"] == p.digest
    # wrong password: refused
    pull_failed(k, p.ref, "unauthenticated", ns="wrong",
                auth={"username": auth_registry.user, "password": "nope"})
    # credentials from a docker config.json named in kegd's settings
    authfile = os.path.join(tmpbase, "auth.json")
    token = base64.b64encode(("%s:%s" % auth_registry.auth).encode()).decode()
    with open(authfile, "w") as f:
        json.dump({"auths": {"http://%s" % auth_registry.host: {"auth": token}}}, f)
    k2 = kegd_factory(config={"registry_auth_file": authfile}, name="with-authfile")
    pull_ok(k2, p.ref)
    assert images(k2)[p.ref]["target"]["digest"] == p.digest


def test_token_auth(kegd, token_registry, pushed_images):
    tr = token_registry
    pub = pushed_images["public_busybox"]
    pull_ok(kegd, pub.ref_on(tr))
    assert images(kegd)[pub.ref_on(tr)]["target"]["digest"] == pub.digest
    anon = [t for t in tr.token_requests if t["status"] == 200]
    assert anon and all(t["user"] is None for t in anon)
    # a private repository: anonymous tokens do not cover it
    priv = pushed_images["multilayer"]
    end = pull_failed(kegd, priv.ref_on(tr), "unauthenticated")
    assert tr.host in end["error"]["message"]
    assert priv.ref_on(tr) not in images(kegd)
    # with credentials it works, and one token serves every blob
    tr.reset()
    pull_ok(kegd, priv.ref_on(tr), auth={"username": "user", "password": "pass"})
    assert images(kegd)[priv.ref_on(tr)]["target"]["digest"] == priv.digest
    # config + two layers (the first is busybox's, already here)
    assert set(tr.blob_gets) == {priv.config_digest} | set(priv.layer_digests[1:])
    granted = [t for t in tr.token_requests if t["status"] == 200]
    assert granted and all(t["user"] == "user" for t in granted)
    assert len(tr.token_requests) <= 2, tr.token_requests
    # a second pull of the same repository reuses the cached token
    before = len(tr.token_requests)
    pull_ok(kegd, priv.ref_on(tr), ns="again", auth={"username": "user", "password": "pass"})
    assert len(tr.token_requests) == before


# --- faulty registries ----------------------------------------------------------

def test_cut_connection_resumes_with_range(kegd, cutting_front, pushed_images, registry):
    p = pushed_images["multilayer"]
    ref = p.ref_on(cutting_front)
    pull_ok(kegd, ref)
    assert len(cutting_front.range_requests) >= 1
    cut = {d for d, _ in cutting_front.range_requests}
    assert cut & set(p.layer_digests)
    for digest, rng in cutting_front.range_requests:
        assert rng == "bytes=%d-" % cutting_front.cuts[digest]
    exp = Expected(registry, p.repo, p.tag)
    check_pulled(kegd, ref, exp)
    assert ingests(kegd) == []


def test_corrupt_blob_fails_and_leaves_nothing(kegd, front_factory, pushed_images):
    p = pushed_images["busybox"]
    layer = p.layer_digests[0]
    bad = front_factory("corrupt", only=[layer])
    end = pull_failed(kegd, p.ref_on(bad), "invalid_argument")
    assert "digest mismatch" in end["error"]["message"]
    assert layer in end["error"]["message"]
    assert images(kegd) == {}
    assert layer not in content(kegd)
    assert content(kegd) == {}
    assert [i for i in ingests(kegd) if i["expected"] == layer] == []
    assert kegd.get("/v1/content/%s/blob" % layer).status_code == 404
    pull_ok(kegd, p.ref)
    assert images(kegd)[p.ref]["complete"] is True
    assert content(kegd)[layer]["size"] == p.layer_sizes[0]


def test_corrupt_front_then_good_registry(kegd, corrupt_front, pushed_images):
    """Every blob corrupted (config and layers): the pull fails on the first
    one it checks; nothing it kept poisons the next pull from a good host.
    Downloads of the same pull still running then got their bytes from a
    registry that lied: they are dropped, not kept for a resume (however far
    they had come; test_untrusted_registry_leaves_no_partial_download makes
    sure one had come far)."""
    p = pushed_images["multilayer"]
    end = pull_failed(kegd, p.ref_on(corrupt_front), "invalid_argument")
    assert "digest mismatch" in end["error"]["message"]
    assert images(kegd) == {} and content(kegd) == {}
    assert ingests(kegd) == []
    pull_ok(kegd, p.ref)
    assert images(kegd)[p.ref]["complete"] is True
    assert set(content(kegd)) >= set(p.layer_digests)


class PoisonFront(fronts.SlowFront):
    """A SlowFront whose blobs in `poison` have their 11th byte flipped:
    stalled after stall_after bytes, it leaves a partial download that looks
    fine but is not."""

    def __init__(self, backend, poison, **kw):
        self.poison = set(poison)
        super().__init__(backend, **kw)

    def fetch_blob(self, repo, digest):
        data = super().fetch_blob(repo, digest)
        if data is None or digest not in self.poison:
            return data
        return data[:10] + bytes([data[10] ^ 0xFF]) + data[11:]


def test_bad_partial_download_is_fetched_again_whole(kegd, registry, pushed_images):
    p = pushed_images["busybox"]
    layer, stall = p.layer_digests[0], 300000
    front = PoisonFront(registry.host, [layer], stall_after=stall, stall_timeout=60).start()
    try:
        op_id = start_pull(kegd, {"ref": p.ref_on(front)})
        wait_for(lambda: [i for i in ingests(kegd) if i["expected"] == layer and
                          i["offset"] == stall], "the partial layer")
        assert kegd.delete("/v1/operations/" + op_id).json()["state"] == "cancelled"
    finally:
        front.stop()
    # the good registry is asked for the rest; the digest then fails, and
    # the kept bytes are what is wrong: the layer is fetched once more, whole
    pull_ok(kegd, p.ref)
    check_pulled(kegd, p.ref, Expected(registry, p.repo, p.tag))
    assert ingests(kegd) == []


class GateFront(fronts.SlowFront):
    """A SlowFront (its `only` blobs stall after stall_after bytes) whose
    `held` blob waits until `gate` is set, then is answered "corrupt" (its
    last byte flipped) or "missing" (404 BLOB_UNKNOWN)."""

    def __init__(self, backend, held, answer, **kw):
        self.held, self.answer = held, answer
        self.gate = threading.Event()
        super().__init__(backend, **kw)

    def blob_get(self, h, repo, digest):
        if digest != self.held:
            return super().blob_get(h, repo, digest)
        self.gate.wait(self.stall_timeout)
        if self.answer == "missing":
            fronts.send_json_error(h, 404, "BLOB_UNKNOWN", "blob unknown to registry")
            return True
        data = self.fetch_blob(repo, digest)
        self.serve_blob_bytes(h, digest, data[:-1] + bytes([data[-1] ^ 0xFF]))
        return True

    def stop(self):
        self.gate.set()
        super().stop()


def partial(kegd, digest, offset):
    return lambda: [i for i in ingests(kegd) if i["expected"] == digest and
                    i["offset"] == offset]


def test_untrusted_registry_leaves_no_partial_download(kegd, front_factory, registry,
                                                       pushed_images):
    """The config comes corrupted while a layer of the same pull is part
    way: the pull fails, and the layer's bytes (from the registry that just
    lied) go with it. The next pull fetches the layer whole."""
    p = pushed_images["multilayer"]
    layer, stall = p.layer_digests[0], 300000
    assert p.layer_sizes[0] > stall
    bad = GateFront(registry.host, p.config_digest, "corrupt", stall_after=stall,
                    stall_timeout=60, only=[layer]).start()
    try:
        op_id = start_pull(kegd, {"ref": p.ref_on(bad)})
        wait_for(partial(kegd, layer, stall), "the partial layer")
        bad.gate.set()
        end = wait_op(kegd, op_id)
        assert end["state"] == "failed" and end["error"]["code"] == "invalid_argument", end
        assert "digest mismatch" in end["error"]["message"]
        assert p.config_digest in end["error"]["message"]
        assert ingests(kegd) == []
    finally:
        bad.stop()
    assert images(kegd) == {} and content(kegd) == {}
    good = front_factory("plain")
    pull_ok(kegd, p.ref_on(good))
    assert good.range_requests == []
    assert good.blob_gets[layer] == 1
    check_pulled(kegd, p.ref_on(good), Expected(registry, p.repo, p.tag))
    assert ingests(kegd) == []


def test_untrusted_registry_does_not_fail_a_pull_sharing_its_downloads(
        kegd, front_factory, registry, pushed_images):
    """Two pulls of one image, from a registry that lies and from a good
    one, share the config's and a layer's download, both fetched from the
    first. The config comes corrupted: the first pull fails; the second has
    the config fetched from its own registry, and the layer too, from the
    start (what the liar sent of it is not kept)."""
    p = pushed_images["multilayer"]
    layer, stall = p.layer_digests[0], 300000
    bad = GateFront(registry.host, p.config_digest, "corrupt", stall_after=stall,
                    stall_timeout=60, only=[layer]).start()
    good = front_factory("plain")
    try:
        a = start_pull(kegd, {"ref": p.ref_on(bad)}, ns="a")
        wait_for(partial(kegd, layer, stall), "the partial layer")
        b = start_pull(kegd, {"ref": p.ref_on(good)}, ns="b")

        def joined():
            blobs = {x["digest"]: x for x in get_op(kegd, b, "b")["progress"]["blobs"]}
            return all(blobs.get(d, {}).get("state") == "downloading"
                       for d in (p.config_digest, layer))
        wait_for(joined, "the second pull waiting on the shared downloads")
        assert good.blob_gets[p.config_digest] == 0 and good.blob_gets[layer] == 0
        bad.gate.set()
        end = wait_op(kegd, a, "a")
        assert end["state"] == "failed" and end["error"]["code"] == "invalid_argument", end
        assert "digest mismatch" in end["error"]["message"]
        end = wait_op(kegd, b, "b")
        assert end["state"] == "done", end
    finally:
        bad.stop()
    assert good.blob_gets[p.config_digest] == 1 and good.blob_gets[layer] == 1
    assert good.range_requests == []
    check_pulled(kegd, p.ref_on(good), Expected(registry, p.repo, p.tag), "b")
    assert images(kegd, "a") == {}
    assert ingests(kegd) == []


@pytest.mark.parametrize("end", ["cancelled", "not_found"])
def test_partial_download_stays_unless_the_registry_lied(kegd, front_factory, registry,
                                                         pushed_images, end):
    """A pull cancelled by the user (DELETE of its operation), or failed for
    a reason that is no lie (a blob the registry does not have), keeps what
    its downloads got: the next pull, from another registry too, asks only
    for the rest."""
    p = pushed_images["multilayer"]
    layer, stall = p.layer_digests[0], 300000
    front = GateFront(registry.host, p.layer_digests[2], "missing", stall_after=stall,
                      stall_timeout=60, only=[layer]).start()
    try:
        op_id = start_pull(kegd, {"ref": p.ref_on(front)})
        wait_for(partial(kegd, layer, stall), "the partial layer")
        if end == "cancelled":
            assert kegd.delete("/v1/operations/" + op_id).json()["state"] == "cancelled"
        else:
            front.gate.set()
        op = wait_op(kegd, op_id)
        assert op["state"] == ("cancelled" if end == "cancelled" else "failed"), op
        assert op["error"]["code"] == end, op
        assert [i["offset"] for i in ingests(kegd) if i["expected"] == layer] == [stall]
    finally:
        front.stop()
    good = front_factory("plain")
    pull_ok(kegd, p.ref_on(good))
    assert good.range_requests == [(layer, "bytes=%d-" % stall)]
    check_pulled(kegd, p.ref_on(good), Expected(registry, p.repo, p.tag))
    assert ingests(kegd) == []


def write_leftover_ingest(kegd, digest, data):
    """A partial download as kegd leaves one (content/ingest/<sha256 of the
    ref>/{data,ref,total,expected}), made before kegd starts."""
    ref = "download-" + digest
    d = os.path.join(kegd.root, "content", "ingest", hashlib.sha256(ref.encode()).hexdigest())
    os.makedirs(d, mode=0o700)
    for name, value in (("data", data), ("ref", ref.encode()), ("expected", digest.encode()),
                        ("total", str(len(data)).encode())):
        with open(os.path.join(d, name), "wb") as f:
            f.write(value)


@pytest.mark.parametrize("keep", ["all", "half"])
def test_leftover_ingest_is_resumed(kegd, front_factory, registry, pushed_images, keep):
    """A restart finds bytes of a download that was cut (or that had every
    byte but was not yet committed): the pull asks only for the rest."""
    p = pushed_images["busybox"]
    layer, size = p.layer_digests[0], p.layer_sizes[0]
    data = registry.get_blob(p.repo, layer)
    kept = size if keep == "all" else size // 2
    kegd.stop()
    write_leftover_ingest(kegd, layer, data[:kept])
    kegd.start()
    assert [i["offset"] for i in ingests(kegd)] == [kept]
    front = front_factory("plain")
    pull_ok(kegd, p.ref_on(front))
    if keep == "all":
        assert front.blob_gets[layer] == 0
    else:
        assert front.range_requests == [(layer, "bytes=%d-" % kept)]
    check_pulled(kegd, p.ref_on(front), Expected(registry, p.repo, p.tag))
    assert ingests(kegd) == []


def test_redirect_does_not_leak_authorization(kegd, redirect_front, pushed_images, registry):
    p = pushed_images["public_busybox"]
    ref = p.ref_on(redirect_front)
    pull_ok(kegd, ref)
    assert redirect_front.redirects >= 2          # config and layer
    assert redirect_front.blob_host.requests
    assert redirect_front.authorization_leaks == []
    check_pulled(kegd, ref, Expected(registry, p.repo, p.tag))


# --- errors --------------------------------------------------------------------

def test_unknown_repository_and_tag(kegd, registry, pushed_images):
    end = pull_failed(kegd, registry.ref("no/such-repo:latest"), "not_found")
    msg = end["error"]["message"]
    assert msg.startswith(registry.ref("no/such-repo:latest") + ": not found")
    assert "HTTP 404" in msg          # and the registry's own code and message
    end = pull_failed(kegd, registry.ref("busybox:no-such-tag"), "not_found")
    msg = end["error"]["message"]
    assert msg.startswith(registry.ref("busybox:no-such-tag") + ": not found")
    assert "MANIFEST_UNKNOWN" in msg
    missing = "sha256:" + "0" * 64
    pull_failed(kegd, registry.ref("busybox@" + missing), "not_found")
    assert images(kegd) == {} and content(kegd) == {}


@pytest.mark.parametrize("body", [
    {"ref": "UPPER/Case:latest"},
    {"ref": ""},
    {"ref": "busybox:bad tag"},
    {"ref": "busybox@sha256:abc"},
    {"ref": 42},
    {},
    {"ref": "busybox", "extra": 1},
    {"ref": "busybox", "platform": "linux/"},
    {"ref": "busybox", "platform": "linux amd64"},
    {"ref": "busybox", "platform": "linux/amd64/v1/x"},
    {"ref": "busybox", "platform": 7},
    {"ref": "busybox", "all_platforms": "yes"},
    {"ref": "busybox", "auth": "user:pass"},
    {"ref": "busybox", "auth": {"username": "u"}},
    {"ref": "busybox", "auth": {"username": "u", "password": "p", "x": 1}},
    {"ref": "busybox", "auth": {"username": "", "password": "p"}},
    {"ref": "busybox", "auth": {"username": "u", "password": 1}},
])
def test_bad_requests_are_400_at_once(kegd, body):
    before = operation_ids(kegd)
    r = kegd.post("/v1/images/pull", body, headers=NDJSON)
    expect_error(r, 400, "invalid_argument")
    r = kegd.post("/v1/images/pull", body)
    expect_error(r, 400, "invalid_argument")
    assert operation_ids(kegd) == before


def test_bad_json_and_query(kegd):
    expect_error(kegd.request("POST", "/v1/images/pull", data=b"{not json"), 400,
                 "invalid_json")
    expect_error(kegd.request("POST", "/v1/images/pull", data=b"[]"), 400, "invalid_json")
    expect_error(kegd.post("/v1/images/pull?bogus=1", {"ref": "busybox"}), 400,
                 "invalid_argument")
    expect_error(kegd.post("/v1/images/pull?namespace=-bad", {"ref": "busybox"}), 400,
                 "invalid_argument")
    assert operation_ids(kegd) == set()


# --- sharing, hang-ups, cancel, crashes --------------------------------------------

def test_concurrent_pulls_share_downloads(kegd, front_factory, pushed_images, registry):
    p = pushed_images["multilayer"]
    front = front_factory("slow", delay=0.3, rate=4 << 20)
    ref = p.ref_on(front)
    streams = []
    for ns in ("one", "two"):
        r = kegd.post("/v1/images/pull" + q(ns), {"ref": ref}, headers=NDJSON, stream=True,
                      timeout=TIMEOUT)
        assert r.status_code == 200
        streams.append(r)
    ends = []
    for r in streams:
        lines = [json.loads(l) for l in r.iter_lines() if l]
        r.close()
        ends.append(lines[-1])
    assert [e["state"] for e in ends] == ["done", "done"], ends
    blobs = [p.config_digest] + p.layer_digests
    assert {d: front.blob_gets[d] for d in blobs} == {d: 1 for d in blobs}
    exp = Expected(registry, p.repo, p.tag)
    for ns in ("one", "two"):
        check_pulled(kegd, ref, exp, ns)


def test_hanging_up_does_not_cancel(kegd, slow_front, pushed_images):
    p = pushed_images["busybox"]
    ref = p.ref_on(slow_front)
    s = kegd.connect()
    body = json.dumps({"ref": ref}).encode()
    s.sendall(b"POST /v1/images/pull HTTP/1.1\r\nHost: keg\r\nAccept: application/x-ndjson\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              % (len(body), body))
    data = b""
    while not re.search(rb'"id":"[0-9a-f]{32}"', data):
        chunk = s.recv(65536)
        assert chunk, "stream closed before the first line"
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.1 200")
    op_id = re.search(rb'"id":"([0-9a-f]{32})"', data).group(1).decode()
    assert get_op(kegd, op_id)["state"] == "running"
    # another watcher can follow it to the end
    r = kegd.get("/v1/operations/" + op_id, headers=NDJSON, stream=True, timeout=TIMEOUT)
    assert r.status_code == 200
    lines = [json.loads(l) for l in r.iter_lines() if l]
    assert lines[-1]["state"] == "done", lines[-1]
    assert all(l["state"] == "running" for l in lines[:-1])
    end = wait_op(kegd, op_id)
    assert end["state"] == "done", end
    assert images(kegd)[ref]["complete"] is True


def test_cancel_then_resume(kegd, front_factory, pushed_images, registry):
    p = pushed_images["busybox"]
    layer, size = p.layer_digests[0], p.layer_sizes[0]
    stall = 300000
    front = front_factory("slow", stall_after=stall, stall_timeout=60)
    ref = p.ref_on(front)
    op_id = start_pull(kegd, {"ref": ref})
    # wait until the stalled layer has its first bytes on disk
    wait_for(lambda: [i for i in ingests(kegd) if i["expected"] == layer and
                      i["offset"] == stall], "the partial layer")
    r = kegd.delete("/v1/operations/" + op_id)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled"
    op = get_op(kegd, op_id)
    assert op["state"] == "cancelled"
    assert op["error"]["code"] == "cancelled"
    expect_error(kegd.delete("/v1/operations/" + op_id), 409, "failed_precondition")
    front.release()
    assert images(kegd) == {}
    assert content(kegd) == {}
    # the bytes stay for the next pull, which asks only for the rest
    assert [i["offset"] for i in ingests(kegd) if i["expected"] == layer] == [stall]
    front.stall_after = None
    front.reset()
    pull_ok(kegd, ref)
    assert (layer, "bytes=%d-" % stall) in front.range_requests
    check_pulled(kegd, ref, Expected(registry, p.repo, p.tag))
    assert ingests(kegd) == []
    assert size > stall


def test_unknown_operation_is_404(kegd):
    expect_error(kegd.delete("/v1/operations/" + "0" * 32), 404, "not_found")
    expect_error(kegd.get("/v1/operations/nope"), 404, "not_found")


def test_kill9_mid_pull_then_pull_again(kegd, front_factory, pushed_images, registry):
    p = pushed_images["multilayer"]
    front = front_factory("slow", delay=0.2, rate=256 << 10)
    ref = p.ref_on(front)
    op_id = start_pull(kegd, {"ref": ref})
    wait_for(lambda: any(i["offset"] > 0 for i in ingests(kegd)), "a partial download")
    assert get_op(kegd, op_id)["state"] == "running"
    kegd.kill9()
    kegd.start()
    db_integrity(kegd)
    assert images(kegd) == {}
    assert content(kegd) == {}
    expect_error(kegd.get("/v1/operations/" + op_id), 404, "not_found")
    front.rate = None
    front.delay = 0
    pull_ok(kegd, ref)
    check_pulled(kegd, ref, Expected(registry, p.repo, p.tag))
    db_integrity(kegd)


def test_sigterm_mid_pull(kegd, front_factory, pushed_images, registry):
    """A stop during a pull cancels it cleanly (the sanitizer build checks
    nothing leaks); after the restart the pull resumes and completes."""
    p = pushed_images["busybox"]
    front = front_factory("slow", stall_after=200000, stall_timeout=60)
    ref = p.ref_on(front)
    r = kegd.post("/v1/images/pull", {"ref": ref}, headers=NDJSON, stream=True, timeout=TIMEOUT)
    lines = r.iter_lines()
    assert json.loads(next(lines))["state"] == "running"
    wait_for(lambda: [i for i in ingests(kegd) if i["offset"] == 200000], "the partial layer")
    assert kegd.stop() == 0
    r.close()
    front.release()
    kegd.start()
    db_integrity(kegd)
    assert images(kegd) == {}
    front.stall_after = None
    pull_ok(kegd, ref)
    assert (p.layer_digests[0], "bytes=200000-") in front.range_requests
    check_pulled(kegd, ref, Expected(registry, p.repo, p.tag))


# --- events ----------------------------------------------------------------------

def test_pull_events(kegd, pushed_images):
    p = pushed_images["busybox"]
    start = latest_event_id(kegd)
    end = pull_ok(kegd, p.ref, ns="evns")
    evs = events_since(kegd, start)
    assert all(e["namespace"] == "evns" for e in evs)
    ops = [e for e in evs if e["topic"].startswith("/operations/")]
    assert ops[0]["topic"] == "/operations/create"
    assert ops[-1]["topic"] == "/operations/finish"
    assert ops[-1]["event"]["state"] == "done" and ops[-1]["event"]["id"] == end["id"]
    assert all(o["event"]["id"] == end["id"] for o in ops)
    assert topics(evs, "/namespaces/") == ["/namespaces/create"]
    created = sorted(e["event"]["digest"] for e in evs if e["topic"] == "/content/create")
    assert created == sorted([p.digest, p.config_digest] + p.layer_digests)
    im = [e for e in evs if e["topic"].startswith("/images/")]
    assert [e["topic"] for e in im] == ["/images/create"]
    assert im[0]["event"]["name"] == p.ref
    # the same again: an update, no new content, no new namespace
    start = latest_event_id(kegd)
    pull_ok(kegd, p.ref, ns="evns")
    evs = events_since(kegd, start)
    assert topics(evs, "/images/") == ["/images/update"]
    assert topics(evs, "/content/") == [] and topics(evs, "/namespaces/") == []
    assert topics(evs, "/operations/")[0] == "/operations/create"
    assert topics(evs, "/operations/")[-1] == "/operations/finish"
    # a failed pull finishes its operation with the error
    start = latest_event_id(kegd)
    pull_failed(kegd, p.ref.rsplit(":", 1)[0] + ":nope", "not_found", ns="evns")
    fin = [e for e in events_since(kegd, start) if e["topic"] == "/operations/finish"]
    assert fin[0]["event"]["state"] == "failed"
    assert fin[0]["event"]["error"]["code"] == "not_found"


# --- tag, labels, delete -----------------------------------------------------------

def test_tag_label_delete(kegd, pushed_images):
    p = pushed_images["busybox"]
    pull_ok(kegd, p.ref)
    start = latest_event_id(kegd)
    r = kegd.post("/v1/images/tag", {"source": p.ref, "target": "example.com/copy:v1"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "example.com/copy:v1"
    assert r.json()["target"]["digest"] == p.digest
    expect_error(kegd.post("/v1/images/tag", {"source": p.ref, "target": "example.com/copy:v1"}),
                 409, "already_exists")
    assert kegd.post("/v1/images/tag", {"source": p.ref, "target": "example.com/copy:v1",
                                        "force": True}).status_code == 201
    expect_error(kegd.post("/v1/images/tag", {"source": "example.com/none:x",
                                              "target": "example.com/y:1"}), 404, "not_found")
    expect_error(kegd.post("/v1/images/tag", {"source": p.ref, "target": "Bad Ref"}), 400,
                 "invalid_argument")
    expect_error(kegd.post("/v1/images/tag", {"source": p.ref, "target": "a/b:c", "x": 1}), 400,
                 "invalid_argument")
    # short names work in the URL and resolve to the same image
    assert kegd.get("/v1/images/example.com/copy:v1").json()["complete"] is True
    # labels
    r = kegd.patch("/v1/images/example.com/copy:v1", {"labels": {"a": "1", "b": "2"}})
    assert r.status_code == 200, r.text
    assert r.json()["labels"] == {"a": "1", "b": "2"}
    r = kegd.patch("/v1/images/example.com/copy:v1", {"labels": {"a": None}})
    assert r.json()["labels"] == {"b": "2"}
    expect_error(kegd.patch("/v1/images/example.com/copy:v1", {"labels": {"a": 1}}), 400,
                 "invalid_argument")
    expect_error(kegd.patch("/v1/images/example.com/none:v1", {"labels": {"a": "1"}}), 404,
                 "not_found")
    # delete
    r = kegd.delete("/v1/images/example.com/copy:v1")
    assert r.status_code == 204
    expect_error(kegd.get("/v1/images/example.com/copy:v1"), 404, "not_found")
    expect_error(kegd.delete("/v1/images/example.com/copy:v1"), 404, "not_found")
    evs = events_since(kegd, start)
    assert topics(evs, "/images/") == ["/images/create", "/images/update", "/images/update",
                                       "/images/update", "/images/delete"]
    assert evs[-1]["event"] == {"name": "example.com/copy:v1"}
    # the original is untouched, its content too
    assert images(kegd)[p.ref]["complete"] is True


def test_namespace_delete_refused_while_in_use(kegd, pushed_images):
    p = pushed_images["busybox"]
    pull_ok(kegd, p.ref, ns="busy")
    expect_error(kegd.delete("/v1/namespaces/busy"), 409, "failed_precondition")
    assert kegd.delete("/v1/images/%s?namespace=busy" % p.ref).status_code == 204
    # the image is gone but its content is still there
    expect_error(kegd.delete("/v1/namespaces/busy"), 409, "failed_precondition")
    for digest in content(kegd, "busy"):
        assert kegd.delete("/v1/content/%s?namespace=busy" % digest).status_code == 204
    # the pull unpacked it: its snapshot is still there, as in containerd
    expect_error(kegd.delete("/v1/namespaces/busy"), 409, "failed_precondition")
    snaps = kegd.get("/v1/snapshots?namespace=busy").json()["snapshots"]
    assert [s["kind"] for s in snaps] == ["committed"]
    for s in snaps:
        r = kegd.delete("/v1/snapshots/%s?namespace=busy" % s["key"])
        assert r.status_code == 204, r.text
    assert kegd.delete("/v1/namespaces/busy").status_code == 204


def test_content_deleted_during_a_pull(kegd, front_factory, pushed_images):
    """Namespace a has busybox; b pulls multilayer (whose first layer is
    busybox's, so b finds its bytes already here) through a slow front.
    While b downloads the rest, a deletes that layer: the last recorded
    user, so the file goes. b must not record a row without bytes."""
    bb, ml = pushed_images["busybox"], pushed_images["multilayer"]
    shared = bb.layer_digests[0]
    assert ml.layer_digests[0] == shared
    pull_ok(kegd, bb.ref, ns="a")
    front = front_factory("slow", delay=0.5)
    op_id = start_pull(kegd, {"ref": ml.ref_on(front)}, ns="b")
    wait_for(lambda: front.blob_gets, "b's first blob request")
    assert kegd.delete("/v1/content/%s?namespace=a" % shared).status_code == 204
    end = wait_op(kegd, op_id, ns="b")
    assert end["state"] == "done", end
    # the layer was fetched again (b found it here at first, so only now)
    assert front.blob_gets[shared] == 1
    r = kegd.get("/v1/content/%s/blob?namespace=b" % shared)
    assert r.status_code == 200, r.text
    assert images(kegd, "b")[ml.ref_on(front)]["complete"] is True
    db_integrity(kegd)
