/* Unit tests for src/oci: containerd's defaults, the image config and the
 * options applied, capability and seccomp choices, bad options refused,
 * and oci_spec_check on hostile specs. User resolution against a real
 * rootfs tree is in test_oci_user.c. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "oci/spec.h"

/* ---- helpers ---- */

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		printf("  test bug: bad JSON at %d: %s\n", e.position, e.text);
	return v;
}

/* Builds with ns "default", id "c1", no rootfs; config/options as JSON
 * text or NULL. err gets the failure. */
static json_t *
build(const char *config, const char *options, struct oci_error *err)
{
	json_t *c = config ? parse(config) : NULL;
	json_t *o = options ? parse(options) : NULL;
	struct oci_spec_input in = { .ns = "default", .id = "c1",
		.image_config = c, .rootfs_fd = -1, .options = o };
	json_t *spec = oci_spec_build(&in, err);
	json_decref(c);
	json_decref(o);
	return spec;
}

#define SH_CONFIG "{\"Cmd\": [\"/bin/sh\"]}"

static json_t *
path(json_t *spec, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(spec, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return v;
}

static bool
has_string(const json_t *array, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static json_t *
find_by(const json_t *array, const char *key, const char *value)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v) {
		const char *s = json_string_value(json_object_get(v, key));
		if (s && strcmp(s, value) == 0)
			return v;
	}
	return NULL;
}

static json_t *
caps(json_t *spec, const char *set)
{
	return path(path(spec, "process", "capabilities", NULL), set, NULL, NULL);
}

/* The names of the seccomp rule that allows without conditions. */
static json_t *
seccomp_allowed(json_t *spec)
{
	json_t *rules = path(spec, "linux", "seccomp", "syscalls");
	size_t i;
	json_t *r;
	json_array_foreach(rules, i, r)
		if (!json_object_get(r, "args") && strcmp(json_string_value(
		    json_object_get(r, "action")), "SCMP_ACT_ALLOW") == 0)
			return json_object_get(r, "names");
	return NULL;
}

static void
expect_error(const char *config, const char *options, const char *needle)
{
	struct oci_error err = { 0 };
	json_t *spec = build(config, options, &err);
	CHECK(spec == NULL);
	CHECK_INT_EQ(err.code, ERR_INVALID_ARGUMENT);
	if (!CHECK(strstr(err.message, needle) != NULL))
		printf("  message: %s (wanted \"%s\")\n", err.message, needle);
	json_decref(spec);
}

/* ---- defaults ---- */

