"""Containers: containerd's container service (metadata) on real images.

Every container here is made from an image pulled with unpack into the kegd
under test, from the session's docker-registry. What is checked against
things kegd does not say about itself:

* the spec carries the image config (Entrypoint + Cmd, Env, WorkingDir) and
  a User resolved through the image's own /etc/passwd and /etc/group;
* the snapshot exists under the key (active, or a view when readonly) and is
  gone after delete; image labels in reserved prefixes are not copied;
* refusals leave nothing behind: no snapshot, no row — hostile ids, bad
  JSON, bad options, an image whose /etc/passwd is a FIFO or a symlink to a
  host file (a canary that must never be read), a uid past 2^32;
* delete is refused while a task row exists; namespace delete while a
  container exists; /containers/* events with containerd's payloads;
  kill -9 right after create leaves a consistent store;
* the keg CLI: containers create, ls, info, label, rm.
"""
import json
import os
import sqlite3
import time
import uuid

import pytest

import imagebuild as ib
from test_events import SSE
from test_images import pull_ok

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts need root")

APP_PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
              "app:x:1234:2345:app:/home/app:/bin/sh\n")
APP_GROUP = "root:x:0:\napp:x:2345:\nextra:x:3456:app\n"
APP_LABELS = {"containerd.io/gc.ref.content": "sha256:0", "keg.io/evil": "x",
              "org.example.kept": "image", "org.example.override": "image"}


# --- images ------------------------------------------------------------------

def push(registry, image, repo):
    registry.push_image(image, repo, "latest")
    return registry.ref(repo + ":latest")


@pytest.fixture(scope="module")
def images(registry, image_builder, pushed_images):
    """name -> reference in the registry."""
    b = image_builder
    app = b.files_image("ctr-app", [{
        "etc/passwd": APP_PASSWD, "etc/group": APP_GROUP, "work": None}],
        config_User="app", config_Entrypoint=["/bin/echo"], config_Cmd=["hello", "world"],
        config_Env=["PATH=/bin", "APP_MODE=test"], config_WorkingDir="/work",
        config_Labels=APP_LABELS)
    fifo = b.files_image("ctr-fifo", [{"etc/passwd": ib.tfifo("etc/passwd")}],
                         config_User="app")
    canary = b.files_image("ctr-symlink", [{
        "etc/passwd": ib.tsymlink("etc/passwd", "/tmp/keg-canary-passwd"),
        "etc/group": ib.tsymlink("etc/group", "../../../../../tmp/keg-canary-group")}],
        config_User="canary-%s" % "c0ffee")
    bigid = b.files_image("ctr-bigid", [{"etc/hostname": "x\n"}], config_User="4294967296")
    return {
        "busybox": pushed_images["busybox"].ref,
        "app": push(registry, app, "ctr-app"),
        "fifo": push(registry, fifo, "ctr-fifo"),
        "symlink": push(registry, canary, "ctr-symlink"),
        "bigid": push(registry, bigid, "ctr-bigid"),
    }


def pulled(kegd, ref, ns=None, **opts):
    pull_ok(kegd, ref, ns, **opts)
    return ref


# --- helpers -----------------------------------------------------------------

def q(ns):
    return "?namespace=" + ns if ns else ""


def create(kegd, body, ns=None, status=201):
    r = kegd.post("/v1/containers" + q(ns), body)
    assert r.status_code == status, r.text
    return r.json()


def refused(kegd, body, status, code, ns=None):
    r = kegd.post("/v1/containers" + q(ns), body, timeout=20)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]["message"]


def containers(kegd, ns=None, query=""):
    r = kegd.get("/v1/containers" + (q(ns) or "?") + query)
    assert r.status_code == 200, r.text
    return {c["id"]: c for c in r.json()["containers"]}


def snapshots(kegd, ns=None):
    r = kegd.get("/v1/snapshots" + q(ns))
    assert r.status_code == 200, r.text
    return {s["key"]: s for s in r.json()["snapshots"]}


def made_snapshots(kegd, ns=None):
    """Snapshots other than the image's committed layers."""
    return {k: s for k, s in snapshots(kegd, ns).items() if s["kind"] != "committed"}


