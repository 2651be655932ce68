// SPDX-License-Identifier: MIT
/*
 * make install puts the module where modprobe finds it.
 *
 * The runner stages "make install-module DESTDIR=<the VM's root>" into the
 * image (tests/vm/run.sh): the module under /lib/modules/<release>/extra
 * and depmod's files beside it, for the kernel this VM boots.  The case
 * checks that the release is the running kernel's (uname -r) and that
 * modules.dep lists the module, unloads the module the runner loaded, and
 * loads it with "modprobe accelshare" and its parameters: the device nodes
 * come back, the module is the installed file's (same vermagic) and works
 * (a partition is created and bound).  It stays loaded for the runner.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vmtest.h"

static bool dep_lists_module(const char *path)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "extra/accelshare.ko:", 20);
	fclose(f);
	return found;
}

int main(void)
{
	char ko[256], dep[256];
	const char *params;
	struct utsname u;
	int fd, i;

	vt_init("install_modprobe", 60);
	REQUIRE(!uname(&u), "uname");
	snprintf(ko, sizeof(ko), "/lib/modules/%s/extra/accelshare.ko", u.release);
	snprintf(dep, sizeof(dep), "/lib/modules/%s/modules.dep", u.release);
	REQUIRE(!access(ko, R_OK),
		"%s is not there: make install put the module under another release",
		ko);
	EXPECT(dep_lists_module(dep), "%s does not list extra/accelshare.ko (no depmod?)",
	       dep);

	close(vt_ctl);
	vt_ctl = -1;
	REQUIRE(!syscall(SYS_delete_module, "accelshare", O_NONBLOCK),
		"unload the runner's module: %s", vt_errname(-errno));
	params = getenv("ASH_VM_PARAMS");
	REQUIRE(vt_sh(NULL, 0, "modprobe accelshare %s", params ? params : "") == 0,
		"modprobe accelshare %s", params ? params : "");
	for (i = 0; i < 100 && access(VT_CTL_DEV, F_OK); i++)
		usleep(10000);
	vt_ctl = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(vt_ctl >= 0, "open %s after modprobe: %s", VT_CTL_DEV,
		vt_errname(-errno));
	EXPECT(!access("/sys/module/accelshare", F_OK), "/sys/module/accelshare missing");
	vt_part_new("inst", 4 * MiB, 0, VT_ROOT, (gid_t)-1);
	fd = vt_tenant_open("inst");
	EXPECT(fd >= 0, "bind a partition of the modprobed module: %s",
	       vt_errname(fd < 0 ? fd : 0));
	if (fd >= 0)
		close(fd);
	printf("modprobe accelshare loaded %s (release %s)\n", ko, u.release);
	return vt_result();
}