static void
defaults_process(void)
{
	struct oci_error err;
	json_t *s = build(SH_CONFIG, NULL, &err);
	if (!CHECK(s != NULL))
		return;
	CHECK_STR_EQ(json_string_value(path(s, "ociVersion", NULL, NULL)),
	    "1.0.2-dev");
	CHECK_STR_EQ(json_string_value(path(s, "root", "path", NULL)), "rootfs");
	CHECK(json_is_false(path(s, "root", "readonly", NULL)));
	CHECK(json_is_false(path(s, "process", "terminal", NULL)));
	CHECK(json_is_true(path(s, "process", "noNewPrivileges", NULL)));
	CHECK_STR_EQ(json_string_value(path(s, "process", "cwd", NULL)), "/");
	CHECK(has_string(path(s, "process", "env", NULL), "PATH=/usr/local/sbin:"
	    "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	CHECK_INT_EQ(json_integer_value(path(s, "process", "user", "uid")), 0);
	json_t *rl = json_array_get(path(s, "process", "rlimits", NULL), 0);
	CHECK_STR_EQ(json_string_value(json_object_get(rl, "type")),
	    "RLIMIT_NOFILE");
	CHECK_INT_EQ(json_integer_value(json_object_get(rl, "hard")), 1024);
	CHECK_INT_EQ(json_integer_value(json_object_get(rl, "soft")), 1024);
	CHECK_STR_EQ(json_string_value(path(s, "hostname", NULL, NULL)), "c1");
	CHECK_STR_EQ(json_string_value(path(s, "linux", "cgroupsPath", NULL)),
	    "/keg/default/c1");
	json_decref(s);
}

static void
defaults_capabilities(void)
{
	static const char *const want[] = { "CAP_CHOWN", "CAP_DAC_OVERRIDE",
		"CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
		"CAP_AUDIT_WRITE" };
	struct oci_error err;
	json_t *s = build(SH_CONFIG, NULL, &err);
	if (!CHECK(s != NULL))
		return;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(has_string(caps(s, "bounding"), want[i]));
		CHECK(has_string(caps(s, "effective"), want[i]));
		CHECK(has_string(caps(s, "permitted"), want[i]));
	}
	CHECK_INT_EQ(json_array_size(caps(s, "bounding")), 14);
	CHECK_INT_EQ(json_array_size(caps(s, "inheritable")), 0);
	CHECK_INT_EQ(json_array_size(caps(s, "ambient")), 0);
	CHECK(!has_string(caps(s, "bounding"), "CAP_SYS_ADMIN"));
	json_decref(s);
}

static void
defaults_linux(void)
{
	struct oci_error err;
	json_t *s = build(SH_CONFIG, NULL, &err);
	if (!CHECK(s != NULL))
		return;
	json_t *ns = path(s, "linux", "namespaces", NULL);
	CHECK_INT_EQ(json_array_size(ns), 5);
	CHECK(find_by(ns, "type", "network") != NULL);
	CHECK(find_by(ns, "type", "pid") != NULL);
	CHECK(find_by(ns, "type", "mount") != NULL);
	json_t *m = path(s, "mounts", NULL, NULL);
	static const char *const dests[] = { "/proc", "/dev", "/dev/pts",
		"/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup" };
	for (size_t i = 0; i < sizeof(dests) / sizeof(dests[0]); i++)
		CHECK(find_by(m, "destination", dests[i]) != NULL);
	CHECK(has_string(json_object_get(find_by(m, "destination", "/sys"),
	    "options"), "ro"));
	CHECK(has_string(json_object_get(find_by(m, "destination",
	    "/sys/fs/cgroup"), "options"), "ro"));
	CHECK(has_string(path(s, "linux", "maskedPaths", NULL), "/proc/kcore"));
	CHECK(has_string(path(s, "linux", "readonlyPaths", NULL), "/proc/sys"));
	json_t *dev = path(path(s, "linux", "resources", NULL), "devices",
	    NULL, NULL);
	json_t *first = json_array_get(dev, 0);
	CHECK(json_is_false(json_object_get(first, "allow")));
	CHECK_STR_EQ(json_string_value(json_object_get(first, "access")), "rwm");
	CHECK(json_array_size(dev) > 5);
	json_decref(s);
}

static void
defaults_seccomp(void)
{
	struct oci_error err;
	json_t *s = build(SH_CONFIG, NULL, &err);
	if (!CHECK(s != NULL))
		return;
	json_t *sc = path(s, "linux", "seccomp", NULL);
	CHECK_STR_EQ(json_string_value(json_object_get(sc, "defaultAction")),
	    "SCMP_ACT_ERRNO");
	json_t *archs = json_object_get(sc, "architectures");
#if defined(__x86_64__)
	CHECK(has_string(archs, "SCMP_ARCH_X86_64"));
#elif defined(__aarch64__)
	CHECK(has_string(archs, "SCMP_ARCH_AARCH64"));
#else
	CHECK(json_is_array(archs));
#endif
	json_t *names = seccomp_allowed(s);
	CHECK(has_string(names, "read"));
	CHECK(has_string(names, "execve"));
	CHECK(has_string(names, "chroot"));	/* CAP_SYS_CHROOT is default */
	CHECK(!has_string(names, "mount"));
	CHECK(!has_string(names, "reboot"));
	CHECK(!has_string(names, "clone"));	/* only with the flag filter */
	CHECK(find_by(json_object_get(sc, "syscalls"), "action",
	    "SCMP_ACT_ERRNO") != NULL);		/* clone3 -> ENOSYS */
	json_decref(s);
}

/* ---- image config and options ---- */

static void
image_config_applied(void)
{
	struct oci_error err;
	json_t *s = build("{\"Entrypoint\": [\"/bin/app\", \"-v\"],"
	    " \"Cmd\": [\"serve\"], \"Env\": [\"PATH=/app/bin\", \"A=1\"],"
	    " \"WorkingDir\": \"/srv//data/\", \"User\": \"\"}", NULL, &err);
	if (!CHECK(s != NULL))
		return;
	json_t *args = path(s, "process", "args", NULL);
	CHECK_INT_EQ(json_array_size(args), 3);
	CHECK_STR_EQ(json_string_value(json_array_get(args, 0)), "/bin/app");
	CHECK_STR_EQ(json_string_value(json_array_get(args, 2)), "serve");
	json_t *env = path(s, "process", "env", NULL);
	CHECK_INT_EQ(json_array_size(env), 2);
	CHECK_STR_EQ(json_string_value(json_array_get(env, 0)), "PATH=/app/bin");
	CHECK_STR_EQ(json_string_value(path(s, "process", "cwd", NULL)),
	    "/srv/data");
	json_decref(s);
}

static void
options_replace_args_merge_env(void)
{
	struct oci_error err;
	json_t *s = build("{\"Entrypoint\": [\"/bin/app\"], \"Cmd\": [\"x\"],"
	    " \"Env\": [\"A=1\", \"B=2\", \"C=3\"]}",
	    "{\"args\": [\"echo\", \"hi\"], \"env\": [\"B=two\", \"D=4\", \"C\"],"
	    " \"cwd\": \"/tmp\"}", &err);
	if (!CHECK(s != NULL))
		return;
	json_t *args = path(s, "process", "args", NULL);
	CHECK_INT_EQ(json_array_size(args), 2);
	CHECK_STR_EQ(json_string_value(json_array_get(args, 0)), "echo");
	json_t *env = path(s, "process", "env", NULL);
	CHECK(has_string(env, "A=1"));
	CHECK(has_string(env, "B=two"));
	CHECK(!has_string(env, "B=2"));
	CHECK(has_string(env, "D=4"));
	CHECK(!has_string(env, "C=3"));
	CHECK_INT_EQ(json_array_size(env), 4);	/* PATH A B D */
	CHECK_STR_EQ(json_string_value(path(s, "process", "cwd", NULL)), "/tmp");
	json_decref(s);
}

static void
no_command_refused(void)
{
	expect_error(NULL, NULL, "process.args");
	expect_error("{\"Env\": [\"A=1\"]}", NULL, "process.args");
	expect_error("{\"Cmd\": \"sh\"}", NULL, "Cmd");
	expect_error("{\"Cmd\": [\"sh\", 1]}", NULL, "Cmd[1]");
}

static void
options_applied(void)
{
	struct oci_error err;
	json_t *s = build(SH_CONFIG, "{\"tty\": true, \"hostname\": \"box\","
	    " \"readonly_rootfs\": true, \"memory_limit\": 67108864,"
	    " \"cpus\": 1.5, \"pids_limit\": 100, \"cpu_shares\": 512,"
	    " \"cgroups_path\": \"/custom/x\", \"host_network\": true,"
	    " \"annotations\": {\"a\": \"b\"},"
	    " \"mounts\": [{\"destination\": \"/data//x/\", \"source\": \"/srv\"},"
	    "   {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\","
	    "    \"source\": \"shm\", \"options\": [\"size=1g\"]}]}", &err);
	if (!CHECK(s != NULL)) {
		printf("  %s\n", err.message);
		return;
	}
	CHECK(json_is_true(path(s, "process", "terminal", NULL)));
	CHECK_STR_EQ(json_string_value(path(s, "hostname", NULL, NULL)), "box");
	CHECK(json_is_true(path(s, "root", "readonly", NULL)));
	json_t *res = path(s, "linux", "resources", NULL);
	CHECK_INT_EQ(json_integer_value(path(res, "memory", "limit", NULL)),
	    67108864);
	CHECK_INT_EQ(json_integer_value(path(res, "cpu", "quota", NULL)), 150000);
	CHECK_INT_EQ(json_integer_value(path(res, "cpu", "period", NULL)), 100000);
	CHECK_INT_EQ(json_integer_value(path(res, "cpu", "shares", NULL)), 512);
	CHECK_INT_EQ(json_integer_value(path(res, "pids", "limit", NULL)), 100);
	CHECK_STR_EQ(json_string_value(path(s, "linux", "cgroupsPath", NULL)),
	    "/custom/x");
	CHECK(find_by(path(s, "linux", "namespaces", NULL), "type",
	    "network") == NULL);
	CHECK_STR_EQ(json_string_value(path(s, "annotations", "a", NULL)), "b");
	json_t *m = path(s, "mounts", NULL, NULL);
	json_t *data = find_by(m, "destination", "/data/x");
	CHECK(data != NULL);
	CHECK_STR_EQ(json_string_value(json_object_get(data, "type")), "bind");
	CHECK(has_string(json_object_get(data, "options"), "rbind"));
	json_t *shm = find_by(m, "destination", "/dev/shm");
	CHECK(has_string(json_object_get(shm, "options"), "size=1g"));
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(m, i, v)
		n += strcmp(json_string_value(json_object_get(v, "destination")),
		    "/dev/shm") == 0;
	CHECK_INT_EQ(n, 1);	/* replaced, not stacked */
	json_decref(s);
}

static void
caps_add_drop(void)
{
	struct oci_error err;
	json_t *s = build(SH_CONFIG, "{\"cap_add\": [\"NET_ADMIN\", "
	    "\"cap_sys_time\"], \"cap_drop\": [\"CAP_CHOWN\", \"net_raw\"]}",
	    &err);
	if (!CHECK(s != NULL))
		return;
	CHECK(has_string(caps(s, "bounding"), "CAP_NET_ADMIN"));
	CHECK(has_string(caps(s, "permitted"), "CAP_SYS_TIME"));
	CHECK(!has_string(caps(s, "bounding"), "CAP_CHOWN"));
	CHECK(!has_string(caps(s, "effective"), "CAP_NET_RAW"));
	CHECK(has_string(seccomp_allowed(s), "settimeofday"));
	CHECK_INT_EQ(json_array_size(caps(s, "inheritable")), 0);
	json_decref(s);

	s = build(SH_CONFIG, "{\"cap_drop\": [\"ALL\"], \"cap_add\": "
	    "[\"KILL\"]}", &err);
	if (!CHECK(s != NULL))
		return;
	CHECK_INT_EQ(json_array_size(caps(s, "bounding")), 1);
	CHECK(has_string(caps(s, "bounding"), "CAP_KILL"));
	CHECK(!has_string(seccomp_allowed(s), "chroot"));
	json_decref(s);

	s = build(SH_CONFIG, "{\"cap_add\": [\"ALL\"], \"cap_drop\": "
	    "[\"MKNOD\"]}", &err);
	if (!CHECK(s != NULL))
		return;
	CHECK(has_string(caps(s, "bounding"), "CAP_SYS_ADMIN"));
	CHECK(!has_string(caps(s, "bounding"), "CAP_MKNOD"));
	CHECK(json_array_size(caps(s, "bounding")) > 30);
	CHECK(has_string(seccomp_allowed(s), "mount"));
	CHECK(has_string(seccomp_allowed(s), "clone"));
	json_decref(s);
}

static void
caps_unknown_refused(void)
{
	expect_error(SH_CONFIG, "{\"cap_add\": [\"CAP_FOO\"]}", "CAP_FOO");
	expect_error(SH_CONFIG, "{\"cap_drop\": [\"12\"]}", "\"12\"");
	expect_error(SH_CONFIG, "{\"cap_add\": [\"\"]}", "unknown capability");
	expect_error(SH_CONFIG, "{\"cap_add\": \"NET_ADMIN\"}", "cap_add");
	expect_error(SH_CONFIG, "{\"cap_add\": [7]}", "cap_add[0]");
}

static void
privileged(void)
{
	struct oci_error err;
	json_t *s = build(SH_CONFIG, "{\"privileged\": true}", &err);
	if (!CHECK(s != NULL))
		return;
	CHECK(has_string(caps(s, "bounding"), "CAP_SYS_ADMIN"));
	CHECK(has_string(caps(s, "effective"), "CAP_NET_ADMIN"));
	CHECK_INT_EQ(json_array_size(caps(s, "inheritable")), 0);
	CHECK(path(s, "linux", "seccomp", NULL) == NULL);
	CHECK(path(s, "linux", "maskedPaths", NULL) == NULL);
	CHECK(path(s, "linux", "readonlyPaths", NULL) == NULL);
	json_t *dev = json_object_get(path(s, "linux", "resources", NULL),
	    "devices");
	CHECK_INT_EQ(json_array_size(dev), 1);
	CHECK(json_is_true(json_object_get(json_array_get(dev, 0), "allow")));
	json_t *sys = find_by(path(s, "mounts", NULL, NULL), "destination",
	    "/sys");
	CHECK(!has_string(json_object_get(sys, "options"), "ro"));
	json_decref(s);
}

static void
bad_options_refused(void)
{
	expect_error(SH_CONFIG, "{\"bogus\": 1}", "\"bogus\"");
	expect_error(SH_CONFIG, "[1]", "options must be an object");
	expect_error(SH_CONFIG, "{\"tty\": \"yes\"}", "options.tty");
	expect_error(SH_CONFIG, "{\"args\": []}", "options.args");
	expect_error(SH_CONFIG, "{\"args\": [\"\"]}", "options.args");
	expect_error(SH_CONFIG, "{\"env\": [\"=x\"]}", "options.env");
	expect_error(SH_CONFIG, "{\"cwd\": \"tmp\"}", "options.cwd");
	expect_error(SH_CONFIG, "{\"cwd\": \"/a/../..\"}", "options.cwd");
	expect_error(SH_CONFIG, "{\"hostname\": \"a/b\"}", "options.hostname");
	expect_error(SH_CONFIG, "{\"memory_limit\": -1}", "memory_limit");
	expect_error(SH_CONFIG, "{\"memory_limit\": 1.5}", "memory_limit");
	expect_error(SH_CONFIG, "{\"pids_limit\": 0}", "pids_limit");
	expect_error(SH_CONFIG, "{\"cpus\": 0}", "cpus");
	expect_error(SH_CONFIG, "{\"cpus\": 1, \"cpu_quota\": 5000}",
	    "exclusive");
	expect_error(SH_CONFIG, "{\"cgroups_path\": \"/a/../../b\"}",
	    "cgroups_path");
	expect_error(SH_CONFIG, "{\"annotations\": {\"a\": 1}}", "annotations");
	expect_error(SH_CONFIG, "{\"additional_gids\": [-1]}",
	    "additional_gids");
	expect_error(SH_CONFIG, "{\"additional_gids\": [4294967295]}",
	    "additional_gids");
	expect_error(SH_CONFIG, "{\"user\": \"\"}", "options.user");
}

static void
bad_mounts_refused(void)
{
	expect_error(SH_CONFIG, "{\"mounts\": {}}", "mounts");
	expect_error(SH_CONFIG, "{\"mounts\": [{\"destination\": \"../x\","
	    " \"source\": \"/a\"}]}", "destination");
	expect_error(SH_CONFIG, "{\"mounts\": [{\"destination\": \"/a/../../etc\","
	    " \"source\": \"/a\"}]}", "destination");
	expect_error(SH_CONFIG, "{\"mounts\": [{\"destination\": \"/\","
	    " \"source\": \"/a\"}]}", "destination");
	expect_error(SH_CONFIG, "{\"mounts\": [{\"destination\": \"/x\"}]}",
	    "source");
	expect_error(SH_CONFIG, "{\"mounts\": [{\"destination\": \"/x\","
	    " \"source\": \"/a\", \"flags\": 1}]}", "\"flags\"");
	expect_error(SH_CONFIG, "{\"mounts\": [{\"destination\": \"/x\","
	    " \"source\": \"/a\", \"options\": [1]}]}", "options");
}

static void
options_check_alone(void)
{
	struct oci_error err;
	json_t *o = parse("{\"tty\": true, \"cap_add\": [\"NET_ADMIN\"]}");
	CHECK_INT_EQ(oci_options_check(o, &err), 0);
	CHECK_INT_EQ(oci_options_check(NULL, &err), 0);
	json_decref(o);
	o = parse("{\"cpu_period\": 10}");
	CHECK_INT_EQ(oci_options_check(o, &err), -1);
	CHECK(strstr(err.message, "cpu_period") != NULL);
	json_decref(o);
}

static void
bad_ids_refused(void)
{
	struct oci_error err;
	json_t *c = parse(SH_CONFIG);
	struct oci_spec_input in = { .ns = "default", .id = "../x",
		.image_config = c, .rootfs_fd = -1 };
	CHECK(oci_spec_build(&in, &err) == NULL);
	in.id = "ok";
	in.ns = NULL;
	CHECK(oci_spec_build(&in, &err) == NULL);
	json_decref(c);
}

/* ---- full specs and oci_spec_check ---- */

#define GOOD_SPEC "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}," \
	" \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0," \
	" \"gid\": 0}}, \"mounts\": [{\"destination\": \"/proc\", \"type\":" \
	" \"proc\", \"source\": \"proc\"}]}"

static int
check_text(const char *text, struct oci_error *err)
{
	json_t *s = parse(text);
	int r = oci_spec_check(s, err);
	json_decref(s);
	return r;
}

/* GOOD_SPEC with one substring replaced. */
static void
expect_check_fails(const char *from, const char *to, const char *needle)
{
	char buf[1024];
	const char *at = strstr(GOOD_SPEC, from);
	if (!CHECK(at != NULL))
		return;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - GOOD_SPEC), GOOD_SPEC,
	    to, at + strlen(from));
	struct oci_error err = { 0 };
	CHECK_INT_EQ(check_text(buf, &err), -1);
	CHECK_INT_EQ(err.code, ERR_INVALID_ARGUMENT);
	if (!CHECK(strstr(err.message, needle) != NULL))
		printf("  message: %s (wanted \"%s\")\n", err.message, needle);
}

