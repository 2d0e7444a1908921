/* The default seccomp profile, with the intent of containerd's and
 * Docker's: deny (EPERM) what is not listed, allow the ordinary system
 * calls, and allow the privileged ones only when the process keeps the
 * capability that would make them useful anyway. Every name is checked
 * with libseccomp for the native architecture and dropped when unknown,
 * so an old libseccomp never makes runc refuse the whole profile. */
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>

#include "oci/internal.h"

#define CLONE_NS_FLAGS 0x7E020000LL	/* CLONE_NEW{NS,UTS,IPC,USER,PID,NET,CGROUP} */
#define AF_VSOCK_NUM 40
#define ENOSYS_NUM 38

static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind",
	"brk", "cachestat", "capget", "capset", "chdir", "chmod", "chown",
	"chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
	"clock_getres_time64", "clock_gettime", "clock_gettime64",
	"clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
	"connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
	"epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd",
	"eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
	"faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
	"fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32",
	"fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
	"flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
	"fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
	"futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
	"futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64",
	"getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
	"getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
	"getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
	"getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
	"getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
	"gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
	"io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup",
	"io_submit", "ipc", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown",
	"lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
	"llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
	"lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret",
	"mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
	"mlockall", "mmap", "mmap2", "modify_ldt", "mprotect", "mq_getsetattr",
	"mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
	"mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl",
	"msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
	"nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
	"pause", "pidfd_getfd", "pidfd_open", "pidfd_send_signal", "pipe",
	"pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
	"ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
	"process_mrelease", "pselect6", "pselect6_time64", "ptrace", "pwrite64",
	"pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat",
	"readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
	"remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
	"restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
	"sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
	"sched_rr_get_interval", "sched_rr_get_interval_time64",
	"sched_setaffinity", "sched_setattr", "sched_setparam",
	"sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
	"semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
	"sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32",
	"setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
	"setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
	"setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
	"setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
	"setsockopt", "set_thread_area", "set_tid_address", "setuid",
	"setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
	"sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
	"socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
	"statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
	"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
	"timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
	"timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
	"tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
	"unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
	"vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
	/* 32-bit Arm's own calls, present when running arm binaries. */
	"arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush",
	"set_tls", "sync_file_range2",
	NULL
};

/* System calls a capability makes legitimate. */
static const struct {
	const char *cap;
	const char *const names[26];
} by_cap[] = {
	{ "CAP_SYS_ADMIN", { "bpf", "clone", "clone3", "fanotify_init",
		"fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
		"mount", "mount_setattr", "move_mount", "name_to_handle_at",
		"open_tree", "perf_event_open", "quotactl", "quotactl_fd",
		"setdomainname", "sethostname", "setns", "syslog", "umount",
		"umount2", "unshare", "pivot_root" } },
	{ "CAP_SYS_BOOT", { "reboot" } },
	{ "CAP_SYS_CHROOT", { "chroot" } },
	{ "CAP_SYS_MODULE", { "delete_module", "init_module", "finit_module" } },
	{ "CAP_SYS_PACCT", { "acct" } },
	{ "CAP_SYS_PTRACE", { "kcmp", "process_madvise", "process_vm_readv",
		"process_vm_writev" } },
	{ "CAP_SYS_RAWIO", { "iopl", "ioperm" } },
	{ "CAP_SYS_TIME", { "settimeofday", "stime", "clock_settime",
		"clock_settime64" } },
	{ "CAP_SYS_TTY_CONFIG", { "vhangup" } },
	{ "CAP_SYS_NICE", { "get_mempolicy", "mbind", "set_mempolicy",
		"set_mempolicy_home_node" } },
	{ "CAP_SYSLOG", { "syslog" } },
	{ "CAP_BPF", { "bpf" } },
	{ "CAP_PERFMON", { "perf_event_open" } },
	{ "CAP_DAC_READ_SEARCH", { "open_by_handle_at" } },
};

static bool
known(const char *name)
{
	return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

static void
add_name(json_t *names, const char *name)
{
	size_t i;
	json_t *v;
	if (!known(name))
		return;
	json_array_foreach(names, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return;
	json_array_append_new(names, json_string(name));
}

static bool
has_cap(const json_t *caps, const char *cap)
{
	size_t i;
	json_t *v;
	json_array_foreach(caps, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), cap) == 0)
			return true;
	return false;
}

static json_t *
allow_names(const json_t *caps)
{
	json_t *names = json_array();
	for (size_t i = 0; allowed[i]; i++)
		add_name(names, allowed[i]);
	for (size_t i = 0; i < sizeof(by_cap) / sizeof(by_cap[0]); i++) {
		if (!has_cap(caps, by_cap[i].cap))
			continue;
		for (size_t j = 0; j < sizeof(by_cap[i].names) / sizeof(by_cap[i].names[0]) && by_cap[i].names[j]; j++)
			add_name(names, by_cap[i].names[j]);
	}
	return names;
}

/* One condition on the first argument; value_two < 0 means none (it is
 * only read by SCMP_CMP_MASKED_EQ: (arg & value) == value_two). */
static json_t *
arg_rule(const char *name, long long value, long long value_two,
    const char *op)
{
	json_t *arg = json_pack("{s:i, s:I, s:s}", "index", 0, "value", value,
	    "op", op);
	if (value_two >= 0)
		json_object_set_new(arg, "valueTwo", json_integer(value_two));
	return json_pack("{s:[s], s:s, s:[o]}", "names", name,
	    "action", "SCMP_ACT_ALLOW", "args", arg);
}

/* Rules that look at arguments: personality only for the harmless
 * personas, socket for anything but vsock, clone without new namespaces
 * (no CAP_SYS_ADMIN), and clone3 failing with ENOSYS so libc falls back
 * to clone, whose flags the filter can see. */
static void
add_arg_rules(json_t *rules, const json_t *caps)
{
	static const long long personas[] = { 0x0, 0x8, 0x20000, 0x20008,
		0xffffffff };
	for (size_t i = 0; i < sizeof(personas) / sizeof(personas[0]); i++)
		json_array_append_new(rules, arg_rule("personality", personas[i],
		    -1, "SCMP_CMP_EQ"));
	json_array_append_new(rules, arg_rule("socket", AF_VSOCK_NUM, -1,
	    "SCMP_CMP_NE"));
	if (has_cap(caps, "CAP_SYS_ADMIN"))
		return;
	json_array_append_new(rules, arg_rule("clone", CLONE_NS_FLAGS, 0,
	    "SCMP_CMP_MASKED_EQ"));
	if (known("clone3"))
		json_array_append_new(rules, json_pack("{s:[s], s:s, s:i}",
		    "names", "clone3", "action", "SCMP_ACT_ERRNO",
		    "errnoRet", ENOSYS_NUM));
}

/* The native architecture and the compat ones its kernel also runs. */
static json_t *
architectures(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		return json_pack("[s, s, s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
		    "SCMP_ARCH_X32");
	case SCMP_ARCH_AARCH64:
		return json_pack("[s, s]", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
	default:
		return json_array();	/* the runtime's native arch only */
	}
}

json_t *
oci_seccomp_default(const json_t *bounding_caps)
{
	json_t *rules = json_array();
	json_array_append_new(rules, json_pack("{s:o, s:s}", "names",
	    allow_names(bounding_caps), "action", "SCMP_ACT_ALLOW"));
	add_arg_rules(rules, bounding_caps);
	return json_pack("{s:s, s:i, s:o, s:o}",
	    "defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", 1,
	    "architectures", architectures(), "syscalls", rules);
}
