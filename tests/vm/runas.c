/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * runas USER COMMAND [ARG]... - run COMMAND as USER (a name from /etc/passwd
 * or a number), with USER's primary and supplementary groups from
 * /etc/group.  The VM initramfs has busybox but no su/shadow; tests and the
 * demo use this to act as a tenant.  Must be started as root.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct passwd *pw;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: runas USER COMMAND [ARG]...\n");
		return 2;
	}
	errno = 0;
	pw = getpwnam(argv[1]);
	if (!pw) {
		unsigned long uid = strtoul(argv[1], &end, 10);

		if (*argv[1] && !*end)
			pw = getpwuid((uid_t)uid);
	}
	if (!pw) {
		fprintf(stderr, "runas: no user '%s' in /etc/passwd\n", argv[1]);
		return 2;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0) {
		fprintf(stderr, "runas: initgroups(%s): %s\n", pw->pw_name, strerror(errno));
		return 2;
	}
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		fprintf(stderr, "runas: cannot become %s: %s\n", pw->pw_name, strerror(errno));
		return 2;
	}
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	setenv("HOME", pw->pw_dir, 1);
	execvp(argv[2], argv + 2);
	fprintf(stderr, "runas: cannot run %s: %s\n", argv[2], strerror(errno));
	return 127;
}
