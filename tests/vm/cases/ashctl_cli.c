// SPDX-License-Identifier: MIT
/*
 * ashctl inside the VM (invariant 6 for command-line arguments): bad
 * arguments exit non-zero with a message on stderr and change nothing;
 * --help works; create / list / list --json / delete round-trip, with sizes,
 * guarantees, weights and uid/gid names reaching the driver as given;
 * `device list --json` and `status --json` report the engine, busy time,
 * queued jobs and time slice; `device set N --slice-us US` reaches the
 * driver and is checked (100..1000000) before it; `cdi generate` writes a
 * CDI spec of the partitions there are, leaving out (with a warning) a name
 * CDI cannot take; `top` piped prints one snapshot in 80 columns.
 */
#include "vmtest.h"

#include <dirent.h>
#include <stdio.h>
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

/*
 * `top` with stdout not a terminal: one snapshot, exit 0, every line in 80
 * columns, the partition "keep" in it.
 */
static void expect_top_snapshot(void)
{
	const char *p, *nl;
	int longest = 0;

	if (!EXPECT_EQ(run("top < /dev/null"), 0, "ashctl top (not a terminal) exit status"))
		return;
	for (p = out; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl - p > longest)
			longest = (int)(nl - p);
		if (!*nl)
			break;
	}
	EXPECT(longest <= 80, "ashctl top: a line of %d columns in %.600s", longest, out);
	EXPECT(strstr(out, "\nPARTITION") != NULL && strstr(out, "\nkeep ") != NULL,
	       "ashctl top: no partition keep in %.600s", out);
	expect_refused("top --json");
}

/* Files in /tmp/cdi whose names begin with "accelshare.json". */
static int cdi_files(void)
{
	DIR *d = opendir("/tmp/cdi");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "accelshare.json", 15);
	closedir(d);
	return n;
}

/*
 * `cdi generate`: to stdout, and to a file, atomically (no temporary file
 * left), readable by all; "keep" is a device, "_hidden" cannot be one.
 */
