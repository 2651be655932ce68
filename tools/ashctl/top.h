/* SPDX-License-Identifier: MIT */
/*
 * ashctl top: what one screen shows, from two samples of the tables.
 */
#ifndef ACCELSHARE_ASHCTL_TOP_H
#define ACCELSHARE_ASHCTL_TOP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uapi/accelshare.h>

/* Every line top_render() prints fits an 80-column terminal. */
#define TOP_WIDTH 80

/**
 * struct top_sample - the device, partition and context tables at one time
 * @t_ns: CLOCK_MONOTONIC when they were read.
 */
struct top_sample {
	uint64_t t_ns;
	struct ash_device_info *devs;
	size_t nr_devs;
	struct ash_partition_info *parts;
	size_t nr_parts;
	struct ash_context_info *ctxs;
	size_t nr_ctxs;
};

/*
 * Prints @cur to @f: per device its memory, engine and queue; per partition
 * memory, its share of the device's engine time over the interval since
 * @prev, jobs/s and queue; per context the same but queue.  Rates are "-"
 * without @prev, or for what was not there at @prev.  At most @max_lines
 * lines (0: no limit); what does not fit is counted in the last line.
 */
void top_render(FILE *f, const struct top_sample *prev,
		const struct top_sample *cur, size_t max_lines);

#endif /* ACCELSHARE_ASHCTL_TOP_H */
