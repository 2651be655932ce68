/* SPDX-License-Identifier: MIT */
/*
 * The usage ledger: SQLite rows of what each partition used per interval,
 * written by accelshare-accountd from the kernel's counters and read by
 * "ashctl usage".  The schema and every query on it live in ledger.c.
 *
 * The kernel's counters are monotonic from a partition's creation (or the
 * module's load); the ledger keeps, beside the rows, a cursor per counter
 * set: what it read last and when.  An interval's rows and the cursors
 * they advance are written in one transaction, so that a daemon killed at
 * any point, restarted, or a module reloaded between two records neither
 * loses nor counts twice what was used.
 */
#ifndef ACCELSHARE_LEDGER_H
#define ACCELSHARE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uapi/accelshare.h>

/* Room for any one-sentence error ledger_*() write. */
#define LEDGER_ERR_MAX 512

/* The ledger's default place (accelshare-accountd(8)). */
#define LEDGER_DEFAULT_PATH "/var/lib/accelshare/usage.db"

/* Name of the row that carries what partitions deleted during an interval
 * used, when more than one was: each deleted one's final use is known only
 * in sum (the device's counters less the live partitions'). */
#define LEDGER_DELETED "(deleted)"

/**
 * struct ledger_device - one device's counters, as ASH_CTL_USAGE gave them
 * @u: the device's totals, @u.nr_entries partitions in @parts.
 * @parts: the partitions' counters.
 */
struct ledger_device {
	struct ash_usage u;
	struct ash_usage_entry *parts;
};

/**
 * struct ledger_record_stats - what one ledger_record() did
 * @rows: rows written.
 * @baseline: 1 if the ledger was empty: the counters were noted as the
 *	start, and nothing before them is billed.
 * @reloaded: 1 if the module was loaded again since the last record:
 *	every counter was taken from zero.
 * @reset: counter sets that went backwards (taken from zero).
 * @devices_lost: devices gone since the last record: what they used since
 *	then is not in the ledger.
 */
struct ledger_record_stats {
	unsigned int rows;
	unsigned int baseline;
	unsigned int reloaded;
	unsigned int reset;
	unsigned int devices_lost;
};

/**
 * struct ledger_row - a row of the ledger, or a sum of rows
 * @device: the device's number.
 * @partition: the partition's name; "" for the device's own row.
 * @start_ns: start of the (first) interval, CLOCK_REALTIME nanoseconds.
 * @end_ns: end of the (last) interval.
 * @intervals: how many intervals were summed.
 * @engine_ns: engine time used.
 * @jobs_completed: jobs completed, failed ones included.
 * @jobs_failed: jobs failed or cancelled.
 * @private_kib_s: private memory charged, integrated, in KiB-seconds.
 * @shared_kib_s: shared memory charged, integrated: 0 until shared weights
 *	exist (the kernel has no shared charge yet).
 * @peak_bytes: the highest charge seen (sampled: see ledger_observe()).
 */
struct ledger_row {
	uint32_t device;
	char partition[ASH_NAME_MAX];
	int64_t start_ns;
	int64_t end_ns;
	uint64_t intervals;
	uint64_t engine_ns;
	uint64_t jobs_completed;
	uint64_t jobs_failed;
	uint64_t private_kib_s;
	uint64_t shared_kib_s;
	uint64_t peak_bytes;
};

struct ledger;

/*
 * ledger_open() - open (@create: creating it and its schema if need be) the
 * ledger at @path; read-only without @create.  Return: 0, or -1 with one
 * sentence in @err.
 */
int ledger_open(const char *path, bool create, struct ledger **out,
		char *err, size_t errlen);
void ledger_close(struct ledger *l);

/*
 * ledger_observe() - note the memory charges of a reading taken between
 * two records, for the peaks of the next one's rows.
 */
void ledger_observe(struct ledger *l, const struct ledger_device *devs,
		    size_t n);

/*
 * ledger_record() - write the interval from the last record to @now_ns
 * (CLOCK_REALTIME) for the reading @devs of every device there is: one
 * row per device and per partition, and one for partitions deleted since.
 * All or nothing.  Return: 0, or -1 with @err.
 */
int ledger_record(struct ledger *l, int64_t now_ns,
		  const struct ledger_device *devs, size_t n,
		  struct ledger_record_stats *st, char *err, size_t errlen);

/**
 * struct ledger_query - what ledger_query() reports
 * @since_ns: rows whose interval ends after this...
 * @until_ns: ...and at or before this (INT64_MAX: no bound).
 * @partition: only this partition's rows, or NULL for every row.
 * @per_interval: each row as written; else one sum per device and
 *	partition, over the range.
 */
struct ledger_query {
	int64_t since_ns;
	int64_t until_ns;
	const char *partition;
	bool per_interval;
};

/*
 * ledger_query() - rows or sums, by device, then the device's own row
 * before its partitions' by name, then time: into a malloc'ed array the
 * caller frees.  Return: 0, or -1 with @err.
 */
int ledger_query(struct ledger *l, const struct ledger_query *q,
		 struct ledger_row **rows, size_t *n, char *err,
		 size_t errlen);

/* --- the audit trail ------------------------------------------------------ */

/* ledger_audit_row.kind of a row that says records were lost: the driver
 * kept no more (the daemon was not reading); old_val[0]..new_val[0] are
 * their seqs. */
#define LEDGER_AUDIT_LOST 0

/* A SHA-256 in hex, and its NUL. */
#define LEDGER_HASH_HEX 65

/**
 * struct ledger_audit_row - an audit record as the ledger keeps it
 * @row: its place in the chain, 1, 2, ...
 * @instance: the module load it came from.
 * @rec: the driver's record (kind LEDGER_AUDIT_LOST: a gap).
 * @prev: the hash of the row before (zeros for the first).
 * @hash: SHA-256 of @prev and the row's fields.
 */
struct ledger_audit_row {
	int64_t row;
	uint64_t instance;
	struct ash_audit_record rec;
	char prev[LEDGER_HASH_HEX];
	char hash[LEDGER_HASH_HEX];
};

/* The seq to read from next for @instance: 1 past the last one kept. */
int ledger_audit_next_seq(struct ledger *l, uint64_t instance,
			  uint64_t *seq, char *err, size_t errlen);

/*
 * ledger_audit_append() - chain @n records of @instance onto the trail,
 * after a LEDGER_AUDIT_LOST row for seqs @lost_from..@lost_to if
 * @lost_from.  All or nothing.  Return: 0, or -1 with @err.
 */
int ledger_audit_append(struct ledger *l, uint64_t instance,
			const struct ash_audit_record *recs, size_t n,
			uint64_t lost_from, uint64_t lost_to, char *err,
			size_t errlen);

/* Every row, in chain order, into a malloc'ed array.  0, or -1 with @err. */
int ledger_audit_rows(struct ledger *l, struct ledger_audit_row **rows,
		      size_t *n, char *err, size_t errlen);

/*
 * ledger_audit_verify() - recompute the chain: 0 if every row's hash is
 * that of its fields and of the row before (*@head the last hash, *@n the
 * rows); 1 with one sentence in @err naming the first row changed, or
 * where rows were removed or inserted; -1 if it cannot be read.
 */
int ledger_audit_verify(struct ledger *l, size_t *n,
			char head[LEDGER_HASH_HEX], char *err, size_t errlen);

#endif /* ACCELSHARE_LEDGER_H */