static void
spec_check_cases(void)
{
	struct oci_error err;
	CHECK_INT_EQ(check_text(GOOD_SPEC, &err), 0);
	expect_check_fails("\"rootfs\"", "\"../x\"", "root.path");
	expect_check_fails("\"rootfs\"", "\"/\"", "root.path");
	expect_check_fails("\"rootfs\"", "\"rootfs/\"", "root.path");
	expect_check_fails("\"/proc\"", "\"../../etc\"", "destination");
	expect_check_fails("\"/proc\"", "\"/proc/../../etc\"", "destination");
	expect_check_fails("\"/proc\"", "\"proc\"", "destination");
	expect_check_fails("\"cwd\": \"/\"", "\"cwd\": \"tmp\"", "cwd");
	expect_check_fails("[\"sh\"]", "[]", "process.args");
	expect_check_fails("[\"sh\"]", "[\"sh\", 3]", "args[1]");
	expect_check_fails("\"uid\": 0", "\"uid\": 4294967295", "uid");
	expect_check_fails("\"gid\": 0", "\"gid\": -1", "gid");
	expect_check_fails("\"ociVersion\": \"1.0.2\"", "\"x\": 1", "ociVersion");
	expect_check_fails("\"type\": \"proc\"", "\"type\": 1", "type");
	expect_check_fails("\"ociVersion\": \"1.0.2\"", "\"ociVersion\": \"1\","
	    " \"linux\": {\"cgroupsPath\": \"a/../../b\"}", "cgroupsPath");
	CHECK_INT_EQ(oci_spec_check(NULL, &err), -1);
}

