# keg: the command-line client. One cmd_*.c per resource; a new one is a
# line here and a line in the command table in main.c.
bin_PROGRAMS += keg
keg_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
keg_SOURCES = \
	src/client/main.c \
	src/client/command.c src/client/command.h \
	src/client/api_client.c src/client/api_client.h \
	src/client/http_reply.c src/client/http_reply.h \
	src/client/unix_conn.c src/client/unix_conn.h \
	src/client/output.c src/client/output.h \
	src/client/buf.c src/client/buf.h \
	src/client/sse_parser.c src/client/sse_parser.h \
	src/client/label_args.c src/client/label_args.h \
	src/client/cmd_system.c \
	src/client/cmd_namespaces.c \
	src/client/cmd_events.c \
	src/client/humanize.c src/client/humanize.h \
	src/client/ndjson.c src/client/ndjson.h \
	src/client/progress.c src/client/progress.h \
	src/client/op_follow.c src/client/op_follow.h \
	src/client/resource.c src/client/resource.h \
	src/client/user_auth.c src/client/user_auth.h \
	src/client/cmd_images.c \
	src/client/cmd_images_pull.c src/client/cmd_images_pull.h \
	src/client/cmd_images_transfer.h \
	src/client/cmd_images_push.c \
	src/client/cmd_images_import.c \
	src/client/cmd_images_export.c \
	src/client/cmd_images_mount.c \
	src/client/cmd_content.c \
	src/client/cmd_snapshots.c \
	src/client/cmd_containers.c src/client/cmd_containers.h \
	src/client/cmd_tasks.c src/client/cmd_tasks_exec.c src/client/cmd_run.c \
	src/client/cmd_tasks_checkpoint.c \
	src/client/task_io.c src/client/task_io.h src/client/task_signal.c \
	src/client/task_attach.c \
	src/client/cmd_operations.c
# No libcurl: keg speaks its HTTP itself, and starts faster for it. Of
# libkeghttp.a only the pure parsing (src/http/parser.c) is linked.
keg_LDADD = libkeghttp.a libkegcommon.a $(JANSSON_LIBS) -lpthread
