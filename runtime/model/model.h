/* SPDX-License-Identifier: MIT */
/*
 * A loaded model: the tensors of struct ash_tensor over the one device
 * buffer the loader streamed the data section into.
 */
#ifndef ACCELSHARE_MODEL_MODEL_H
#define ACCELSHARE_MODEL_MODEL_H

#include <stdint.h>

#include <accelshare.h>

#include "../internal.h"
#include "format.h"

/**
 * struct ash_model - what ash_model_load() returns
 * @buf: the device buffer holding the data section, NULL if it is empty.
 * @pad: bytes before the data section in @buf (see docs/loader.md): the
 *	section starts at @buf offset @pad, so tensor i sits at @pad + its
 *	offset in the file's data section.
 * @nr_tensors: entries in @tensors.
 * @tensors: in the file's data order (by offset).
 * @names: one block holding every tensor's name.
 * @slots: hash table of tensor index + 1 (0: empty), @mask + 1 entries.
 * @mask: a power of two minus one.
 */
struct ash_model {
	struct ash_buf *buf;
	uint64_t pad;
	int nr_tensors;
	struct ash_tensor *tensors;
	char *names;
	uint32_t *slots;
	uint32_t mask;
};

/* A model for @hdr's tensors over @buf (may be NULL) at @pad; NULL on
 * -ENOMEM.  The buffer is not the model's until ash__model_new succeeds. */
ASH_HIDDEN struct ash_model *ash__model_new(const struct ash_model_header *hdr,
					    struct ash_buf *buf, uint64_t pad);

#endif /* ACCELSHARE_MODEL_MODEL_H */
