/* containerd's default Linux spec (its populateDefaultUnixSpec plus the
 * default devices), so images behave here as under `ctr run`. */
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "oci/internal.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int
daemon_oom_score_adj(void)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "re");
	int score = 0;
	if (f != NULL) {
		if (fscanf(f, "%d", &score) != 1)
			score = 0;
		fclose(f);
	}
	return score;
}

static json_t *
default_process(void)
{
	static const char *const env[] = { DEFAULT_PATH, NULL };
	json_t *process = json_pack("{s:b, s:{s:i, s:i}, s:[], s:o, s:s,"
	    " s:[{s:s, s:i, s:i}], s:b}",
	    "terminal", 0,
	    "user", "uid", 0, "gid", 0,
	    "args",
	    "env", oci_str_array(env),
	    "cwd", "/",
	    "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
	    "noNewPrivileges", 1);
	/* A container inherits the OOM score of kegd and its shim, which the
	 * systemd unit lowers to -999 so that the runtime outlives a memory
	 * shortage; containers must not, so they get 0 then. Raising is always
	 * allowed; a score kegd has at 0 or above is left to be inherited
	 * (lowering it would need CAP_SYS_RESOURCE). */
	if (daemon_oom_score_adj() < 0)
		json_object_set_new(process, "oomScoreAdj", json_integer(0));
	return process;
}

static json_t *
mount_entry(const char *dest, const char *type, const char *source,
    const char *const *options)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest,
	    "type", type, "source", source, "options", oci_str_array(options));
}

static json_t *
default_mounts(void)
{
	static const char *const proc[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755",
		"size=65536k", NULL };
	static const char *const pts[] = { "nosuid", "noexec", "newinstance",
		"ptmxmode=0666", "mode=0620", "gid=5", NULL };
	static const char *const shm[] = { "nosuid", "noexec", "nodev",
		"mode=1777", "size=65536k", NULL };
	static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime",
		"ro", NULL };
	json_t *m = json_array();
	json_array_append_new(m, mount_entry("/proc", "proc", "proc", proc));
	json_array_append_new(m, mount_entry("/dev", "tmpfs", "tmpfs", dev));
	json_array_append_new(m, mount_entry("/dev/pts", "devpts", "devpts", pts));
	json_array_append_new(m, mount_entry("/dev/shm", "tmpfs", "shm", shm));
	json_array_append_new(m, mount_entry("/dev/mqueue", "mqueue", "mqueue", proc));
	json_array_append_new(m, mount_entry("/sys", "sysfs", "sysfs", sys));
	json_array_append_new(m, mount_entry("/run", "tmpfs", "tmpfs", dev));
	json_array_append_new(m, mount_entry("/sys/fs/cgroup", "cgroup", "cgroup", cg));
	return m;
}

static json_t *
default_namespaces(void)
{
	static const char *const types[] = { "pid", "ipc", "uts", "mount",
		"network", NULL };
	json_t *a = json_array();
	for (size_t i = 0; types[i]; i++)
		json_array_append_new(a, json_pack("{s:s}", "type", types[i]));
	return a;
}

static json_t *
device_rule(int allow, const char *type, long long major, long long minor,
    const char *access)
{
	json_t *r = json_pack("{s:b, s:s}", "allow", allow, "access", access);
	if (type)
		json_object_set_new(r, "type", json_string(type));
	/* A missing major or minor means "any", as in the cgroup rule "*". */
	if (major >= 0)
		json_object_set_new(r, "major", json_integer(major));
	if (minor >= 0)
		json_object_set_new(r, "minor", json_integer(minor));
	return r;
}

/* Deny everything, then what a shell needs: mknod of any node (use still
 * denied), the usual character devices, the pty ones and /dev/net/tun. */
static json_t *
default_device_rules(void)
{
	static const long long chr[][2] = {
		{ 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 },	/* null zero full random urandom */
		{ 5, 0 }, { 5, 1 }, { 5, 2 },			/* tty console ptmx */
		{ 136, -1 },					/* /dev/pts/N */
		{ 10, 200 },					/* tun */
	};
	json_t *a = json_array();
	json_array_append_new(a, device_rule(0, NULL, -1, -1, "rwm"));
	json_array_append_new(a, device_rule(1, "c", -1, -1, "m"));
	json_array_append_new(a, device_rule(1, "b", -1, -1, "m"));
	for (size_t i = 0; i < sizeof(chr) / sizeof(chr[0]); i++)
		json_array_append_new(a,
		    device_rule(1, "c", chr[i][0], chr[i][1], "rwm"));
	return a;
}

static json_t *
default_linux(const char *ns, const char *id)
{
	static const char *const masked[] = { "/proc/acpi", "/proc/asound",
		"/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
		NULL };
	static const char *const readonly[] = { "/proc/bus", "/proc/fs",
		"/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };
	char *cgroups = xasprintf("/keg/%s/%s", ns, id);
	json_t *l = json_pack("{s:o, s:o, s:o, s:{s:o}, s:s}",
	    "maskedPaths", oci_str_array(masked),
	    "readonlyPaths", oci_str_array(readonly),
	    "namespaces", default_namespaces(),
	    "resources", "devices", default_device_rules(),
	    "cgroupsPath", cgroups);
	free(cgroups);
	return l;
}

json_t *
oci_defaults(const char *ns, const char *id)
{
	/* Capabilities are filled in by oci_caps_apply, seccomp last of all,
	 * since both depend on the options. */
	return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}",
	    "ociVersion", "1.0.2-dev",
	    "process", default_process(),
	    "root", "path", "rootfs", "readonly", 0,
	    "hostname", id,
	    "mounts", default_mounts(),
	    "linux", default_linux(ns, id));
}