def leaves_nothing(kegd, ns=None):
    assert containers(kegd, ns) == {}
    assert made_snapshots(kegd, ns) == {}
    assert kegd.get("/v1/health").status_code == 200


def no_rootfs_mounts(kegd):
    tmp = os.path.join(kegd.state, "tmp")
    with open("/proc/self/mountinfo") as f:
        assert not [l for l in f if tmp in l.split()[4]]
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []


# --- create ------------------------------------------------------------------

def test_create_applies_the_image_config_and_makes_the_snapshot(kegd, images):
    ref = pulled(kegd, images["app"])
    c = create(kegd, {"id": "web", "image": ref,
                      "labels": {"org.example.override": "request", "mine": "1"}})
    assert c["id"] == "web" and c["image"] == ref
    assert c["snapshot_key"] == "web" and c["snapshotter"] == "overlayfs"
    assert c["runtime"] == {"name": "io.containerd.runc.v2",
                            "options": {"binary_name": "runc"}}
    assert c["labels"] == {"org.example.kept": "image", "org.example.override": "request",
                           "mine": "1"}
    assert c["extensions"] == {}
    proc = c["spec"]["process"]
    assert proc["args"] == ["/bin/echo", "hello", "world"]
    assert "APP_MODE=test" in proc["env"] and "PATH=/bin" in proc["env"]
    assert proc["cwd"] == "/work"
    assert proc["user"]["uid"] == 1234 and proc["user"]["gid"] == 2345
    assert 3456 in proc["user"].get("additionalGids", [])
    assert c["spec"]["root"]["path"] == "rootfs"
    snap = snapshots(kegd)["web"]
    assert snap["kind"] == "active"
    assert "keg.io/snapshot.transient" not in snap["labels"]
    assert kegd.get("/v1/containers/web").json() == c
    no_rootfs_mounts(kegd)


def test_readonly_makes_a_view_under_the_key_given(kegd, images):
    ref = pulled(kegd, images["busybox"])
    c = create(kegd, {"id": "ro", "image": ref, "readonly": True, "snapshot_key": "ro-key",
                      "options": {"args": ["/bin/true"], "env": ["A=b"]}})
    assert c["snapshot_key"] == "ro-key"
    assert snapshots(kegd)["ro-key"]["kind"] == "view"
    assert c["spec"]["process"]["args"] == ["/bin/true"]
    assert "A=b" in c["spec"]["process"]["env"]
    # busybox's config label is copied; a plain name of runc is kept.
    assert c["labels"]["org.keg.test.image"] == "busybox"


def test_options_runtime_and_extensions(kegd, images):
    ref = pulled(kegd, images["busybox"])
    c = create(kegd, {"id": "opt", "image": ref,
                      "runtime": {"name": "io.containerd.runc.v2",
                                  "options": {"binary_name": "/usr/bin/crun"}},
                      "options": {"user": "65534:65534", "cwd": "/tmp", "tty": True},
                      "extensions": {"x": {"type_url": "t", "value": "dg=="}}})
    assert c["runtime"]["options"]["binary_name"] == "/usr/bin/crun"
    assert c["spec"]["process"]["user"]["uid"] == 65534
    assert c["spec"]["process"]["cwd"] == "/tmp"
    assert c["spec"]["process"]["terminal"] is True
    assert c["extensions"] == {"x": {"type_url": "t", "value": "dg=="}}


def test_list_get_and_label_filters(kegd, images):
    ref = pulled(kegd, images["busybox"])
    create(kegd, {"id": "a", "image": ref, "labels": {"tier": "web", "env": "prod"}})
    create(kegd, {"id": "b", "image": ref, "labels": {"tier": "db"}})
    assert list(containers(kegd)) == ["a", "b"]
    assert list(containers(kegd, query="&label=tier=web")) == ["a"]
    assert list(containers(kegd, query="&label=tier")) == ["a", "b"]
    assert list(containers(kegd, query="&label=tier&label=env=prod")) == ["a"]
    assert containers(kegd, query="&label=nope") == {}
    assert kegd.get("/v1/containers?label==x").status_code == 400
    assert kegd.get("/v1/containers?bogus=1").status_code == 400
    r = kegd.get("/v1/containers/zzz")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert containers(kegd, "other") == {}


