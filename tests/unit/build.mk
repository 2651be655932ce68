# SPDX-License-Identifier: MIT
# Host unit tests (cmocka), built with ASan and UBSan.  Included by the
# top-level Makefile; "make unit-test" builds and runs them all.

UNIT_DIR := $(BUILD)/unit
# The code under test is compiled into each test from its sources, with the
# sanitizers, rather than linked from the (unsanitized) libraries.
UNIT_CFLAGS := $(ASH_CFLAGS) $(SANITIZE) -pthread -MMD -MP \
	       -iquote driver -Itools/common -Itools/ashctl
UNIT_LDFLAGS := $(SANITIZE) -pthread $(LDFLAGS)

UNIT_TESTS := $(UNIT_DIR)/test_quota $(UNIT_DIR)/test_range $(UNIT_DIR)/test_parse \
	      $(UNIT_DIR)/test_args $(UNIT_DIR)/test_runtime

UNIT_QUOTA_SRCS := tests/unit/test_quota.c driver/quota.c
UNIT_RANGE_SRCS := tests/unit/test_range.c driver/range.c
UNIT_PARSE_SRCS := tests/unit/test_parse.c tools/common/parse.c
UNIT_ARGS_SRCS := tests/unit/test_args.c tools/ashctl/args.c \
		  tools/common/parse.c
UNIT_RUNTIME_SRCS := tests/unit/test_runtime.c $(RT_SRCS)

unit_objs = $(patsubst %.c,$(UNIT_DIR)/obj/%.o,$(1))
UNIT_ALL_OBJS := $(call unit_objs,$(UNIT_QUOTA_SRCS) $(UNIT_RANGE_SRCS) $(UNIT_PARSE_SRCS) \
		   $(UNIT_ARGS_SRCS) $(UNIT_RUNTIME_SRCS))

$(UNIT_DIR)/obj/%.o: %.c tests/unit/build.mk
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -c -o $@ $<

$(UNIT_DIR)/test_quota: $(call unit_objs,$(UNIT_QUOTA_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lcmocka

$(UNIT_DIR)/test_range: $(call unit_objs,$(UNIT_RANGE_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lcmocka

$(UNIT_DIR)/test_parse: $(call unit_objs,$(UNIT_PARSE_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lcmocka

$(UNIT_DIR)/test_args: $(call unit_objs,$(UNIT_ARGS_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lcmocka

# The test stands in for the kernel by wrapping the library's syscalls.
$(UNIT_DIR)/test_runtime: $(call unit_objs,$(UNIT_RUNTIME_SRCS))
	$(CC) $(UNIT_LDFLAGS) -Wl,--wrap=ioctl,--wrap=mmap,--wrap=munmap \
		-o $@ $^ -lcmocka $(RT_LIBS)

# Further suites, one fragment each (tests/unit/model.mk, ...), add to
# UNIT_TESTS before it is read here.
include $(filter-out tests/unit/build.mk,$(sort $(wildcard tests/unit/*.mk)))

unit-test: $(UNIT_TESTS)
	@rm -f $(UNIT_DIR)/summary.txt
	@UNIT_SUMMARY=$(UNIT_DIR)/summary.txt tests/unit/run.sh $(UNIT_TESTS)

-include $(UNIT_ALL_OBJS:.o=.d)
