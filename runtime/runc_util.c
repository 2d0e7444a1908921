/* Runtime helpers that do not run anything: finding the binary, making a
 * short message of a failure, reading `ps` output. */
#include "runtime/runc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static bool
is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *
runc_lookup(const char *name, char **err)
{
	if (name == NULL || name[0] == '\0') {
		*err = xstrdup("empty runtime binary name");
		return NULL;
	}
	if (name[0] == '/') {
		if (is_executable(name))
			return xstrdup(name);
		*err = xasprintf("runtime binary %s is not an executable file", name);
		return NULL;
	}
	/* A relative path would depend on kegd's working directory. */
	if (strchr(name, '/') != NULL) {
		*err = xasprintf("runtime binary %s: give a name or an absolute path", name);
		return NULL;
	}
	const char *path = getenv("PATH");
	char *dirs = xstrdup(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL, *found = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		if (d[0] != '/')
			continue;
		char *candidate = xasprintf("%s/%s", d, name);
		if (is_executable(candidate))
			found = candidate;
		else
			free(candidate);
	}
	free(dirs);
	if (found == NULL)
		*err = xasprintf("runtime binary %s not found in PATH", name);
	return found;
}

/* The last "level":"error" message in a json log (last 256 KiB). */
static char *
log_error(const char *log_path)
{
	FILE *f = log_path ? fopen(log_path, "re") : NULL;
	if (f == NULL)
		return NULL;
	if (fseek(f, -256 * 1024, SEEK_END) < 0)
		rewind(f);
	char line[8192];
	char *msg = NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		json_t *j = json_loads(line, 0, NULL);
		const char *level = json_string_value(json_object_get(j, "level"));
		const char *m = json_string_value(json_object_get(j, "msg"));
		if (level && m && strcmp(level, "error") == 0) {
			free(msg);
			msg = xstrdup(m);
		}
		json_decref(j);
	}
	fclose(f);
	return msg;
}

/* The last non-empty line; runc's text form `time=… level=error msg="…"`
 * reduced to what msg says. */
static char *
stderr_error(const char *text)
{
	if (text == NULL)
		return NULL;
	size_t end = strlen(text);
	while (end > 0 && strchr("\n\r \t", text[end - 1]))
		end--;
	size_t start = end;
	while (start > 0 && text[start - 1] != '\n')
		start--;
	if (start == end)
		return NULL;
	char *line = xstrndup(text + start, end - start);
	char *m = strstr(line, "msg=\"");
	if (m != NULL && end - start > 6 && line[end - start - 1] == '"') {
		line[end - start - 1] = '\0';
		char *msg = xstrdup(m + 5);
		free(line);
		return msg;
	}
	return line;
}

char *
runc_error_message(const char *err_text, const char *log_path)
{
	char *msg = log_error(log_path);
	if (msg == NULL)
		msg = stderr_error(err_text);
	if (msg == NULL)
		return xstrdup("runtime failed");
	/* Kept to one line of reasonable length for API errors. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (strlen(msg) > 1024) {
		/* Cut at a character boundary: API errors must stay UTF-8. */
		size_t k = 1024;
		while (k > 0 && ((unsigned char)msg[k] & 0xc0) == 0x80)
			k--;
		msg[k] = '\0';
	}
	return msg;
}

int
runc_parse_pids(const char *out, pid_t **pids, size_t *n)
{
	*pids = NULL;
	*n = 0;
	json_t *j = json_loads(out, JSON_DECODE_ANY, NULL);
	if (json_is_null(j)) {
		json_decref(j);
		return 0;
	}
	if (!json_is_array(j)) {
		json_decref(j);
		return -1;
	}
	*pids = xcalloc(json_array_size(j) + 1, sizeof(pid_t));
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		json_int_t p = json_integer_value(v);
		if (!json_is_integer(v) || p <= 0 || p > 0x3fffffff) {
			free(*pids);
			*pids = NULL;
			json_decref(j);
			return -1;
		}
		(*pids)[(*n)++] = (pid_t)p;
	}
	json_decref(j);
	return 0;
}
