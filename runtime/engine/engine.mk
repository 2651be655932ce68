# SPDX-License-Identifier: MIT
# accelshare-engine, the CPU reference engine (docs/engine.md).  Included by
# the top-level Makefile; uses its BUILD, ASH_CFLAGS, PREFIX and DESTDIR.

ENGINE := $(BUILD)/bin/accelshare-engine
# The protocol loop and job runner, each backend's ops (runtime/engine/cpu/),
# and the op table the library shares (runtime/ops/).
ENGINE_SRCS := $(sort $(wildcard runtime/engine/*.c runtime/engine/*/*.c)) \
	       runtime/ops/optable.c
ENGINE_OBJS := $(ENGINE_SRCS:runtime/%.c=$(BUILD)/obj/engine/%.o) \
	       $(BUILD)/obj/engine/parse.o
# OpenBLAS (cblas.h, the pthread build Debian selects through
# alternatives), libnuma for NUMA placement, libm for the activations.
ENGINE_LIBS := -lopenblas -lnuma -lm -ldl
ENGINE_CFLAGS := $(ASH_CFLAGS) -pthread -MMD -MP

.PHONY: install-engine uninstall-engine

userspace: $(ENGINE)
install: install-engine
uninstall: uninstall-engine

$(BUILD)/obj/engine/%.o: runtime/%.c runtime/engine/engine.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(ENGINE_CFLAGS) -c -o $@ $<

# --mem sizes are parsed as ashctl parses them.
$(BUILD)/obj/engine/parse.o: tools/common/parse.c runtime/engine/engine.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(ENGINE_CFLAGS) -c -o $@ $<

$(ENGINE): $(ENGINE_OBJS)
	@mkdir -p $(@D)
	$(CC) -pthread $(LDFLAGS) -o $@ $^ $(ENGINE_LIBS)

# The cuda backend: a plugin the engine loads for --backend cuda only
# (runtime/engine/backends.c), so that the engine itself needs none of
# NVIDIA's libraries.  Built wherever nvcc is: kernels for sm_80 and sm_90
# plus PTX for later GPUs; cudart static, cuBLAS and the driver's libcuda
# shared (linked against the toolkit's stub, found at run time where the
# driver installed it).
CUDA_HOME ?= /usr/local/cuda
NVCC ?= $(CUDA_HOME)/bin/nvcc
CUDA_ARCH := -gencode arch=compute_80,code=sm_80 \
	     -gencode arch=compute_90,code=sm_90 \
	     -gencode arch=compute_90,code=compute_90
PLUGIN_DIR := $(BUILD)/lib/accelshare
ifneq ($(wildcard $(NVCC)),)
CUDA_PLUGIN := $(PLUGIN_DIR)/accelshare-backend-cuda.so
userspace: $(CUDA_PLUGIN)

$(CUDA_PLUGIN): runtime/engine/cuda/cuda.cu runtime/engine/backend.h \
		runtime/ops/optable.h include/uapi/accelshare.h \
		include/uapi/accelshare_ops.h runtime/engine/engine.mk
	@mkdir -p $(@D)
	$(NVCC) -std=c++17 -O2 $(CUDA_ARCH) -Iinclude -shared \
		-Xcompiler -fPIC,-fvisibility=hidden,-Wall,-Wextra,-Werror \
		-o $@ $< -L$(CUDA_HOME)/lib64/stubs -lcuda \
		-L$(CUDA_HOME)/lib64 -lcublas -Xlinker -rpath,$(CUDA_HOME)/lib64
else
CUDA_PLUGIN :=
userspace: cuda-skipped

.PHONY: cuda-skipped
cuda-skipped:
	@echo "cuda backend: skipped (no nvcc at $(NVCC))"
endif

install-engine: $(ENGINE) $(CUDA_PLUGIN)
	install -D -m 0755 $(ENGINE) $(DESTDIR)$(PREFIX)/bin/accelshare-engine
	$(if $(CUDA_PLUGIN),install -D -m 0644 $(CUDA_PLUGIN) \
		$(DESTDIR)$(PREFIX)/lib/accelshare/accelshare-backend-cuda.so)

uninstall-engine:
	rm -f $(DESTDIR)$(PREFIX)/bin/accelshare-engine \
	      $(DESTDIR)$(PREFIX)/lib/accelshare/accelshare-backend-cuda.so
	-rmdir $(DESTDIR)$(PREFIX)/lib/accelshare 2>/dev/null

-include $(ENGINE_OBJS:.o=.d)
