/* SPDX-License-Identifier: MIT */
/*
 * Aligned text tables: collect every cell, then print with each column as
 * wide as its widest cell.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct table {
	const char *align;
	size_t ncols;
	size_t nrows;	/* including the header row */
	size_t cap;
	char **cells;	/* nrows * ncols, row by row */
};

struct table *table_new(const char *align, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->align = align;
	t->ncols = strlen(align);
	if (table_row(t, headers)) {
		free(t);
		return NULL;
	}
	return t;
}

int table_row(struct table *t, const char *const *cells)
{
	size_t i;

	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, ncap * t->ncols * sizeof(*p));

		if (!p)
			return -1;
		t->cells = p;
		t->cap = ncap;
	}
	for (i = 0; i < t->ncols; i++) {
		char *s = strdup(cells[i]);

		if (!s) {
			while (i--)
				free(t->cells[t->nrows * t->ncols + i]);
			return -1;
		}
		t->cells[t->nrows * t->ncols + i] = s;
	}
	t->nrows++;
	return 0;
}

void table_print(const struct table *t, FILE *f)
{
	size_t r, c, *width = calloc(t->ncols, sizeof(*width));

	if (!width)
		return;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);

			if (len > width[c])
				width[c] = len;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			int w = (int)width[c];

			if (c + 1 == t->ncols && t->align[c] == 'l')
				fprintf(f, "%s", cell);	/* no trailing blanks */
			else if (t->align[c] == 'r')
				fprintf(f, "%*s", w, cell);
			else
				fprintf(f, "%-*s", w, cell);
			fputs(c + 1 == t->ncols ? "\n" : "  ", f);
		}
	}
	free(width);
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
