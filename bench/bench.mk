# SPDX-License-Identifier: MIT
# "make bench-loader": the loader's streaming core against fio, a read() loop and
# mmap + memcpy, natively on the host (bench/run.sh; BENCH_SIZE, BENCH_QD,
# BENCH_CHUNK, BENCH_RUNS tune it).  Included by the top-level Makefile;
# uses its BUILD, CC and ASH_CFLAGS.

BENCH_DIR := $(BUILD)/bench
LOADER_BENCH := $(BENCH_DIR)/loader_bench

.PHONY: bench-loader

$(LOADER_BENCH): bench/loader_bench.c runtime/model/stream.c \
		 runtime/model/stream.h bench/bench.mk
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -o $@ bench/loader_bench.c runtime/model/stream.c \
		$(LDFLAGS) -luring

bench-loader: $(LOADER_BENCH)
	BENCH_BIN=$(LOADER_BENCH) BENCH_DIR=$(BENCH_DIR) bench/run.sh
