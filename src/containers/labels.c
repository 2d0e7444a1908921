/* Which image labels a container inherits. Labels under containerd.io/ and
 * keg.io/ steer the daemon (garbage collection, snapshot handling), so an
 * image author must not be able to set them on a container. */
#include "containers/containers.h"

#include <string.h>

#include "common/names.h"
#include "store/labels.h"

static bool
reserved(const char *key)
{
	return strncmp(key, "containerd.io/", 14) == 0 || strncmp(key, "keg.io/", 7) == 0;
}

/* An image's label as the store would take it; others are dropped rather
 * than failing the create over what the image's author wrote. */
static bool
storable(const char *key, const json_t *value)
{
	size_t klen = strlen(key), vlen = json_string_length(value);
	return json_is_string(value) && label_key_valid(key, klen) &&
	    label_value_valid(json_string_value(value), vlen) && klen + vlen <= LABEL_MAX_BYTES;
}

json_t *
container_initial_labels(const json_t *image_labels, const json_t *requested)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;
	if (json_is_object(image_labels)) {
		json_object_foreach((json_t *)image_labels, key, v) {
			if (!reserved(key) && storable(key, v))
				json_object_set(out, key, v);
		}
	}
	if (json_is_object(requested))
		json_object_update(out, (json_t *)requested);
	return out;
}
