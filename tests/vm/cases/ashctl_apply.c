// SPDX-License-Identifier: MIT
/*
 * ashctl apply and export against the real driver (accelshare.conf(5)):
 *  - --dry-run prints the plan (a device setting, a deletion, a change, a
 *    creation) and changes nothing;
 *  - apply makes exactly those changes, and again changes nothing;
 *  - export of the result applies as nothing to change;
 *  - refused, changing nothing (snapshot before and after): a syntax error
 *    (with its line), guarantees over the device's capacity, a partition
 *    the file leaves out that still has a context bound;
 *  - a step the driver refuses although the plan passed (a guarantee the
 *    memory in use cannot give) takes back the steps made before it.
 */
#include "vmtest.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CONF	"/tmp/apply.conf"
#define EXPORT	"/tmp/export.conf"

static char out[65536];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	REQUIRE(f, "create %s", path);
	fputs(text, f);
	REQUIRE(fclose(f) == 0, "write %s", path);
}

/* ashctl @args with stderr too: its exit status. */
static int ashctl(const char *args)
{
	return vt_sh(out, sizeof(out), VT_ASHCTL " %s 2>&1", args);
}

static bool exists(const char *name)
{
	struct ash_partition_info pi;

	return vt_part_info(name, &pi) == 0;
}

/* The file refused with @want in the message; nothing changed. */
static void expect_refused(const char *text, const char *want)
{
	struct vt_snap before;
	int st;

	write_file(CONF, text);
	vt_snap_take(&before);
	st = ashctl("apply " CONF);
	EXPECT_EQ(st, 1, "exit status of ashctl apply of a bad file");
	EXPECT(strstr(out, want) && strstr(out, "nothing was changed"),
	       "ashctl apply: expected \"%s\" and \"nothing was changed\", got: %.600s",
	       want, out);
	vt_snap_expect_same(&before, "after a refused apply");
}

