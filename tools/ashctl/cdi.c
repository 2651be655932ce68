/* SPDX-License-Identifier: MIT */
/*
 * ashctl cdi generate: a Container Device Interface spec with one device
 * per partition, so that "podman run --device accelshare.dev/partition=P"
 * (or containerd, CRI-O, Docker with CDI) gives a container the tenant
 * node and $ACCELSHARE_PARTITION, and ash_open(NULL, ...) in it binds to P.
 *
 * Only the tenant node goes into containers: the control node stays the
 * host's.  The partition's access list still decides who may bind, so the
 * container's user must be on it, as on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cdi.h"
#include "ctl.h"
#include "ashctl.h"
#include "args.h"

static void warn_skip(void *arg, const char *name)
{
	(void)arg;
	fprintf(stderr,
		"ashctl: partition \"%s\" left out: a CDI device name begins and ends with a letter or digit.\n",
		name);
}

/*
 * Writes @text to @path by way of a temporary file in the same directory,
 * renamed over it: a container runtime reading the directory never sees a
 * half-written spec.
 */
static int write_atomically(const char *path, const char *text)
{
	size_t len = strlen(text), done = 0;
	char *tmp;
	int fd, err = 0;
	ssize_t w;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	while (done < len) {
		w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err = -errno;
			break;
		}
		done += (size_t)w;
	}
	/* Readable by the runtimes, which may not run as root. */
	if (!err && fchmod(fd, 0644))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

/* "ashctl cdi generate [--output FILE]" */
static int cmd_cdi_generate(int argc, char **argv)
{
	struct ash_partition_info *parts = NULL;
	struct json_object *spec = NULL;
	char err[ARGS_ERR_MAX];
	const char *output, *node, *text;
	bool help;
	size_t n = 0;
	int fd, ret;

	if (args_output_parse("cdi generate", argc, argv, &output, &help, err,
			      sizeof(err)))
		return usage_error(err);
	if (help) {
		help_print("cdi generate", stdout);
		return EXIT_OK;
	}
	node = getenv("ACCELSHARE_DEVICE");
	if (!node || !*node)
		node = CDI_TENANT_NODE;
	fd = ctl_open();
	if (fd < 0)
		return EXIT_FAIL;
	ret = ctl_partitions(fd, &parts, &n);
	close(fd);
	if (ret) {
		ctl_error("cannot list partitions", ret);
		return EXIT_FAIL;
	}
	spec = cdi_spec(parts, n, node, warn_skip, NULL);
	free(parts);
	if (!spec) {
		fprintf(stderr, "ashctl: out of memory building the CDI spec.\n");
		return EXIT_FAIL;
	}
	text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	ret = EXIT_OK;
	if (!output) {
		if (puts(text) < 0)
			ret = EXIT_FAIL;
	} else {
		char *line;

		if (asprintf(&line, "%s\n", text) < 0) {
			ret = -ENOMEM;
		} else {
			ret = write_atomically(output, line);
			free(line);
		}
		if (ret) {
			fprintf(stderr, "ashctl: cannot write %s: %s.\n",
				output, strerror(-ret));
			ret = EXIT_FAIL;
		}
	}
	json_object_put(spec);
	return ret;
}

int cmd_cdi(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("cdi needs a command: generate");
	if (is_help(argv[1])) {
		help_print("cdi", stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "generate"))
		return cmd_cdi_generate(argc - 1, argv + 1);
	fprintf(stderr,
		"ashctl: unknown cdi command \"%s\" (expected generate).\n",
		argv[1]);
	return EXIT_USAGE;
}