static void
base_spec_used_as_given(void)
{
	struct oci_error err;
	json_t *base = parse(GOOD_SPEC);
	json_t *empty = parse("{}");
	struct oci_spec_input in = { .ns = "default", .id = "c1",
		.rootfs_fd = -1, .base_spec = base, .options = empty };
	json_t *s = oci_spec_build(&in, &err);
	CHECK(json_equal(s, base));
	CHECK(s != base);
	json_decref(s);

	json_t *opts = parse("{\"tty\": true}");
	in.options = opts;
	CHECK(oci_spec_build(&in, &err) == NULL);
	CHECK(strstr(err.message, "full spec") != NULL);
	json_decref(opts);

	json_object_set_new(json_object_get(base, "root"), "path",
	    json_string("/"));
	in.options = NULL;
	CHECK(oci_spec_build(&in, &err) == NULL);
	CHECK(strstr(err.message, "root.path") != NULL);
	json_decref(base);
	json_decref(empty);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(defaults_process),
		UNIT_TEST(defaults_capabilities),
		UNIT_TEST(defaults_linux),
		UNIT_TEST(defaults_seccomp),
		UNIT_TEST(image_config_applied),
		UNIT_TEST(options_replace_args_merge_env),
		UNIT_TEST(no_command_refused),
		UNIT_TEST(options_applied),
		UNIT_TEST(caps_add_drop),
		UNIT_TEST(caps_unknown_refused),
		UNIT_TEST(privileged),
		UNIT_TEST(bad_options_refused),
		UNIT_TEST(bad_mounts_refused),
		UNIT_TEST(options_check_alone),
		UNIT_TEST(bad_ids_refused),
		UNIT_TEST(spec_check_cases),
		UNIT_TEST(base_spec_used_as_given),
	};
	return unit_run(tests, UNIT_COUNT(tests));
}
