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
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(DEFS) -Isrc $(shell pkg-config --cflags lua5.1)
LDFLAGS += $(OPT)
LIBS    := $(MALLOC) $(shell pkg-config --libs lua5.1) -lm -lpthread

SERVER_SRCS := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
SERVER_MAIN := src/server/main.c
LIB_SRCS    := $(filter-out $(SERVER_MAIN),$(SERVER_SRCS))
CLI_SRCS    := $(shell find src/cli -name '*.c' | sort)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(SERVER_MAIN:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all server cli unit test pytest clean format lint
all: server cli
server: $(BUILD)/sardine-server
cli: $(BUILD)/sardine-cli

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/sardine-server: $(LIB_OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/sardine-cli: $(CLI_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ -ledit -lm

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(LIBS) -lcmocka

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# pytest runs against whichever build SARDINE_BUILD names (default: the ASan build).
SARDINE_BUILD ?= build-asan
pytest:
	SARDINE_SERVER=$(CURDIR)/$(SARDINE_BUILD)/sardine-server SARDINE_CLI=$(CURDIR)/$(SARDINE_BUILD)/sardine-cli \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests

test:
	$(MAKE) all
	$(MAKE) SAN=1 all unit
	$(MAKE) pytest

clean:
	rm -rf build build-asan

format:
	clang-format -i $(SERVER_SRCS) $(CLI_SRCS) $(shell find src -name '*.h') $(UNIT_SRCS)

lint:
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 -Isrc --suppress=missingIncludeSystem src

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
