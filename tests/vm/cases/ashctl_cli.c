// SPDX-License-Identifier: MIT
/*
 * ashctl inside the VM (invariant 6 for command-line arguments): bad
 * arguments exit non-zero with a message on stderr and change nothing;
 * --help works; create / list / list --json / delete round-trip, with sizes,
 * guarantees, weights and uid/gid names reaching the driver as given.
 */
#include "vmtest.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEL(a)	((int)(sizeof(a) / sizeof((a)[0])))

static char out[65536];

/* Run ashctl @args; expect failure with something on stderr. */
static void expect_refused(const char *args)
{
	int st = vt_sh(out, sizeof(out), VT_ASHCTL " %s 2>&1 >/dev/null", args);

	EXPECT(st != 0 && st != 126 && st != 127 && st != -1,
	       "ashctl %s: expected a non-zero exit from ashctl, got %d", args, st);
	EXPECT(out[0] != 0, "ashctl %s: nothing on stderr", args);
}

static int run(const char *args)
{
	return vt_sh(out, sizeof(out), VT_ASHCTL " %s", args);
}

/* The object of `partition list --json` named @name, or false. */
static bool listed(const char *name, char obj[1024])
{
	static char objs[64][1024];
	char n[64];
	int i, k;

	if (!EXPECT_EQ(run("partition list --json"), 0, "ashctl partition list --json exit status"))
		return false;
	k = vt_json_objects(out, objs, 64);
	if (!EXPECT(k >= 0, "ashctl partition list --json is not a JSON array: %.300s", out))
		return false;
	for (i = 0; i < k && i < 64; i++) {
		if (vt_json_str(objs[i], "name", n, sizeof(n)) && !strcmp(n, name)) {
			memcpy(obj, objs[i], 1024);
			return true;
		}
	}
	return false;
}

static void expect_member(const char *obj, const char *key, uint64_t want)
{
	char what[96];
	uint64_t v;

	snprintf(what, sizeof(what), "ashctl list --json \"%s\"", key);
	if (EXPECT(vt_json_u64(obj, key, &v), "%s: missing or not a number in %.300s", what, obj))
		EXPECT_EQ(v, want, what);
}