def test_update_and_labels(kegd, images):
    ref = pulled(kegd, images["busybox"])
    c = create(kegd, {"id": "u", "image": ref, "labels": {"keep": "1", "drop": "2"}})
    s = SSE(kegd, "?topic=/containers/update")
    spec = dict(c["spec"])
    spec["process"] = dict(spec["process"], args=["/bin/sh", "-c", "exit 3"])
    r = kegd.patch("/v1/containers/u", {
        "spec": spec, "labels": {"drop": None, "new": "3"},
        "runtime": {"options": {"binary_name": "crun"}}, "extensions": {"e": 1},
        "image": "docker.io/library/other:1"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["spec"]["process"]["args"] == ["/bin/sh", "-c", "exit 3"]
    assert u["labels"] == {"keep": "1", "new": "3", "org.keg.test.image": "busybox",
                           "org.keg.test.layers": "1",
                           "org.opencontainers.image.title": "keg-test-busybox"}
    assert u["runtime"] == {"name": "io.containerd.runc.v2", "options": {"binary_name": "crun"}}
    assert u["extensions"] == {"e": 1} and u["image"] == "docker.io/library/other:1"
    assert u["snapshot_key"] == "u" and u["created_at"] == c["created_at"]
    ev = s.next_event()["data"]["event"]
    assert ev == {"id": "u", "image": "docker.io/library/other:1", "labels": u["labels"],
                  "snapshot_key": "u"}
    r = kegd.patch("/v1/containers/u/labels", {"labels": {"keep": None}})
    assert r.status_code == 200 and "keep" not in r.json()["labels"]
    ev = s.next_event()["data"]["event"]
    assert ev["id"] == "u" and "keep" not in ev["labels"] and ev["snapshot_key"] == "u"
    s.close()
    before = kegd.get("/v1/containers/u").json()
    for body, code in (
            ({"spec": {"root": {"path": "/"}, "process": {"args": ["x"]}}}, "invalid_argument"),
            ({"spec": "x"}, "invalid_argument"),
            ({"runtime": {"name": "io.containerd.kata.v2"}}, "invalid_argument"),
            ({"runtime": {"options": {"binary_name": "../runc"}}}, "invalid_argument"),
            ({"labels": {"a": 1}}, "invalid_argument"),
            ({"image": "Bad Ref"}, "invalid_argument"),
            ({"snapshot_key": "other"}, "invalid_argument"),
            ({"id": "v"}, "invalid_argument")):
        r = kegd.patch("/v1/containers/u", body)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, (body, r.text)
    assert kegd.get("/v1/containers/u").json() == before
    r = kegd.patch("/v1/containers/missing", {"labels": {"a": "b"}})
    assert r.status_code == 404
    r = kegd.patch("/v1/containers/missing/labels", {"labels": {"a": "b"}})
    assert r.status_code == 404


# --- delete ------------------------------------------------------------------

def test_delete_removes_the_snapshot(kegd, images):
    ref = pulled(kegd, images["busybox"])
    create(kegd, {"id": "d", "image": ref})
    create(kegd, {"id": "gone", "image": ref})
    assert kegd.delete("/v1/containers/d").status_code == 204
    assert "d" not in snapshots(kegd) and "d" not in containers(kegd)
    # A snapshot removed behind the container's back does not block delete.
    assert kegd.delete("/v1/snapshots/gone").status_code == 204
    assert kegd.delete("/v1/containers/gone").status_code == 204
    r = kegd.delete("/v1/containers/d")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    leaves_nothing(kegd)


def test_delete_is_refused_while_a_task_row_exists(kegd, images):
    ref = pulled(kegd, images["busybox"])
    create(kegd, {"id": "busy", "image": ref})
    kegd.stop()
    db = sqlite3.connect(os.path.join(kegd.root, "metadata.db"))
    now = time.time_ns()
    db.execute("INSERT INTO tasks (namespace, container_id, exec_id, status, created_at, "
               "updated_at) VALUES ('default', 'busy', '', 'stopped', ?, ?)", (now, now))
    db.commit()
    db.close()
    kegd.start()
    r = kegd.delete("/v1/containers/busy")
    assert r.status_code == 409 and r.json()["error"]["code"] == "failed_precondition", r.text
    assert "busy" in containers(kegd) and "busy" in snapshots(kegd)
    kegd.stop()
    db = sqlite3.connect(os.path.join(kegd.root, "metadata.db"))
    db.execute("DELETE FROM tasks")
    db.commit()
    db.close()
    kegd.start()
    assert kegd.delete("/v1/containers/busy").status_code == 204


def test_namespace_delete_refused_while_a_container_exists(kegd, images):
    ref = pulled(kegd, images["busybox"], "team")
    create(kegd, {"id": "c1", "image": ref}, ns="team")
    # Everything else of the namespace goes: only the container holds it.
    assert kegd.delete("/v1/images/" + ref + "?namespace=team").status_code == 204
    assert kegd.delete("/v1/snapshots/c1?namespace=team").status_code == 204
    for key in sorted(snapshots(kegd, "team"), key=len, reverse=True):
        assert kegd.delete("/v1/snapshots/%s?namespace=team" % key).status_code == 204
    for blob in kegd.get("/v1/content?namespace=team").json()["content"]:
        r = kegd.delete("/v1/content/%s?namespace=team" % blob["digest"])
        assert r.status_code == 204, r.text
    r = kegd.delete("/v1/namespaces/team")
    assert r.status_code == 409 and r.json()["error"]["code"] == "failed_precondition"
    assert "containers" in r.json()["error"]["message"], r.text
    assert containers(kegd) == {}            # another namespace's view
    assert kegd.delete("/v1/containers/c1?namespace=team").status_code == 204
    assert kegd.delete("/v1/namespaces/team").status_code == 204


# --- refusals ----------------------------------------------------------------

def test_duplicate_id_changes_nothing(kegd, images):
    ref = pulled(kegd, images["busybox"])
    first = create(kegd, {"id": "dup", "image": ref, "labels": {"v": "1"}})
    snap = snapshots(kegd)["dup"]
    refused(kegd, {"id": "dup", "image": ref, "labels": {"v": "2"}, "snapshot_key": "k2"},
            409, "already_exists")
    assert kegd.get("/v1/containers/dup").json() == first
    assert snapshots(kegd)["dup"] == snap and "k2" not in snapshots(kegd)
    # A new id on a taken snapshot key.
    msg = refused(kegd, {"id": "dup2", "image": ref, "snapshot_key": "dup"}, 409,
                  "already_exists")
    assert "snapshot" in msg
    assert list(containers(kegd)) == ["dup"]


BAD_BODIES = [
    ({"id": "../etc", "image": "IMG"}, 400, "invalid_argument"),
    ({"id": "a/../b", "image": "IMG"}, 400, "invalid_argument"),
    ({"id": "x" * 4097, "image": "IMG"}, 400, "invalid_argument"),
    ({"id": "x" * 77, "image": "IMG"}, 400, "invalid_argument"),
    ({"id": "", "image": "IMG"}, 400, "invalid_argument"),
    ({"id": 5, "image": "IMG"}, 400, "invalid_argument"),
    ({"image": "IMG"}, 400, "invalid_argument"),
    ({"id": "ok"}, 400, "invalid_argument"),
    ({"id": "ok", "image": ["IMG"]}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "readonly": "yes"}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "labels": {"a": 1}}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "labels": []}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "options": []}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "options": {"bogus": 1}}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "options": {"args": "sh"}}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "options": {"memory_limit": "lots"}}, 400,
     "invalid_argument"),
    ({"id": "ok", "image": "IMG", "spec": "x"}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "extensions": [1]}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "snapshot_key": ""}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "snapshot_key": "k" * 4097}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "bogus": True}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "runtime": "runc"}, 400, "invalid_argument"),
    ({"id": "ok", "image": "IMG", "runtime": {"name": "io.containerd.kata.v2"}}, 400,
     "invalid_argument"),
    ({"id": "ok", "image": "IMG", "runtime": {"options": {"root": "/x"}}}, 400,
     "invalid_argument"),
    ({"id": "ok", "image": "IMG", "runtime": {"options": {"binary_name": "./runc"}}}, 400,
     "invalid_argument"),
    ({"id": "ok", "image": "IMG", "runtime": {"options": {"binary_name": "run\nc"}}}, 400,
     "invalid_argument"),
    # jansson refuses a NUL in a string already: the body is not JSON.
    ({"id": "ok", "image": "IMG", "runtime": {"options": {"binary_name": "run\u0000c"}}},
     400, "invalid_json"),
    ({"id": "ok", "image": "IMG", "runtime": {"options": {"binary_name": ""}}}, 400,
     "invalid_argument"),
    ({"id": "ok", "image": "IMG", "snapshotter": "nosuch"}, 400, "invalid_argument"),
    ({"id": "ok", "image": "Not A Ref"}, 400, "invalid_argument"),
    ({"id": "ok", "image": "127.0.0.1:1/never/pulled:1"}, 404, "not_found"),
]


