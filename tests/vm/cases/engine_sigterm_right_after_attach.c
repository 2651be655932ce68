// SPDX-License-Identifier: MIT
/*
 * Regression: accelshare-engine attached to the device before it installed
 * its SIGTERM handler, so a SIGTERM that arrived as soon as the device
 * reported an engine killed it (exit 143) instead of detaching it cleanly
 * (exit 0, as docs/engine.md promises).  Found by crash_engine_random_kill.
 *
 * Twenty times: start the engine, SIGTERM it the moment the device shows
 * it attached, and expect a clean exit and the device without an engine.
 */
#include <signal.h>
#include <stdio.h>

#include "vmtest.h"
#include "vtexec.h"

int main(void)
{
	int clean = 0;

	vt_init("engine_sigterm_right_after_attach", 180);
	for (int i = 0; i < 20; i++) {
		/* vx_engine_start() returns as soon as the device has it. */
		pid_t pid = vx_engine_start("1");
		int st = vx_engine_stop(pid, SIGTERM);

		if (EXPECT_EQ(st, 0, "engine's exit status after an early SIGTERM"))
			clean++;
	}
	printf("%d of 20 engines stopped cleanly by a SIGTERM right after attaching\n",
	       clean);
	return vt_result();
}
