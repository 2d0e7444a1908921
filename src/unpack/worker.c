#include "unpack/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lazy/lazy_archive.h"
#include "unpack/confine.h"
#include "unpack/extract.h"
#include "unpack/report.h"
#include "unpack/stream.h"

/* Where the two descriptors the worker keeps are moved; all others close. */
#define REPORT_FD 3
#define BLOB_FD 4

/* The daemon's handlers (libevent's among them) write to descriptors the
 * worker has closed, or reused: back to the defaults, except the fault
 * signals a sanitizer may be watching. */
static void
reset_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
		    sigaction(sig, NULL, &sa) < 0 || sa.sa_handler == SIG_IGN ||
		    sa.sa_handler == SIG_DFL)
			continue;
		signal(sig, SIG_DFL);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
open_blob(const struct unpack_request *req, struct failure *f)
{
	int fd = req->blob_fd >= 0 ? dup(req->blob_fd) :
	    open(req->blob_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		fail(f, UNPACK_SETUP_FAILED, "cannot open the layer blob: %s", strerror(errno));
	return fd;
}

static int
open_target(const struct unpack_request *req, struct failure *f)
{
	int fd = open(req->target_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail(f, UNPACK_SETUP_FAILED, "cannot open the target %s: %s", req->target_dir,
		    strerror(errno));
	return fd;
}

/* Moves fd to a fixed number; high first so two moves cannot collide. */
static int
move_fd(int fd, int to)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	close(fd);
	if (high < 0 || dup2(high, to) < 0)
		return -1;
	close(high);
	return to;
}

/* Only the report, the blob, the target (until chroot) and stderr (for a
 * sanitizer's words) stay; stdin and stdout become /dev/null. Nothing
 * naming a directory outside the target survives into the chroot. */
static int
keep_only(int *report_fd, int *blob_fd, int *target_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		return -1;
	close(null);
	struct stat st;
	if (fstat(2, &st) < 0 || S_ISDIR(st.st_mode))
		dup2(0, 2);
	if ((*report_fd = move_fd(*report_fd, REPORT_FD)) < 0 ||
	    (*blob_fd = move_fd(*blob_fd, BLOB_FD)) < 0 ||
	    (*target_fd = move_fd(*target_fd, BLOB_FD + 1)) < 0)
		return -1;
	return close_range(BLOB_FD + 2, ~0U, 0);
}

static void
check_diff_id(const struct unpack_request *req, const struct unpack_result *res,
    struct failure *f)
{
	if (req->expected_diff_id != NULL && strcmp(req->expected_diff_id, res->diff_id) != 0)
		fail(f, UNPACK_DIGEST_MISMATCH, "the layer's diffID is %s, not the expected %s",
		    res->diff_id, req->expected_diff_id);
}

/* Everything after the chroot: the layer's bytes are first read here. */
static void
extract_confined(const struct unpack_request *req, int blob_fd, struct unpack_result *res,
    struct failure *f)
{
	struct extractor x;
	struct layer_stream s = { 0 };
	extractor_init(&x, req, f);
	if (confine_seccomp(f) == 0 &&
	    layer_stream_open(&s, blob_fd, req->compression, req->limits.max_tar_bytes, f) == 0 &&
	    extractor_run(&x, s.tar) == 0 && layer_stream_drain(&s) == 0) {
		layer_stream_diff_id(&s, res->diff_id);
		check_diff_id(req, res, f);
	}
	res->bytes = x.bytes;
	res->entries = x.entries;
	res->xattrs_skipped = x.xattrs_skipped;
	if (s.buf != NULL)
		layer_stream_close(&s);
	extractor_free(&x);
}

void
unpack_worker_main(const struct unpack_request *req, int report_fd, pid_t parent)
{
	/* A worker outliving the daemon would write into a snapshot that
	 * startup repair is about to remove. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	reset_signals();
	struct failure f = { 0 };
	struct unpack_result res = { 0 };
	int blob_fd = open_blob(req, &f);
	int target_fd = blob_fd >= 0 ? open_target(req, &f) : -1;
	if (target_fd >= 0 && keep_only(&report_fd, &blob_fd, &target_fd) < 0)
		fail(&f, UNPACK_SETUP_FAILED, "cannot set up descriptors: %s", strerror(errno));
	/* Built in since glibc 2.35, so nothing is read from the disk; UTF-8
	 * names in pax headers then come through unchanged. */
	setlocale(LC_CTYPE, "C.UTF-8");
	/* jansson seeds its hash from /dev/urandom on first use; inside the
	 * chroot that name belongs to the layer (a FIFO there would hang us). */
	json_object_seed(0);
	umask(022);
	/* kegd does not link libarchive (src/lazy/lazy_archive.h): it is
	 * opened here, while its files are in reach (before the chroot) and
	 * before RLIMIT_AS, which then counts it with what the fork inherited. */
	char err[256];
	if (f.status == UNPACK_OK && lazy_archive_load(err, sizeof(err)) < 0)
		fail(&f, UNPACK_SETUP_FAILED, "%s", err);
	if (f.status == UNPACK_OK &&
	    confine_limit_resources(req->limits.max_memory, &f) == 0 &&
	    confine_enter_root(target_fd, &f) == 0 &&
	    confine_drop_privileges(req->mode, &f) == 0)
		extract_confined(req, blob_fd, &res, &f);
	res.status = f.status;
	res.message = f.message;
	if (res.status != UNPACK_OK && res.status != UNPACK_DIGEST_MISMATCH)
		res.diff_id[0] = '\0';
	report_write(report_fd, &res);
	_exit(res.status == UNPACK_OK ? 0 : 1);
}
