/* SPDX-License-Identifier: MIT */
/*
 * The engine's backends, by name (backend.h).  cpu is built in; cuda is a
 * plugin, dlopen()ed only when asked for: it needs NVIDIA's driver library
 * (libcuda.so.1) and cuBLAS, which a CPU-only host does not have.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

/* Where plugins live: $ASH_BACKEND_DIR, or ../lib/accelshare beside us. */
static int plugin_path(const char *name, char *path, size_t len)
{
	const char *dir = getenv("ASH_BACKEND_DIR");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (dir && *dir) {
		snprintf(path, len, "%s/accelshare-backend-%s.so", dir, name);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(path, len, "%s/../lib/accelshare/accelshare-backend-%s.so",
		 exe, name);
	return 0;
}

static const struct ash_backend *load_plugin(const char *name, char *why,
					     size_t why_len)
{
	const struct ash_backend *be;
	char path[PATH_MAX + 64];
	uint32_t op;
	void *h;

	if (plugin_path(name, path, sizeof(path))) {
		snprintf(why, why_len, "cannot find the %s backend: /proc/self/exe is unreadable.",
			 name);
		return NULL;
	}
	if (access(path, R_OK)) {
		snprintf(why, why_len,
			 "the %s backend is not installed (no %s): this engine was built without it (no nvcc at build time).",
			 name, path);
		return NULL;
	}
	/* Never unloaded: the backend is the engine's until it exits. */
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, why_len,
			 "the %s backend cannot be loaded: %s (is NVIDIA's driver installed?)",
			 name, dlerror());
		return NULL;
	}
	be = dlsym(h, ASH_BACKEND_SYMBOL);
	if (!be || !be->name || strcmp(be->name, name)) {
		snprintf(why, why_len, "%s is not an accelshare %s backend.",
			 path, name);
		dlclose(h);
		return NULL;
	}
	for (op = 0; op < ASH_OP_COUNT; op++)
		if (!be->run[op]) {
			snprintf(why, why_len,
				 "%s has no %s op: it was built for another op table.",
				 path, ash_optable_name(op));
			dlclose(h);
			return NULL;
		}
	return be;
}

const struct ash_backend *ash_backend_find(const char *name, char *why,
					   size_t why_len)
{
	if (!strcmp(name, ash_backend_cpu.name))
		return &ash_backend_cpu;
	if (!strcmp(name, "cuda"))
		return load_plugin(name, why, why_len);
	snprintf(why, why_len, "--backend takes cpu or cuda, not '%s'.", name);
	return NULL;
}