int main(void)
{
	struct ash_partition_info pi;
	struct vt_snap before;
	char text[2048];
	uint32_t slice;
	int fd;

	vt_init("ashctl_apply", 120);
	vt_part_new("old", 4 * MiB, 0, VT_ROOT, (gid_t)-1);
	vt_part_new("mod", 8 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_track("new");
	vt_part_track("new2");
	slice = vt_dev().slice_us;
	REQUIRE(slice != 3000, "the default slice is 3000 us already");

	snprintf(text, sizeof(text),
		 "# the declared state\n"
		 "[device 0]\n"
		 "slice_us = 3000\n"
		 "\n"
		 "[partition mod]\n"
		 "mem = 16M\n"
		 "weight = 300\n"
		 "uid = %u\n"
		 "\n"
		 "[partition new]\n"
		 "device = host\n"
		 "mem = 4M\n"
		 "min = 1M\n"
		 "gid = %u\n", (unsigned int)VT_ALICE, (unsigned int)VT_ORGA);
	write_file(CONF, text);

	/* --dry-run: the plan, and nothing else. */
	vt_snap_take(&before);
	EXPECT_EQ(ashctl("apply --dry-run " CONF), 0, "ashctl apply --dry-run exit status");
	EXPECT(strstr(out, "device 0 (host): slice_us ") &&
	       strstr(out, "delete partition \"old\" on device 0 (host)\n") &&
	       strstr(out, "set partition \"mod\": mem 8M -> 16M, min 0 -> 0, weight 100 -> 300\n") &&
	       strstr(out, "create partition \"new\" on device 0 (host): mem 4M, min 1M, weight 100,") &&
	       strstr(out, "dry run: 4 changes, none made\n"),
	       "ashctl apply --dry-run printed: %.1000s", out);
	vt_snap_expect_same(&before, "after apply --dry-run");
	EXPECT_EQ(vt_dev().slice_us, slice, "slice after apply --dry-run");

	/* apply: exactly those changes. */
	EXPECT_EQ(ashctl("apply " CONF), 0, "ashctl apply exit status");
	EXPECT(strstr(out, "applied 4 changes\n"), "ashctl apply printed: %.1000s", out);
	EXPECT_EQ(vt_dev().slice_us, 3000, "slice after apply");
	EXPECT(!exists("old"), "partition old still there after apply");
	pi = vt_part("mod");
	EXPECT_EQ(pi.mem_max, 16 * MiB, "mod's cap after apply");
	EXPECT_EQ(pi.weight, 300, "mod's weight after apply");
	EXPECT(pi.nr_uids == 1 && pi.uids[0] == VT_ALICE && pi.nr_gids == 0,
	       "mod's access list after apply: %u uids, %u gids", pi.nr_uids,
	       pi.nr_gids);
	pi = vt_part("new");
	EXPECT_EQ(pi.mem_max, 4 * MiB, "new's cap");
	EXPECT_EQ(pi.mem_min, 1 * MiB, "new's guarantee");
	EXPECT(pi.nr_uids == 0 && pi.nr_gids == 1 && pi.gids[0] == VT_ORGA,
	       "new's access list: %u uids, %u gids", pi.nr_uids, pi.nr_gids);

	/* Again: nothing to do. */
	vt_snap_take(&before);
	EXPECT_EQ(ashctl("apply " CONF), 0, "second ashctl apply exit status");
	EXPECT(strstr(out, "nothing to change"), "second ashctl apply printed: %.600s", out);
	vt_snap_expect_same(&before, "after applying the same file again");

	/* export, applied back: nothing to do. */
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " export > " EXPORT), 0,
		  "ashctl export exit status");
	EXPECT_EQ(ashctl("apply " EXPORT), 0, "ashctl apply of the export exit status");
	EXPECT(strstr(out, "nothing to change"), "apply of the export printed: %.600s", out);
	EXPECT_EQ(vt_sh(out, sizeof(out), "grep -A4 '^\\[partition new\\]' " EXPORT), 0,
		  "the export has [partition new]");
	EXPECT(strstr(out, "mem = 4M\nmin = 1M\n"), "the export's [partition new]: %.300s", out);

	/* Refused whole. */
	expect_refused("[partition mod]\nmem = 16M\nweight = 300\nbad line\n",
		       CONF ":4: not a [section]");
	expect_refused("[partition mod]\nmem = 200M\nmin = 200M\n"
		       "[partition new]\nmem = 100M\nmin = 100M\n",
		       "the partitions on device 0 guarantee 300M in all, more than its capacity");
	fd = vt_tenant_open("mod");
	REQUIRE(fd >= 0, "bind mod: %s", vt_errname(fd));
	expect_refused("[partition new]\nmem = 4M\nmin = 1M\n",
		       "partition \"mod\" is not in the file but has 1 context bound");

	/*
	 * A guarantee the driver cannot give: 200 MiB of the device's 256 in
	 * use by mod, new2 asks 100 MiB guaranteed.  The slice, changed first,
	 * is put back.
	 */
	snprintf(text, sizeof(text),
		 "[device 0]\nslice_us = 4000\n"
		 "[partition mod]\nmem = 210M\nweight = 300\nuid = %u\n"
		 "[partition new]\nmem = 4M\nmin = 1M\ngid = %u\n",
		 (unsigned int)VT_ALICE, (unsigned int)VT_ORGA);
	write_file(CONF, text);
	EXPECT_EQ(ashctl("apply " CONF), 0, "raise mod's cap: exit status");
	REQUIRE_OK(vt_buf_alloc(fd, 200 * MiB, NULL, NULL), "mod allocates 200 MiB");
	snprintf(text, sizeof(text),
		 "[device 0]\nslice_us = 5000\n"
		 "[partition mod]\nmem = 210M\nweight = 300\nuid = %u\n"
		 "[partition new]\nmem = 4M\nmin = 1M\ngid = %u\n"
		 "[partition new2]\nmem = 100M\nmin = 100M\n",
		 (unsigned int)VT_ALICE, (unsigned int)VT_ORGA);
	write_file(CONF, text);
	vt_snap_take(&before);
	EXPECT_EQ(ashctl("apply " CONF), 1, "apply that the driver refuses: exit status");
	EXPECT(strstr(out, "the driver refused: create partition \"new2\"") &&
	       strstr(out, "in use or guaranteed to other partitions") &&
	       strstr(out, "the 1 change made before was taken back: nothing was changed"),
	       "apply that the driver refuses printed: %.800s", out);
	EXPECT_EQ(vt_dev().slice_us, 4000, "slice after the taken-back apply");
	EXPECT(!exists("new2"), "new2 exists after the refused apply");
	vt_snap_expect_same(&before, "after the taken-back apply");
	close(fd);

	/* Command lines. */
	EXPECT_EQ(ashctl("apply"), 2, "ashctl apply without FILE");
	EXPECT_EQ(ashctl("apply " CONF " extra"), 2, "ashctl apply FILE extra");
	EXPECT_EQ(ashctl("apply --frob " CONF), 2, "ashctl apply --frob");
	EXPECT_EQ(ashctl("apply /nonexistent.conf"), 1, "ashctl apply of a missing file");
	EXPECT(strstr(out, "cannot read /nonexistent.conf"), "missing file: %.300s", out);
	EXPECT_EQ(ashctl("export extra"), 2, "ashctl export extra");
	EXPECT_EQ(ashctl("apply --help"), 0, "ashctl apply --help");
	EXPECT(strstr(out, "accelshare.conf(5)"), "apply --help: %.300s", out);

	/* Back as the case found it. */
	snprintf(text, sizeof(text), "[device 0]\nslice_us = %u\n", slice);
	write_file(CONF, text);
	EXPECT_EQ(ashctl("apply " CONF), 0, "apply of an empty state: exit status");
	EXPECT(!exists("mod") && !exists("new"), "partitions left after applying none");
	unlink(CONF);
	unlink(EXPORT);
	return vt_result();
}