int main(void)
{
	static const char *const refused[] = {
		"partition create badsize --mem 12Q",
		"partition create badsize --mem ''",
		"partition create badsize --mem -8M",
		"partition create badsize --mem 8MM",
		"partition create --mem 8M",
		"partition create",
		"partition create nomem",
		"partition create negw --mem 8M --weight -5",
		"partition create bigw --mem 8M --weight 10001",
		"partition create novalue --mem 8M --weight",
		"partition create unk --mem 8M --bogus",
		"partition create huge --mem 999T",
		"partition create bad/name --mem 8M",
		"partition create -- --mem 8M",
		"partition create minmax --mem 8M --min 16M",
		"partition create nouser --mem 8M --uid nosuchuser",
		"partition create nogroup --mem 8M --gid nosuchgroup",
		"partition create nodev --mem 8M --device 7",
		"partition create keep --mem 8M",
		"partition set keep --mem 12Q",
		"partition set keep --weight -1",
		"partition set keep --weight 10001",
		"partition set keep --min 64M",
		"partition set keep --bogus",
		"partition set nosuch --mem 8M",
		"partition set",
		"partition delete nosuch",
		"partition delete",
		"partition frobnicate",
		"frobnicate",
		"status --bogus",
	};
	struct ash_partition_info pi = {0};
	struct vt_snap snap;
	struct stat st;
	char obj[1024];
	int i;

	vt_init("ashctl_cli", 120);
	if (stat(VT_ASHCTL, &st)) {
		printf("FAIL: %s is missing\n", VT_ASHCTL);
		return 1;
	}

	EXPECT_EQ(run("--help"), 0, "ashctl --help exit status");
	EXPECT(strstr(out, "partition") != NULL, "ashctl --help does not mention 'partition': %.200s",
	       out);
	EXPECT_EQ(run("status"), 0, "ashctl status exit status");
	EXPECT_EQ(run("status --json"), 0, "ashctl status --json exit status");
	EXPECT_EQ(run("contexts --json"), 0, "ashctl contexts --json exit status");
	EXPECT_EQ(vt_json_objects(out, NULL, 0), 0, "objects in ashctl contexts --json with none bound");

	/* An existing partition the bad 'set's aim at. */
	vt_part_new("keep", 32 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_snap_take(&snap);
	for (i = 0; i < NEL(refused); i++)
		expect_refused(refused[i]);
	vt_snap_expect_same(&snap, "after refused ashctl commands");
	EXPECT(!listed("badsize", obj) && !listed("negw", obj) && !listed("minmax", obj),
	       "a refused create shows in partition list --json");

	/* Round trip. */
	vt_part_track("rt");
	EXPECT_EQ(run("partition create rt --mem 64M --min 16M --weight 250 --uid alice "
		      "--uid 1001 --gid orgc"), 0, "ashctl partition create rt exit status");
	if (EXPECT_OK(vt_part_info("rt", &pi), "PART_INFO rt after ashctl create")) {
		EXPECT_EQ(pi.mem_max, 64 * MiB, "rt mem_max (--mem 64M)");
		EXPECT_EQ(pi.mem_min, 16 * MiB, "rt mem_min (--min 16M)");
		EXPECT_EQ(pi.weight, 250, "rt weight");
		EXPECT_EQ(pi.device, 0, "rt device");
		EXPECT_EQ(pi.nr_uids, 2, "rt nr_uids");
		EXPECT_EQ(pi.uids[0] == VT_ALICE ? pi.uids[1] : pi.uids[0], VT_BOB,
			  "rt uids hold 1001 beside alice");
		EXPECT(pi.uids[0] == VT_ALICE || pi.uids[1] == VT_ALICE, "rt uids lack alice (1000)");
		EXPECT_EQ(pi.nr_gids, 1, "rt nr_gids");
		EXPECT_EQ(pi.gids[0], VT_ORGC, "rt gids[0] (--gid orgc)");
	}
	EXPECT_EQ(run("partition list"), 0, "ashctl partition list exit status");
	EXPECT(strstr(out, "rt") != NULL, "ashctl partition list does not show rt: %.300s", out);
	if (EXPECT(listed("rt", obj), "partition list --json has no rt")) {
		expect_member(obj, "mem_max", 64 * MiB);
		expect_member(obj, "mem_min", 16 * MiB);
		expect_member(obj, "mem_used", 0);
		expect_member(obj, "weight", 250);
		expect_member(obj, "device", 0);
		expect_member(obj, "contexts", 0);
		expect_member(obj, "busy_ns", 0);
	}
	EXPECT_EQ(run("partition set rt --mem 64K --min 0"), 0,
		  "ashctl partition set rt --mem 64K --min 0 exit status");
	EXPECT_EQ(vt_part("rt").mem_max, 64 * KiB, "rt mem_max after --mem 64K");
	EXPECT_EQ(run("partition set rt --mem 1048576"), 0,
		  "ashctl partition set rt --mem 1048576 exit status");
	EXPECT_EQ(vt_part("rt").mem_max, 1 * MiB, "rt mem_max after --mem 1048576 (plain bytes)");
	EXPECT_EQ(run("partition delete rt"), 0, "ashctl partition delete rt exit status");
	EXPECT_ERR(vt_part_info("rt", &pi), -ENOENT, "rt after ashctl delete");
	EXPECT(!listed("rt", obj), "rt still in partition list --json after delete");
	EXPECT(listed("keep", obj), "keep missing from partition list --json");

	EXPECT_OK(vt_part_delete("keep"), "delete keep");
	return vt_result();
}
