# SPDX-License-Identifier: MIT
# examples/: short programs a newcomer copies from, built by make (against
# the library in the build tree, as an installed one with pkg-config) and
# run in the VM suite (case examples_run), so that they never rot.
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(sort $(wildcard examples/*.c)))

userspace: $(EXAMPLES)

$(BUILD)/examples/%: examples/%.c include/accelshare.h examples/build.mk \
		$(LIB_STATIC) | build-deps
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -o $@ $< $(LIB_STATIC) $(RT_LIBS) -lm $(LDFLAGS)
