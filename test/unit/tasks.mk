# Unit tests for the tasks component's pure parts (src/tasks/local.mk's
# files): CRI log lines and their formatting, tail, cgroup stat files.
# Static linking takes only the objects these need from libkegtasks.a.
TASKS_UNIT_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBEVENT_CFLAGS)
TASKS_UNIT_LDADD = libkegunit.a libkegtasks.a libkeghttp.a libkegcommon.a $(JANSSON_LIBS) $(LIBEVENT_LIBS)

check_PROGRAMS += test/unit/test_cri_log test/unit/test_cgroup_stats
TESTS += test/unit/test_cri_log test/unit/test_cgroup_stats

test_unit_test_cri_log_SOURCES = test/unit/test_cri_log.c
test_unit_test_cri_log_CFLAGS = $(TASKS_UNIT_CFLAGS)
test_unit_test_cri_log_LDADD = $(TASKS_UNIT_LDADD)

test_unit_test_cgroup_stats_SOURCES = test/unit/test_cgroup_stats.c
test_unit_test_cgroup_stats_CFLAGS = $(TASKS_UNIT_CFLAGS)
test_unit_test_cgroup_stats_LDADD = $(TASKS_UNIT_LDADD)
