/* SPDX-License-Identifier: MIT */
/*
 * ashctl top: devices, partitions and contexts, refreshed every second
 * until q (or ^C); with stdout or stdin not a terminal, one snapshot whose
 * rates are over one second.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "ashctl.h"
#include "ctl.h"
#include "top.h"

#define TOP_INTERVAL_MS 1000

static volatile sig_atomic_t top_stop;

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

static void sample_free(struct top_sample *s)
{
	free(s->devs);
	free(s->parts);
	free(s->ctxs);
	memset(s, 0, sizeof(*s));
}

static int sample_take(int fd, struct top_sample *s)
{
	struct timespec ts;
	int ret;

	sample_free(s);
	ret = ctl_devices(fd, &s->devs, &s->nr_devs);
	if (!ret)
		ret = ctl_partitions(fd, &s->parts, &s->nr_parts);
	if (!ret)
		ret = ctl_contexts(fd, &s->ctxs, &s->nr_ctxs);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->t_ns = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
	if (ret) {
		ctl_error("cannot read the device tables", ret);
		sample_free(s);
	}
	return ret;
}

static size_t terminal_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || !ws.ws_row)
		return 24;
	return ws.ws_row;
}

/* Refreshes until q, ^C or SIGTERM; the terminal is left as it was. */
static int top_live(int fd, struct top_sample *prev, struct top_sample *cur)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	struct termios saved, raw;
	int ret = EXIT_OK;
	char c;

	if (tcgetattr(STDIN_FILENO, &saved)) {
		perror("ashctl: cannot read the terminal's settings");
		return EXIT_FAIL;
	}
	raw = saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw)) {
		perror("ashctl: cannot set up the terminal");
		return EXIT_FAIL;
	}
	/* The first screen at once, without rates; then one a second. */
	printf("\033[H\033[2J");
	top_render(stdout, NULL, prev, terminal_rows());
	fflush(stdout);
	while (!top_stop) {
		int n = poll(&in, 1, TOP_INTERVAL_MS);

		if (n < 0 && errno != EINTR) {
			perror("ashctl: poll");
			ret = EXIT_FAIL;
			break;
		}
		if (n > 0) {
			if (read(STDIN_FILENO, &c, 1) == 1 &&
			    (c == 'q' || c == 'Q'))
				break;
			if (in.revents & (POLLHUP | POLLERR))
				break;
			continue;
		}
		if (n < 0)
			continue;
		if (sample_take(fd, cur)) {
			ret = EXIT_FAIL;
			break;
		}
		printf("\033[H\033[2J");
		top_render(stdout, prev, cur, terminal_rows());
		fflush(stdout);
		sample_free(prev);
		*prev = *cur;
		memset(cur, 0, sizeof(*cur));
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return ret;
}

int cmd_top(int argc, char **argv)
{
	struct top_sample prev = { 0 }, cur = { 0 };
	struct simple_opts o;
	char err[ARGS_ERR_MAX];
	int fd, ret;

	if (args_cmd_parse("top", argc, argv, 0, &o, err, sizeof(err)))
		return usage_error(err);
	if (o.help) {
		help_print("top", stdout);
		return EXIT_OK;
	}
	fd = ctl_open();
	if (fd < 0)
		return EXIT_FAIL;
	ret = EXIT_FAIL;
	if (sample_take(fd, &prev))
		goto out;
	if (isatty(STDOUT_FILENO) && isatty(STDIN_FILENO)) {
		ret = top_live(fd, &prev, &cur);
		goto out;
	}
	/* One snapshot, with rates over one interval. */
	usleep(TOP_INTERVAL_MS * 1000);
	if (sample_take(fd, &cur))
		goto out;
	top_render(stdout, &prev, &cur, 0);
	ret = EXIT_OK;
out:
	sample_free(&prev);
	sample_free(&cur);
	close(fd);
	return ret;
}
