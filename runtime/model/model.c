/* SPDX-License-Identifier: MIT */
/*
 * A loaded model's tensors: building the table from a parsed header, lookup
 * by index and by name (a hash table, so that a loader of thousands of
 * tensors finds each in constant time), and freeing it with its buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

struct ash_model *ash__model_new(const struct ash_model_header *hdr,
				 struct ash_buf *buf, uint64_t pad)
{
	struct ash_model *m;
	size_t names = 0, slots = 2;
	char *p;
	int i;

	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	for (i = 0; i < hdr->nr_tensors; i++)
		names += strlen(hdr->tensors[i].name) + 1;
	while (slots < 2 * (size_t)hdr->nr_tensors)
		slots *= 2;
	m->tensors = calloc(hdr->nr_tensors ? (size_t)hdr->nr_tensors : 1,
			    sizeof(*m->tensors));
	m->names = malloc(names ? names : 1);
	m->slots = calloc(slots, sizeof(*m->slots));
	if (!m->tensors || !m->names || !m->slots) {
		free(m->tensors);
		free(m->names);
		free(m->slots);
		free(m);
		return NULL;
	}
	m->buf = buf;
	m->pad = pad;
	m->nr_tensors = hdr->nr_tensors;
	m->mask = (uint32_t)slots - 1;
	p = m->names;
	for (i = 0; i < hdr->nr_tensors; i++) {
		const struct ash_model_tensor_info *ti = &hdr->tensors[i];
		struct ash_tensor *t = &m->tensors[i];
		size_t n = strlen(ti->name) + 1;
		uint32_t h;

		memcpy(p, ti->name, n);
		t->name = p;
		p += n;
		t->dtype = ti->dtype;
		t->ndim = ti->ndim;
		memcpy(t->shape, ti->shape, sizeof(t->shape));
		t->bytes = ti->bytes;
		/* Empty tensors too point into the buffer when there is one;
		 * only a model without any data has buf NULL, offset 0. */
		t->buf = buf;
		t->offset = buf ? pad + ti->offset : 0;
		/* First of equal names wins (the parsers refuse those). */
		for (h = name_hash(t->name) & m->mask; m->slots[h];
		     h = (h + 1) & m->mask)
			if (!strcmp(m->tensors[m->slots[h] - 1].name, t->name))
				break;
		if (!m->slots[h])
			m->slots[h] = (uint32_t)i + 1;
	}
	return m;
}

int ash_model_tensor_count(const struct ash_model *model)
{
	return model ? model->nr_tensors : -EINVAL;
}

const struct ash_tensor *ash_model_tensor(const struct ash_model *model,
					  int index)
{
	if (!model || index < 0 || index >= model->nr_tensors)
		return NULL;
	return &model->tensors[index];
}

const struct ash_tensor *ash_model_find(const struct ash_model *model,
					const char *name)
{
	uint32_t h;

	if (!model || !name)
		return NULL;
	for (h = name_hash(name) & model->mask; model->slots[h];
	     h = (h + 1) & model->mask) {
		const struct ash_tensor *t = &model->tensors[model->slots[h] - 1];

		if (!strcmp(t->name, name))
			return t;
	}
	return NULL;
}

void ash_model_free(struct ash_model *model)
{
	if (!model)
		return;
	ash_free(model->buf);
	free(model->tensors);
	free(model->names);
	free(model->slots);
	free(model);
}
