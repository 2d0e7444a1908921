# src/tasks: the tasks service (/v1/tasks in api-spec/openapi.yaml) in libkegtasks.a,
# linked by kegd: task lifecycle, logs reading and cgroup metrics.
noinst_LIBRARIES += libkegtasks.a
libkegtasks_a_CFLAGS = $(AM_CFLAGS) $(KEGD_CFLAGS)
libkegtasks_a_SOURCES = \
	src/tasks/logs.c src/tasks/logs.h \
	src/tasks/log_follow.c \
	src/tasks/log_format.c src/tasks/log_format.h \
	src/tasks/log_tail.c src/tasks/log_tail.h \
	src/tasks/cri_log.c src/tasks/cri_log.h \
	src/tasks/metrics.c src/tasks/metrics.h src/tasks/metrics_internal.h \
	src/tasks/metrics_v1.c src/tasks/metrics_v2.c \
	src/tasks/cgroup_stats.c src/tasks/cgroup_stats.h \
	src/tasks/service.c src/tasks/service.h src/tasks/internal.h \
	src/tasks/common.c \
	src/tasks/create.c \
	src/tasks/ops.c \
	src/tasks/exec.c \
	src/tasks/delete.c \
	src/tasks/reclaim.c \
	src/tasks/exit.c \
	src/tasks/oom.c \
	src/tasks/recover.c \
	src/tasks/orphans.c
