/* SPDX-License-Identifier: MIT */
/*
 * ashctl's manual: one page per command, printed by --help and "ashctl help
 * COMMAND".
 */
#include <string.h>

#include "ashctl.h"

#define SIZES \
"SIZES\n" \
"    Plain bytes, or a number with a K, M, G or T suffix (powers of 1024;\n" \
"    KiB, MiB, GiB and TiB are accepted too).  A fraction is accepted when\n" \
"    the result is a whole number of bytes: 1.5G is 1610612736.\n\n"

#define EXIT_STATUS \
"EXIT STATUS\n" \
"    0  success.\n" \
"    1  the operation failed (no such partition, permission denied, the\n" \
"       driver refused it, no module loaded); nothing was changed.\n" \
"    2  the command line is wrong; nothing was done.\n\n"

#define ENVIRONMENT \
"ENVIRONMENT\n" \
"    ACCELSHARE_CTL_DEVICE  the control node to use instead of\n" \
"                           /dev/accelshare-ctl.\n\n"

static const struct {
	const char *topic;
	const char *text;
} pages[] = {
{ "ashctl",
"NAME\n"
"    ashctl - administer accelshare accelerator partitions\n\n"
"SYNOPSIS\n"
"    ashctl status [--json]\n"
"    ashctl partition create NAME --mem SIZE [--min SIZE] [--weight N]\n"
"                            [--uid UID]... [--gid GID]... [--device N|NAME]\n"
"                            [--max-contexts N] [--max-buffers N]\n"
"    ashctl partition set NAME [--mem SIZE] [--min SIZE] [--weight N]\n"
"                         [--uid UID]... [--gid GID]... [--root-only]\n"
"                         [--max-contexts N] [--max-buffers N]\n"
"    ashctl partition delete NAME\n"
"    ashctl partition list [--json] [--wide]\n"
"    ashctl device list [--json]\n"
"    ashctl device set N|NAME [--slice-us US] [--job-timeout-ms MS]\n"
"    ashctl contexts [--json]\n"
"    ashctl top\n"
"    ashctl cdi generate [--output FILE]\n"
"    ashctl help [COMMAND [SUBCOMMAND]]\n"
"    ashctl --version\n\n"
"DESCRIPTION\n"
"    accelshare shares a host's accelerators between organizations.  Each\n"
"    organization gets a partition of a device: a hard memory cap, an\n"
"    optional memory guarantee, a compute weight and an access list.\n"
"    Tenant processes bind contexts to a partition and allocate memory that\n"
"    is charged to it, and submit jobs that the device's engine\n"
"    (accelshare-engine) runs, sharing engine time between partitions by\n"
"    weight.  ashctl shows devices, partitions and contexts, creates,\n"
"    changes and deletes partitions and tunes devices, live, through the\n"
"    control node /dev/accelshare-ctl.  Everything needs root.\n\n"
"    Every command takes --help.  Arguments are all checked before anything\n"
"    is changed; errors are one sentence on stderr.\n\n"
SIZES
EXIT_STATUS
ENVIRONMENT
"SEE ALSO\n"
"    /usr/share/doc/accelshare/admin.md (docs/admin.md in the source):\n"
"    quota semantics, the watchdog and examples.\n" },
{ "status",
"NAME\n"
"    ashctl status - show devices and partitions at a glance\n\n"
"SYNOPSIS\n"
"    ashctl status [--json]\n\n"
"DESCRIPTION\n"
"    Prints one block per device: kind, NUMA node, scheduler time slice;\n"
"    memory used of capacity and how much of it is guaranteed to\n"
"    partitions; number of partitions and contexts; whether an engine is\n"
"    attached (and its pid), the jobs queued for it and the engine time\n"
"    used.  Without an engine, submitted jobs wait in their queues until\n"
"    accelshare-engine attaches.\n\n"
"    Then a table of all partitions: cap (MEM_MAX), guarantee (MEM_MIN),\n"
"    memory used, use as a percentage of the cap (USED%), weight, bound\n"
"    contexts (CTX), engine time used (BUSY) and its SHARE of the engine\n"
"    time used on its device (see \"ashctl partition list --help\").\n\n"
"OPTIONS\n"
"    --json  print a JSON object instead: \"devices\", an array as printed\n"
"            by \"ashctl device list --json\", and \"partitions\", an array\n"
"            as printed by \"ashctl partition list --json\".\n"
"    --help  print this page.\n\n"
EXIT_STATUS
"EXAMPLES\n"
"    ashctl status\n"
"    ashctl status --json | jq '.devices[0].mem_used'\n"
"    ashctl status --json | jq '.devices[] | select(.engine | not).id'\n" },
{ "partition",
"NAME\n"
"    ashctl partition - create, change, delete and list partitions\n\n"
"SYNOPSIS\n"
"    ashctl partition create NAME --mem SIZE [OPTION]...\n"
"    ashctl partition set NAME OPTION...\n"
"    ashctl partition delete NAME\n"
"    ashctl partition list [--json] [--wide]\n\n"
"DESCRIPTION\n"
"    A partition is one organization's share of one device.  See\n"
"    \"ashctl partition COMMAND --help\" for each command.\n\n"
"    Partition names are 1 to 31 characters of letters, digits, '_', '.'\n"
"    and '-', not starting with '-' or '.', unique across devices.\n\n"
EXIT_STATUS },
{ "partition create",
"NAME\n"
"    ashctl partition create - carve a new partition out of a device\n\n"
"SYNOPSIS\n"
"    ashctl partition create NAME --mem SIZE [--min SIZE] [--weight N]\n"
"                            [--uid UID]... [--gid GID]... [--device N|NAME]\n"
"                            [--max-contexts N] [--max-buffers N]\n\n"
"DESCRIPTION\n"
"    Creates partition NAME on a device.  Its tenants may together hold at\n"
"    most --mem bytes of device memory; each allocation is charged in whole\n"
"    pages and refused (EDQUOT) if it would pass the cap.  --min bytes are\n"
"    guaranteed: no other partition may allocate them while they are\n"
"    unused.  The sum of all guarantees on a device never exceeds its\n"
"    capacity, and a guarantee is given only if that memory is free now.\n\n"
"OPTIONS\n"
"    --mem SIZE          hard memory cap, 1 byte up to the device's\n"
"                        capacity.  Required.\n"
"    --min SIZE          guaranteed memory, at most --mem (default 0).\n"
"    --weight N          compute weight, 1..10000 (default 100): the share\n"
"                        of engine time relative to other partitions.\n"
"    --uid UID           a user (name or number) who may bind to the\n"
"                        partition.  Repeatable, up to 16.\n"
"    --gid GID           a group whose members may bind.  Repeatable, up\n"
"                        to 16.  With no --uid and no --gid only root\n"
"                        (CAP_SYS_ADMIN) may bind; root always may.\n"
"    --device N|NAME     the device to carve it from, by number or name\n"
"                        (default 0).\n"
"    --max-contexts N    contexts that may be bound at once (default 1024).\n"
"    --max-buffers N     buffers each context may hold, 1..1048576\n"
"                        (default 4096).\n"
"    --help              print this page.\n\n"
SIZES
EXIT_STATUS
"EXAMPLES\n"
"    ashctl partition create research --mem 8G --min 2G --weight 200 \\\n"
"        --gid research\n"
"    ashctl partition create batch --mem 512M --uid 1001 --uid 1002\n" },
{ "partition set",
"NAME\n"
"    ashctl partition set - change a partition, live\n\n"
"SYNOPSIS\n"
"    ashctl partition set NAME [--mem SIZE] [--min SIZE] [--weight N]\n"
"                         [--uid UID]... [--gid GID]... [--root-only]\n"
"                         [--max-contexts N] [--max-buffers N]\n\n"
"DESCRIPTION\n"
"    Changes the given settings of partition NAME and leaves the others as\n"
"    they are.  Tenants keep running: lowering --mem below the memory in\n"
"    use is allowed and only refuses new allocations until use falls\n"
"    below the cap; a raised --min is accepted only if that memory is\n"
"    free now.\n\n"
"    The access list is replaced as a whole: giving any --uid or --gid\n"
"    sets the partition's users AND groups to exactly those given (so\n"
"    \"--uid alice\" alone removes every group).  --root-only empties the\n"
"    list.  Without these options the access list is unchanged.  The list\n"
"    is checked when a context binds: contexts bound already stay bound.\n\n"
"OPTIONS\n"
"    --mem SIZE          new hard memory cap.\n"
"    --min SIZE          new guarantee, at most the cap.\n"
"    --weight N          new compute weight, 1..10000.\n"
"    --uid UID           a user allowed to bind (repeatable, up to 16).\n"
"    --gid GID           a group allowed to bind (repeatable, up to 16).\n"
"    --root-only         only root may bind from now on.\n"
"    --max-contexts N    contexts that may be bound at once.\n"
"    --max-buffers N     buffers each context may hold, 1..1048576.\n"
"    --help              print this page.\n\n"
SIZES
EXIT_STATUS
"EXAMPLES\n"
"    ashctl partition set research --mem 16G\n"
"    ashctl partition set research --gid research --gid ml-ops\n"
"    ashctl partition set batch --root-only\n" },
{ "partition delete",
"NAME\n"
"    ashctl partition delete - delete an unused partition\n\n"
"SYNOPSIS\n"
"    ashctl partition delete NAME\n\n"
"DESCRIPTION\n"
"    Deletes partition NAME and returns its guarantee to the device.  A\n"
"    partition that still has contexts bound is not deleted: stop its\n"
"    tenants first (\"ashctl contexts\" shows them).\n\n"
"OPTIONS\n"
"    --help  print this page.\n\n"
EXIT_STATUS
"EXAMPLES\n"
"    ashctl partition delete batch\n" },
{ "partition list",
"NAME\n"
"    ashctl partition list - show every partition in detail\n\n"
"SYNOPSIS\n"
"    ashctl partition list [--json] [--wide]\n\n"
"DESCRIPTION\n"
"    Prints a table of all partitions: name, device, cap (MEM_MAX),\n"
"    guarantee (MEM_MIN), memory used and as a percentage of the cap,\n"
"    weight, bound contexts (CTX), and:\n\n"
"    BUSY    engine time its jobs used, in seconds.\n"
"    SHARE   BUSY as a percentage of the BUSY of all the partitions on\n"
"            the same device (\"-\" while no job has run there).  With\n"
"            every partition busy, shares follow the weights; an idle\n"
"            partition's unused turn goes to the others.  It counts\n"
"            from the partitions' creation: for an interval, compare two\n"
"            samples of busy_ns.\n"
"    JOBS    jobs completed, failed ones included.\n"
"    FAILED  jobs that completed with an error, were cancelled (the\n"
"            tenant exited with jobs queued) or were running when the\n"
"            engine died.\n"
"    WAIT    the mean time a job waited in its queue before the engine\n"
"            took it (total wait / JOBS; \"-\" before the first job).\n"
"    ACCESS  who may bind: \"root\", or the users and groups.\n\n"
"OPTIONS\n"
"    --wide  add the partition's id, the buffers held (BUFS, including\n"
"            freed buffers still mapped) and its limits (MAX_CTX contexts,\n"
"            MAX_BUFS buffers per context).\n"
"    --json  print a JSON array; each element has id, name, device,\n"
"            mem_max, mem_min, mem_used (bytes), weight, contexts,\n"
"            buffers, max_contexts, max_buffers, busy_ns, share (a number\n"
"            from 0 to 1, or null), jobs_completed, jobs_failed,\n"
"            jobs_timed_out, wait_ns (total, nanoseconds), jobs_queued\n"
"            (waiting now), uids and gids.\n"
"    --help  print this page.\n\n"
EXIT_STATUS
"EXAMPLES\n"
"    ashctl partition list\n"
"    ashctl partition list --wide\n"
"    ashctl partition list --json | jq -r '.[] | select(.mem_used > 0).name'\n"
"    ashctl partition list --json | jq '.[] | {name, share}'\n" },
{ "device",
"NAME\n"
"    ashctl device - show and tune devices\n\n"
"SYNOPSIS\n"
"    ashctl device list [--json]\n"
"    ashctl device set N|NAME [--slice-us US] [--job-timeout-ms MS]\n\n"
"DESCRIPTION\n"
"    A device is an accelerator: its memory, carved into partitions, and\n"
"    its engine time, shared between them.  Devices are numbered from 0.\n"
"    See \"ashctl device COMMAND --help\" for each command.\n\n"
EXIT_STATUS },
{ "device list",
"NAME\n"
"    ashctl device list - show every device\n\n"
"SYNOPSIS\n"
"    ashctl device list [--json]\n\n"
"DESCRIPTION\n"
"    Prints a table of all devices: number, name, kind (host; nomap;\n"
"    engine: memory its engine owns, a GPU's, registered by\n"
"    accelshare-engine --register), the engine's backend (cpu, cuda),\n"
"    NUMA node, memory capacity, memory used, memory guaranteed to\n"
"    partitions, partitions (PARTS), bound contexts (CTX), scheduler time\n"
"    slice, the engine (\"pid N\", or \"none\": jobs then wait until\n"
"    accelshare-engine attaches), jobs queued for it, the engine time used\n"
"    (BUSY), the job watchdog (TIMEOUT: a job running longer fails with\n"
"    -ETIMEDOUT), the engine's job budget (BUDGET: the cost, in op-table\n"
"    units, above which the engine refuses a job with -E2BIG; calibrated by\n"
"    the engine when it attaches, \"-\" without an engine) and the GPU\n"
"    (model and PCI bus id, \"-\" for none).\n\n"
"OPTIONS\n"
"    --json  print a JSON array; each element has id, name, kind,\n"
"            backend (null for none), gpu (null, or an object with model,\n"
"            index, pci_bus_id and numa_node), persistent (whether the\n"
"            memory outlives the engine), mem_scrubbing (bytes freed and\n"
"            waiting for the engine to scrub them), buffers_lost (buffers\n"
"            an engine's death lost), numa_node (-1 for any),\n"
"            mem_capacity, mem_used, mem_min_total (bytes), partitions,\n"
"            contexts, slice_us, engine (true or false), engine_pid (0\n"
"            without an engine, or when it is not visible in this pid\n"
"            namespace), busy_ns, jobs_queued, job_timeout_ms, job_budget\n"
"            (0 without an engine) and jobs_timed_out.\n"
"    --help  print this page.\n\n"
EXIT_STATUS
"EXAMPLES\n"
"    ashctl device list\n"
"    ashctl device list --json | jq '.[] | select(.jobs_queued > 0).id'\n"
"    ashctl device list --json | jq '.[] | select(.kind == \"engine\").name'\n" },
{ "device set",
"NAME\n"
"    ashctl device set - tune a device, live\n\n"
"SYNOPSIS\n"
"    ashctl device set N|NAME [--slice-us US] [--job-timeout-ms MS]\n\n"
"DESCRIPTION\n"
"    Changes the scheduler time slice of device N: the engine time a\n"
"    context gets, job after job, before the scheduler gives the next turn\n"
"    to another context (partitions by weight, then the contexts of a\n"
"    partition equally).  The engine also splits its work so that no job\n"
"    runs much longer than a slice.  A short slice gives tenants quicker\n"
"    turns at the cost of more switching; a long one the opposite.  The\n"
"    change applies at once, to the running slice too, and to every job\n"
"    the engine fetches from now on.  A device starts with the module's\n"
"    slice_us parameter (default 2000).\n\n"
"    Or changes the job watchdog: a job the engine runs for longer than\n"
"    MS fails with -ETIMEDOUT, its time so far charged to its partition;\n"
"    an engine that then does not give the job back within another MS is\n"
"    detached and killed, and a context with 3 timed-out jobs is banned\n"
"    (-ECANCELED for its further submissions).  Jobs are bounded by the\n"
"    engine's budget to about a slice, so the watchdog only catches an\n"
"    engine that is stuck or far slower than it measured.  It applies to\n"
"    jobs fetched from now on.  A device starts with the module's\n"
"    job_timeout_ms parameter (default 10000).\n\n"
"OPTIONS\n"
"    --slice-us US        the time slice in microseconds, 100..1000000.\n"
"    --job-timeout-ms MS  the watchdog in ms, 10..3600000.\n"
"                         At least one of the two is required.\n"
"    --help               print this page.\n\n"
EXIT_STATUS
"EXAMPLES\n"
"    ashctl device set 0 --slice-us 500\n"
"    ashctl device set 0 --job-timeout-ms 2000\n" },
{ "contexts",
"NAME\n"
"    ashctl contexts - show the tenant contexts bound now\n\n"
"SYNOPSIS\n"
"    ashctl contexts [--json]\n\n"
"DESCRIPTION\n"
"    Prints one line per bound context: its id, the process that opened it\n"
"    (\"-\" if not visible in this pid namespace), that process's user, the\n"
"    partition and device, the memory charged to its buffers, its buffers,\n"
"    the engine time it used (BUSY), its jobs completed (JOBS, failed ones\n"
"    included), those that failed or were cancelled (FAILED) and the mean\n"
"    time a job waited in its queue (WAIT; total wait / JOBS).\n\n"
"OPTIONS\n"
"    --json  print a JSON array; each element has id, pid, uid, partition,\n"
"            partition_id, device, mem_used (bytes), buffers, busy_ns,\n"
"            jobs_completed, jobs_failed, jobs_timed_out, banned (true\n"
"            once its submissions fail with -ECANCELED) and wait_ns\n"
"            (total, nanoseconds).\n"
"    --help  print this page.\n\n"
EXIT_STATUS
"EXAMPLES\n"
"    ashctl contexts\n"
"    ashctl contexts --json | jq '[.[] | .mem_used] | add'\n" },
{ "top",
"NAME\n"
"    ashctl top - a live view of devices, partitions and contexts\n\n"
"SYNOPSIS\n"
"    ashctl top\n\n"
"DESCRIPTION\n"
"    Shows, refreshed every second until q or ^C:\n"
"    - per device: memory used and capacity, the engine (its pid, or\n"
"      none), BUSY (engine time over wall time in the last second) and\n"
"      the jobs queued;\n"
"    - per partition: memory used and its cap, ENGINE (its share of the\n"
"      device's engine time in the last second), jobs completed per\n"
"      second, jobs queued and contexts bound;\n"
"    - per context: its process, user, partition, memory, ENGINE and\n"
"      jobs per second as for partitions.\n"
"    Lines fit 80 columns; rows that do not fit the terminal are counted\n"
"    on the last line.  Rates are \"-\" on the first screen and for what\n"
"    appeared since the last one.\n\n"
"    When stdout or stdin is not a terminal, prints one snapshot, with\n"
"    rates over one second, and exits: for scripts and logs.\n\n"
"OPTIONS\n"
"    --help  print this page.\n\n"
EXIT_STATUS
"EXAMPLES\n"
"    ashctl top\n"
"    ashctl top | grep -A20 ^PARTITION\n" },
{ "cdi",
"NAME\n"
"    ashctl cdi - Container Device Interface specs for the partitions\n\n"
"SYNOPSIS\n"
"    ashctl cdi generate [--output FILE]\n\n"
"DESCRIPTION\n"
"    See \"ashctl cdi generate --help\".\n" },
{ "cdi generate",
"NAME\n"
"    ashctl cdi generate - write a CDI spec with one device per partition\n\n"
"SYNOPSIS\n"
"    ashctl cdi generate [--output FILE]\n\n"
"DESCRIPTION\n"
"    Prints a Container Device Interface spec (JSON, cdiVersion 0.5.0) of\n"
"    kind accelshare.dev/partition with one device per partition, named\n"
"    as the partition is.  A container given device\n"
"    accelshare.dev/partition=NAME gets the tenant node /dev/accelshare\n"
"    and ACCELSHARE_PARTITION=NAME, so that ash_open(NULL, ...) in it binds\n"
"    to NAME.  The control node is never given to containers.  Binding\n"
"    still follows the partition's access list: the container's user must\n"
"    be on it, as on the host.\n\n"
"    A partition whose name does not begin and end with a letter or digit\n"
"    (the CDI rule for device names) is left out, with a warning.  Run it\n"
"    again after partitions are created or deleted: the spec is what is\n"
"    there now.\n\n"
"OPTIONS\n"
"    --output FILE, -o FILE  write the spec to FILE (mode 0644) instead of\n"
"                            stdout, by way of a temporary file renamed\n"
"                            over it, so that a runtime never reads half of\n"
"                            one.  Container runtimes read\n"
"                            /etc/cdi/*.json and /var/run/cdi/*.json.\n"
"    --help                  print this page.\n\n"
"ENVIRONMENT\n"
"    ACCELSHARE_DEVICE      the host's tenant node, if not\n"
"                           /dev/accelshare; it is still /dev/accelshare\n"
"                           in the container.\n"
"    ACCELSHARE_CTL_DEVICE  as for every command.\n\n"
EXIT_STATUS
"EXAMPLES\n"
"    ashctl cdi generate --output /etc/cdi/accelshare.json\n"
"    podman run --device accelshare.dev/partition=acme IMAGE ash-run ...\n" },
};

int help_print(const char *topic, FILE *f)
{
	size_t i;

	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		if (!strcmp(pages[i].topic, topic)) {
			fputs(pages[i].text, f);
			return 0;
		}
	}
	return -1;
}