def test_bad_requests_leave_nothing(kegd, images):
    ref = pulled(kegd, images["busybox"])
    for body, status, code in BAD_BODIES:
        body = {k: (ref if v == "IMG" else v) for k, v in body.items()}
        refused(kegd, body, status, code)
    for raw in (b"", b"{", b"[]", b'{"id": "a", "id": "b", "image": "x"}'):
        r = kegd.request("POST", "/v1/containers", data=raw)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json", raw
    for path in ("/v1/containers/..%2Fetc", "/v1/containers/" + "x" * 4097):
        for method in ("GET", "DELETE", "PATCH"):
            r = kegd.request(method, path, data=json.dumps({"labels": {}}))
            assert r.status_code in (400, 414), (method, path, r.text)
    leaves_nothing(kegd)


def test_image_not_unpacked_is_a_failed_precondition(kegd, images):
    ref = pulled(kegd, images["busybox"], unpack=False)
    msg = refused(kegd, {"id": "np", "image": ref}, 409, "failed_precondition")
    assert "not unpacked" in msg and "pull with unpack" in msg
    pull_ok(kegd, ref, snapshotter="native")
    refused(kegd, {"id": "np", "image": ref}, 409, "failed_precondition")
    c = create(kegd, {"id": "np", "image": ref, "snapshotter": "native"})
    assert c["snapshotter"] == "native"
    assert kegd.delete("/v1/containers/np").status_code == 204
    leaves_nothing(kegd)


