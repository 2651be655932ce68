/* SPDX-License-Identifier: MIT */
/* The CPU backend's parts: its ops (ops.c) and its device memory (mem.c). */
#ifndef ASH_ENGINE_CPU_H
#define ASH_ENGINE_CPU_H

#include "../backend.h"

int ash_cpu_mem_create(struct ash_backend_mem *m, const char *name,
		       uint64_t size);
int ash_cpu_mem_import(struct ash_backend_mem *m, int fd, uint64_t size);
void ash_cpu_mem_close(struct ash_backend_mem *m);
int ash_cpu_scrub(struct ash_backend_mem *m, uint64_t off, uint64_t len);

#endif /* ASH_ENGINE_CPU_H */
