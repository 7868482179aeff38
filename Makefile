# Sardine build.  `make` builds build/sardine-server and build/sardine-cli (release, jemalloc);
# `make SAN=1` builds the same into build-asan/ with ASan+UBSan and libc malloc;
# `make test` builds both and runs every test (C unit tests under ASan, pytest against the ASan server).
CC      ?= gcc
SAN     ?= 0
ifeq ($(SAN),1)
  BUILD   := build-asan
  OPT     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  DEFS    := -DSARDINE_NO_JEMALLOC -DSARDINE_DEBUG
  MALLOC  :=
else
  BUILD   := build
  OPT     := -O2 -g
  DEFS    :=
  MALLOC  := -ljemalloc
endif
# ARENA_MAX_MB=n caps the entry arena at n MiB (to test running out of it) and builds into its own
# directory, e.g. `make SAN=1 ARENA_MAX_MB=64` -> build-asan-arena64/.
ifneq ($(ARENA_MAX_MB),)
  BUILD   := $(BUILD)-arena$(ARENA_MAX_MB)
  DEFS    += -DARENA_MAX_MB=$(ARENA_MAX_MB)
endif
WARN    := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(DEFS) -Isrc -I/usr/include/liblzf $(shell pkg-config --cflags lua5.1)
LDFLAGS += $(OPT)
LIBS    := $(MALLOC) $(shell pkg-config --libs lua5.1) $(shell pkg-config --libs openssl) -llua5.1-cjson -llua5.1-bitop -llzf -lzstd -lm -lpthread

SERVER_SRCS := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
SERVER_MAIN := src/app/main.c
LIB_SRCS    := $(filter-out $(SERVER_MAIN),$(SERVER_SRCS))
CLI_SRCS    := $(shell find src/cli -name '*.c' | sort)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(SERVER_MAIN:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all server cli unit test pytest clean format lint fuzz fuzz-build fuzz-replay install uninstall soak
all: server cli
server: $(BUILD)/sardine-server
cli: $(BUILD)/sardine-cli

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/sardine-server: $(LIB_OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/sardine-cli: $(CLI_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ -ledit -lm $(shell pkg-config --libs openssl)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(LIBS) -lcmocka

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# pytest runs against whichever build SARDINE_BUILD names (default: the ASan build, which is also what
# tests/harness.py picks when pytest is run by hand without SARDINE_SERVER/SARDINE_CLI).
# PYTEST_ARGS narrows the run, e.g. make pytest PYTEST_ARGS=tests/diff/test_diff_hash.py
SARDINE_BUILD ?= build-asan
PYTEST_ARGS   ?= tests
pytest:
	SARDINE_SERVER=$(CURDIR)/$(SARDINE_BUILD)/sardine-server SARDINE_CLI=$(CURDIR)/$(SARDINE_BUILD)/sardine-cli \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test:
	$(MAKE) all
	$(MAKE) SAN=1 all unit fuzz-replay
	$(MAKE) pytest

clean:
	rm -rf build build-asan build-fuzz

# ---- fuzzing (fuzz/README.md) ----
# `make fuzz FUZZ_SECONDS=60` builds every target with clang's libFuzzer (ASan+UBSan) and runs each for
# FUZZ_SECONDS, then sends mutated sessions to a running ASan server for as long.  New inputs go to
# build-fuzz/corpus/<target>/, crashes to fuzz/crashes/<target>/.
# `make SAN=1 fuzz-replay` (part of `make test`) runs the same entry points, built with gcc, over every
# corpus file and every crash, and replays the network corpus against the ASan server.
FUZZ_TARGETS := request config commands rdb acl
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   ?=
FUZZ_BUILD   := build-fuzz
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined -DSARDINE_NO_JEMALLOC -Wall -Wextra -Wno-missing-field-initializers \
                -Isrc -I. -I/usr/include/liblzf $(shell pkg-config --cflags lua5.1)
FUZZ_LIBS    := $(shell pkg-config --libs lua5.1) $(shell pkg-config --libs openssl) -llua5.1-cjson -llua5.1-bitop -llzf -lzstd -lm -lpthread
FUZZ_OBJS    := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
REPLAY_BINS  := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(FUZZ_LIBS)

$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/fuzz.h tests/unit/fuzz_replay.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I. -o $@ $< tests/unit/fuzz_replay.c $(LIB_OBJS) $(LDFLAGS) $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(MAKE) SAN=1 all
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t fuzz/crashes/$$t; \
	    echo "== fuzz_$$t for $(FUZZ_SECONDS)s"; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	        -dict=fuzz/$$t.dict -artifact_prefix=fuzz/crashes/$$t/ $(FUZZ_FLAGS) $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t; \
	done
	/usr/bin/python3 fuzz/net_fuzz.py --server build-asan/sardine-server --seconds $(FUZZ_SECONDS)

fuzz-replay: $(REPLAY_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do $(BUILD)/fuzz/replay_$$t fuzz/corpus/$$t fuzz/crashes/$$t; done
	/usr/bin/python3 fuzz/net_fuzz.py --server $(BUILD)/sardine-server --replay

# ---- soak test (tests/soak/soak.py; tests/README.md, "Soak test"); not part of `make test` ----
# `make soak SOAK_SECONDS=600` builds the ASan server and runs the soak against it for SOAK_SECONDS
# (the last 20% deterministic, against redis-server); SOAK_BUILD=build runs it on the release build.
# SOAK_ARGS passes more options (--clients N, --seed S, --keep-dir D).
SOAK_SECONDS ?= 600
SOAK_BUILD   ?= build-asan
SOAK_ARGS    ?=
soak:
	$(MAKE) $(if $(filter build-asan,$(SOAK_BUILD)),SAN=1) -j2 all
	/usr/bin/python3 tests/soak/soak.py --seconds $(SOAK_SECONDS) --server $(SOAK_BUILD)/sardine-server $(SOAK_ARGS)

# ---- install (PREFIX and DESTDIR as usual) ----
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/sardine $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 0755 $(BUILD)/sardine-server $(BUILD)/sardine-cli $(DESTDIR)$(BINDIR)/
	@# an operator's edited config is kept; the shipped one is installed beside it
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf ] && \
	    ! cmp -s sardine.conf $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf; then \
	    echo "keeping $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf; new default in sardine.conf.default"; \
	    $(INSTALL) -m 0644 sardine.conf $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf.default; \
	else \
	    $(INSTALL) -m 0644 sardine.conf $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf; \
	fi
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/sardine.service.in \
	    > $(DESTDIR)$(UNITDIR)/sardine.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sardine.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sardine-server $(DESTDIR)$(BINDIR)/sardine-cli $(DESTDIR)$(UNITDIR)/sardine.service \
	    $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf.default
	@# the config goes only if it is the shipped one, unedited
	@if cmp -s sardine.conf $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf ]; then \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/sardine/sardine.conf (edited)"; \
	fi
	-rmdir $(DESTDIR)$(SYSCONFDIR)/sardine 2>/dev/null || true

format:
	clang-format -i $(SERVER_SRCS) $(CLI_SRCS) $(shell find src -name '*.h') $(UNIT_SRCS)

lint:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 -Isrc --suppress=missingIncludeSystem src

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
