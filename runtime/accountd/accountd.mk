# SPDX-License-Identifier: MIT
# accelshare-accountd, the usage ledger's writer (runtime/accountd/).
# Included by the top-level Makefile; uses its BUILD, ASH_CFLAGS, PREFIX
# and DESTDIR.  The ledger (ledger.c) is SQLite's: ashctl links it too, for
# "ashctl usage".

ACCOUNTD := $(BUILD)/bin/accelshare-accountd
ACCOUNTD_SRCS := runtime/accountd/main.c runtime/accountd/ledger.c \
		 runtime/accountd/metrics.c tools/common/parse.c
ACCOUNTD_OBJS := $(ACCOUNTD_SRCS:%.c=$(BUILD)/obj/accountd/%.o)
SQLITE_CFLAGS := $(shell pkg-config --cflags sqlite3 2>/dev/null)
SQLITE_LIBS := $(or $(shell pkg-config --libs sqlite3 2>/dev/null),-lsqlite3)
# /metrics: libmicrohttpd; the audit trail's hash chain: OpenSSL's libcrypto.
CRYPTO_CFLAGS := $(shell pkg-config --cflags libcrypto 2>/dev/null)
CRYPTO_LIBS := $(or $(shell pkg-config --libs libcrypto 2>/dev/null),-lcrypto)
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := $(or $(shell pkg-config --libs libmicrohttpd 2>/dev/null),-lmicrohttpd)
ACCOUNTD_CFLAGS := $(ASH_CFLAGS) -MMD -MP -Itools/common $(SQLITE_CFLAGS) \
		   $(MHD_CFLAGS) $(CRYPTO_CFLAGS)

.PHONY: install-accountd uninstall-accountd

userspace: $(ACCOUNTD)
install: install-accountd
uninstall: uninstall-accountd

$(BUILD)/obj/accountd/%.o: %.c runtime/accountd/accountd.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(ACCOUNTD_CFLAGS) -c -o $@ $<

$(ACCOUNTD): $(ACCOUNTD_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(SQLITE_LIBS) $(MHD_LIBS) $(CRYPTO_LIBS)

install-accountd: $(ACCOUNTD)
	install -D -m 0755 $(ACCOUNTD) $(DESTDIR)$(PREFIX)/bin/accelshare-accountd

uninstall-accountd:
	rm -f $(DESTDIR)$(PREFIX)/bin/accelshare-accountd

-include $(ACCOUNTD_OBJS:.o=.d)