static void expect_cdi_spec(void)
{
	static char spec[65536];
	struct stat st;
	FILE *f;
	size_t n;

	vt_part_new("_hidden", 1 * MiB, 0, VT_ALICE, (gid_t)-1);
	EXPECT_EQ(run("cdi generate 2>&1"), 0, "ashctl cdi generate exit status");
	EXPECT(strstr(out, "\"kind\": \"accelshare.dev/partition\"") != NULL,
	       "cdi generate: no kind accelshare.dev/partition in %.300s", out);
	EXPECT(strstr(out, "\"name\": \"keep\"") != NULL &&
	       strstr(out, "\"ACCELSHARE_PARTITION=keep\"") != NULL &&
	       strstr(out, "\"path\": \"/dev/accelshare\"") != NULL,
	       "cdi generate: no device for keep in %.600s", out);
	EXPECT(strstr(out, "partition \"_hidden\" left out") != NULL &&
	       !strstr(out, "\"name\": \"_hidden\""),
	       "cdi generate: _hidden not left out with a warning: %.600s", out);
	EXPECT(!strstr(out, "accelshare-ctl"), "cdi generate gives the control node: %.600s",
	       out);

	mkdir("/tmp/cdi", 0755);
	if (!EXPECT_EQ(run("cdi generate --output /tmp/cdi/accelshare.json"), 0,
		       "ashctl cdi generate --output exit status"))
		goto out;
	EXPECT_EQ(cdi_files(), 1, "files in /tmp/cdi after cdi generate --output");
	if (!EXPECT_OK(stat("/tmp/cdi/accelshare.json", &st) ? -errno : 0,
		       "stat the spec cdi generate wrote"))
		goto out;
	EXPECT_EQ(st.st_mode & 0777, 0644, "mode of the spec cdi generate wrote");
	f = fopen("/tmp/cdi/accelshare.json", "r");
	if (!EXPECT(f != NULL, "cannot open the spec cdi generate wrote"))
		goto out;
	n = fread(spec, 1, sizeof(spec) - 1, f);
	spec[n] = 0;
	fclose(f);
	EXPECT(strstr(spec, "\"ACCELSHARE_PARTITION=keep\"") != NULL,
	       "the spec cdi generate wrote has no device for keep: %.300s", spec);
	expect_refused("cdi generate --output /nonexistent/dir/spec.json");
	expect_refused("cdi generate --output");
	expect_refused("cdi generate extra");
	expect_refused("cdi frobnicate");
out:
	unlink("/tmp/cdi/accelshare.json");
	rmdir("/tmp/cdi");
	EXPECT_OK(vt_part_delete("_hidden"), "delete _hidden");
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

/* The text of member @key's value in JSON object @obj, or NULL. */
static const char *member(const char *obj, const char *key)
{
	char pat[80];
	const char *v;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	v = strstr(obj, pat);
	if (!v)
		return NULL;
	for (v += strlen(pat); *v == ' ' || *v == '\n'; v++)
		;
	return v;
}

/* Device 0's object in the first JSON array of `ashctl @args`, or false. */
static bool device0_json(const char *args, char obj[1024])
{
	static char objs[16][1024];
	uint64_t id;
	int i, k;

	if (!EXPECT_EQ(run(args), 0, args))
		return false;
	k = vt_json_objects(out, objs, 16);
	if (!EXPECT(k >= 1, "ashctl %s: no JSON array of devices in %.300s", args, out))
		return false;
	for (i = 0; i < k && i < 16; i++) {
		if (vt_json_u64(objs[i], "id", &id) && id == 0) {
			memcpy(obj, objs[i], 1024);
			return true;
		}
	}
	FAIL("ashctl %s: no device 0 in %.300s", args, out);
	return false;
}

/* The engine fields of a device object match DEVICE_INFO @d. */
static void expect_device_json(const char *args, const struct ash_device_info *d)
{
	char obj[1024], what[128];
	const char *v;
	uint64_t u;

	if (!device0_json(args, obj))
		return;
	snprintf(what, sizeof(what), "ashctl %s: device 0 slice_us", args);
	if (EXPECT(vt_json_u64(obj, "slice_us", &u), "%s missing in %.300s", what, obj))
		EXPECT_EQ(u, d->slice_us, what);
	v = member(obj, "engine");
	if (EXPECT(v != NULL, "ashctl %s: device 0 has no \"engine\": %.300s", args, obj))
		EXPECT(!strncmp(v, d->has_engine ? "true" : "false", d->has_engine ? 4 : 5),
		       "ashctl %s: device 0 \"engine\" is %.8s, DEVICE_INFO has_engine %u",
		       args, v, d->has_engine);
	EXPECT(vt_json_u64(obj, "engine_pid", &u), "ashctl %s: no engine_pid in %.300s", args,
	       obj);
	EXPECT(vt_json_u64(obj, "busy_ns", &u), "ashctl %s: no busy_ns in %.300s", args, obj);
	EXPECT(vt_json_u64(obj, "jobs_queued", &u), "ashctl %s: no jobs_queued in %.300s", args,
	       obj);
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
		"status --wide",
		"partition list --bogus",
		"device",
		"device frobnicate",
		"device list --bogus",
		"device list 0",
		"device set",
		"device set 0",
		"device set --slice-us 500",
		"device set 0 --slice-us 99",
		"device set 0 --slice-us 1000001",
		"device set 0 --slice-us 2ms",
		"device set 0 --slice-us -5",
		"device set 0 --slice-us",
		"device set x --slice-us 500",
		"device set 0 1 --slice-us 500",
		"device set 7 --slice-us 500",
	};
	struct ash_device_info dev0, d;
	const char *v;
	uint32_t slice;
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

	EXPECT_EQ(run("device list"), 0, "ashctl device list exit status");
	EXPECT(strstr(out, "SLICE") != NULL, "ashctl device list has no SLICE column: %.300s", out);
	EXPECT_EQ(run("device --help"), 0, "ashctl device --help exit status");
	EXPECT_EQ(run("device set --help"), 0, "ashctl device set --help exit status");
	EXPECT(strstr(out, "--slice-us") != NULL, "ashctl device set --help lacks --slice-us");
	dev0 = vt_dev();
	expect_device_json("device list --json", &dev0);
	expect_device_json("status --json", &dev0);

	/* An existing partition the bad 'set's aim at. */
	vt_part_new("keep", 32 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_snap_take(&snap);
	for (i = 0; i < NEL(refused); i++)
		expect_refused(refused[i]);
	vt_snap_expect_same(&snap, "after refused ashctl commands");
	EXPECT_EQ(vt_dev().slice_us, dev0.slice_us, "device 0 slice_us after refused ashctl commands");

	/* device set: live, read back through DEVICE_INFO and the JSON. */
	slice = dev0.slice_us == 500 ? 750 : 500;
	if (EXPECT_EQ(run(slice == 500 ? "device set 0 --slice-us 500" :
			  "device set 0 --slice-us 750"), 0, "ashctl device set 0 --slice-us exit status")) {
		d = vt_dev();
		EXPECT_EQ(d.slice_us, slice, "device 0 slice_us after ashctl device set");
		expect_device_json("device list --json", &d);
	}
	if (EXPECT_EQ(run("device set 0 --slice-us 100"), 0, "ashctl device set 0 --slice-us 100"))
		EXPECT_EQ(vt_dev().slice_us, 100, "device 0 slice_us after --slice-us 100 (lowest)");
	if (EXPECT_EQ(run("device set 0 --slice-us 1000000"), 0,
		      "ashctl device set 0 --slice-us 1000000"))
		EXPECT_EQ(vt_dev().slice_us, 1000000,
			  "device 0 slice_us after --slice-us 1000000 (highest)");
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "device set 0 --slice-us %u", dev0.slice_us);
		EXPECT_EQ(run(cmd), 0, "ashctl device set restoring the time slice");
		EXPECT_EQ(vt_dev().slice_us, dev0.slice_us, "device 0 slice_us restored");
	}
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
		expect_member(obj, "jobs_completed", 0);
		expect_member(obj, "jobs_failed", 0);
		expect_member(obj, "wait_ns", 0);
		expect_member(obj, "jobs_queued", 0);
		/* No busy time: null, or 0 if others on the device have some. */
		v = member(obj, "share");
		if (EXPECT(v != NULL, "partition list --json rt has no \"share\": %.300s", obj))
			EXPECT(!strncmp(v, "null", 4) || *v == '0',
			       "rt share is %.10s, expected null or 0", v);
	}
	EXPECT_EQ(run("partition list --wide"), 0, "ashctl partition list --wide exit status");
	EXPECT(strstr(out, "MAX_BUFS") != NULL && strstr(out, "rt") != NULL,
	       "ashctl partition list --wide lacks MAX_BUFS or rt: %.300s", out);
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

	expect_cdi_spec();
	expect_top_snapshot();
	EXPECT_OK(vt_part_delete("keep"), "delete keep");
	return vt_result();
}
