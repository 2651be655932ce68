/* SPDX-License-Identifier: MIT */
/* The engine's backends, by name (backend.h). */
#include <stddef.h>
#include <string.h>

#include "backend.h"

#ifdef ASH_HAVE_CUDA
extern const struct ash_backend ash_backend_cuda_impl;
const struct ash_backend *const ash_backend_cuda = &ash_backend_cuda_impl;
#else
const struct ash_backend *const ash_backend_cuda;
#endif

const struct ash_backend *ash_backend_find(const char *name)
{
	if (!strcmp(name, ash_backend_cpu.name))
		return &ash_backend_cpu;
	if (ash_backend_cuda && !strcmp(name, ash_backend_cuda->name))
		return ash_backend_cuda;
	return NULL;
}
