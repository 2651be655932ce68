/* SPDX-License-Identifier: MIT */
/*
 * Aligned text tables for ashctl's human output.
 */
#ifndef ACCELSHARE_ASHCTL_TABLE_H
#define ACCELSHARE_ASHCTL_TABLE_H

#include <stdio.h>

struct table;

/* @align has one letter per column: 'l' left, 'r' right (numbers).
 * @headers has one entry per column. */
struct table *table_new(const char *align, const char *const *headers);
/* Appends a row of strlen(align) cells, copied. */
int table_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif /* ACCELSHARE_ASHCTL_TABLE_H */