def test_passwd_fifo_is_refused_promptly(kegd, images):
    ref = pulled(kegd, images["fifo"])
    start = time.monotonic()
    r = kegd.post("/v1/containers", {"id": "fifo", "image": ref}, timeout=15)
    assert time.monotonic() - start < 5
    assert r.status_code in (400, 409), r.text
    assert "passwd" in r.json()["error"]["message"]
    leaves_nothing(kegd)
    no_rootfs_mounts(kegd)


def test_passwd_symlink_never_reads_the_host_file(kegd, images):
    user = "canary-c0ffee"
    files = {"/tmp/keg-canary-passwd": "%s:x:4242:4242::/:/bin/sh\n" % user,
             "/tmp/keg-canary-group": "%s:x:4242:\n" % user}
    for path, text in files.items():
        with open(path, "w") as f:
            f.write(text)
    try:
        ref = pulled(kegd, images["symlink"])
        r = kegd.post("/v1/containers", {"id": "sym", "image": ref})
        assert r.status_code in (400, 409), r.text
        assert "4242" not in r.text
        leaves_nothing(kegd)
        # Numeric users need no passwd: the container is made, root never
        # implied by the failed lookup.
        c = create(kegd, {"id": "sym2", "image": ref, "options": {"user": "1000:1000"}})
        assert c["spec"]["process"]["user"]["uid"] == 1000
    finally:
        for path in files:
            os.unlink(path)
    no_rootfs_mounts(kegd)


def test_uid_past_2_32_is_an_error_not_root(kegd, images):
    ref = pulled(kegd, images["bigid"])
    msg = refused(kegd, {"id": "big", "image": ref}, 400, "invalid_argument")
    assert "4294967296" in msg
    refused(kegd, {"id": "big", "image": ref, "options": {"user": "4294967296:0"}},
            400, "invalid_argument")
    leaves_nothing(kegd)


