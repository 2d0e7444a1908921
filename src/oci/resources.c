/* Resource limits from the options: memory, CPU and pids, written to
 * linux.resources where runc (or crun) maps them to cgroup v1 or v2. */
#include <string.h>

#include "oci/internal.h"

#define DEFAULT_CPU_PERIOD 100000	/* microseconds, the kernel's default */

struct int_limit {
	const char *key;
	long long min, max;
};

/* Ranges are what the kernel accepts, so a bad value fails here with the
 * key named instead of later inside runc. */
static const struct int_limit limits[] = {
	{ "memory_limit", 1, (1LL << 62) },
	{ "cpu_shares", 2, 262144 },
	{ "cpu_quota", 1000, (1LL << 52) },
	{ "cpu_period", 1000, 1000000 },
	{ "pids_limit", -1, (1LL << 32) },
};

static int
check_int(const json_t *options, const struct int_limit *l,
    struct oci_error *err)
{
	json_t *v = json_object_get(options, l->key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < l->min ||
	    json_integer_value(v) > l->max ||
	    (strcmp(l->key, "pids_limit") == 0 && json_integer_value(v) == 0))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options.%s must be an integer in %lld..%lld%s", l->key,
		    l->min, l->max, l->min < 0 ? " (not 0; -1 = unlimited)" : "");
	return 0;
}

int
oci_resources_check(const json_t *options, struct oci_error *err)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (check_int(options, &limits[i], err) != 0)
			return -1;
	json_t *cpus = json_object_get(options, "cpus");
	if (cpus && (!json_is_number(cpus) || !(json_number_value(cpus) > 0) ||
	    json_number_value(cpus) > 65536))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options.cpus must be a number above 0");
	if (cpus && json_object_get(options, "cpu_quota"))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options.cpus and options.cpu_quota are exclusive");
	return 0;
}

static void
copy_int(json_t *dst, const char *field, const json_t *options,
    const char *key)
{
	json_t *v = json_object_get(options, key);
	if (v)
		json_object_set_new(dst, field,
		    json_integer(json_integer_value(v)));
}

/* cpus (e.g. 1.5) becomes a quota over the period, as `docker --cpus`. */
static void
apply_cpu(json_t *resources, const json_t *options)
{
	json_t *cpus = json_object_get(options, "cpus");
	if (!cpus && !json_object_get(options, "cpu_shares") &&
	    !json_object_get(options, "cpu_quota") &&
	    !json_object_get(options, "cpu_period"))
		return;
	json_t *cpu = oci_obj(resources, "cpu");
	copy_int(cpu, "shares", options, "cpu_shares");
	copy_int(cpu, "quota", options, "cpu_quota");
	copy_int(cpu, "period", options, "cpu_period");
	if (cpus) {
		json_t *p = json_object_get(options, "cpu_period");
		long long period = p ? json_integer_value(p) : DEFAULT_CPU_PERIOD;
		long long quota = (long long)(json_number_value(cpus) *
		    (double)period + 0.5);
		json_object_set_new(cpu, "period", json_integer(period));
		json_object_set_new(cpu, "quota",
		    json_integer(quota < 1000 ? 1000 : quota));
	}
}

int
oci_resources_apply(json_t *spec, const json_t *options,
    struct oci_error *err)
{
	if (oci_resources_check(options, err) != 0)
		return -1;
	json_t *resources = oci_obj(oci_obj(spec, "linux"), "resources");
	if (json_object_get(options, "memory_limit"))
		copy_int(oci_obj(resources, "memory"), "limit", options,
		    "memory_limit");
	if (json_object_get(options, "pids_limit"))
		copy_int(oci_obj(resources, "pids"), "limit", options,
		    "pids_limit");
	apply_cpu(resources, options);
	return 0;
}