# --- events, crash -----------------------------------------------------------

def test_events_have_containerds_payloads(kegd, images):
    ref = pulled(kegd, images["busybox"])
    s = SSE(kegd, "?topic=/containers/*")
    create(kegd, {"id": "ev", "image": ref})
    assert kegd.patch("/v1/containers/ev", {"labels": {"a": "b"}}).status_code == 200
    assert kegd.delete("/v1/containers/ev").status_code == 204
    evs = s.events(3)
    assert [e["event"] for e in evs] == ["/containers/create", "/containers/update",
                                         "/containers/delete"]
    assert evs[0]["data"]["event"] == {"id": "ev", "image": ref, "runtime": {
        "name": "io.containerd.runc.v2", "options": {"binary_name": "runc"}}}
    assert evs[1]["data"]["event"]["labels"]["a"] == "b"
    assert evs[2]["data"]["event"] == {"id": "ev"}
    assert all(e["data"]["namespace"] == "default" for e in evs)
    s.close()


def test_kill9_right_after_create_keeps_a_consistent_store(kegd, images):
    ref = pulled(kegd, images["busybox"])
    create(kegd, {"id": "k1", "image": ref})
    kegd.kill9()
    kegd.start()
    assert list(containers(kegd)) == ["k1"]
    snap = snapshots(kegd)["k1"]
    assert snap["kind"] == "active" and snap["labels"] == {}
    assert list(made_snapshots(kegd)) == ["k1"]
    assert kegd.delete("/v1/containers/k1").status_code == 204
    leaves_nothing(kegd)


# --- CLI ---------------------------------------------------------------------

def test_cli_create_ls_info_label_rm(kegd, images):
    ref = pulled(kegd, images["busybox"])
    r = kegd.keg("containers", "create", "--label", "team=a", "--env", "X=1", "--cwd", "/tmp",
                 "--user", "65534", "--mount", "type=bind,src=/tmp,dst=/host,options=rbind:ro",
                 "--memory-limit", "64m", "--tty", ref, "cli", "sh", "-c", "echo -n hi")
    assert r.returncode == 0, r.stderr
    c = kegd.get("/v1/containers/cli").json()
    proc = c["spec"]["process"]
    assert proc["args"] == ["sh", "-c", "echo -n hi"] and "X=1" in proc["env"]
    assert proc["cwd"] == "/tmp" and proc["user"]["uid"] == 65534 and proc["terminal"]
    assert c["labels"]["team"] == "a"
    assert c["spec"]["linux"]["resources"]["memory"]["limit"] == 64 << 20
    m = [m for m in c["spec"]["mounts"] if m["destination"] == "/host"][0]
    assert m["source"] == "/tmp" and "ro" in m["options"] and "rbind" in m["options"]
    r = kegd.keg("containers", "create", "--readonly", "--runtime", "crun", ref, "cli2")
    assert r.returncode == 0, r.stderr
    r = kegd.keg("containers", "ls")
    assert r.returncode == 0 and "cli2" in r.stdout and "io.containerd.runc.v2" in r.stdout
    assert kegd.keg("c", "ls", "-q").stdout.split() == ["cli", "cli2"]
    info = json.loads(kegd.keg("containers", "info", "cli2").stdout)
    assert info["runtime"]["options"]["binary_name"] == "crun"
    r = kegd.keg("containers", "label", "cli", "team=", "tier=web")
    assert r.returncode == 0, r.stderr
    assert kegd.keg("containers", "label", "cli").stdout.count("tier=web") == 1
    assert "team" not in kegd.get("/v1/containers/cli").json()["labels"]
    r = kegd.keg("containers", "create", ref, "cli")
    assert r.returncode == 1 and "already exists" in r.stderr
    r = kegd.keg("containers", "create", "--memory-limit", "lots", ref, "x")
    assert r.returncode == 2
    r = kegd.keg("containers", "create", ref)
    assert r.returncode == 2
    r = kegd.keg("containers", "rm", "cli", "nosuch", "cli2")
    assert r.returncode == 1 and r.stdout.split() == ["cli", "cli2"]
    leaves_nothing(kegd)
