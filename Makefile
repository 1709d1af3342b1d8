# Wire — top-level build. See README.md.
#
#   make            release build: build/release/wire
#   make run        install deps, build, start a one-node cluster with examples/cluster-quickstart.yaml
#   make test       install deps, ASan/UBSan build, every unit + integration test
#   make bench      release build, then bench/run.sh (figures, never verdicts)
#   make fuzz       clang libFuzzer targets (FUZZ_SECONDS each, default 20)
#
# Sources are found by wildcard: add a .c under src/ and it is built; add
# tests/unit/test_NAME.c and it becomes a test binary; fuzz/fuzz_NAME.c a
# fuzz target. Nobody needs to edit this file to add a module.

PKGS     := libuv yaml-0.1 libpcre2-8 libcurl zlib raft libzstd rdkafka libssl libcrypto
MODE     ?= release
BUILD    ?= build/$(MODE)
CC       ?= cc

WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes
CSTD     := -std=gnu11 -D_GNU_SOURCE
INCS     := -Isrc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lpthread -lm

ifeq ($(MODE),release)
  OPT := -O2 -g -DNDEBUG
else ifeq ($(MODE),asan)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  SANLD := -fsanitize=address,undefined
else
  OPT := -O0 -g
endif

CFLAGS  := $(CSTD) $(WARN) $(OPT) $(INCS) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANLD) $(EXTRA_LDFLAGS)

LIB_SRCS  := $(sort $(wildcard src/core/*.c src/net/*.c src/engine/*.c src/connectors/*.c src/transforms/*.c src/registry/*.c src/sql/*.c src/cluster/*.c src/api/*.c))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
LIBWIRE   := $(BUILD)/libwire.a
WIRE      := $(BUILD)/wire

.PHONY: all deps run test unit-tests bench fuzz format clean docs

all: $(WIRE)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBWIRE): $(LIB_OBJS)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(WIRE): $(CLI_OBJS) $(LIBWIRE)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIBWIRE) $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(LIBWIRE)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIBWIRE) $(PKG_LIBS) $(LDFLAGS) -lcjson

deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-example.sh $(WIRE)

# test helpers the integration scripts run (tests/tools/NAME.c -> $(BUILD)/tools/NAME)
$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	@$(CC) $(CFLAGS) -o $@ $< $(PKG_LIBS) $(LDFLAGS)

unit-tests: $(TEST_BINS) $(WIRE) $(TOOL_BINS)

test: deps
	@$(MAKE) --no-print-directory MODE=asan unit-tests
	@tests/run.sh build/asan

bench: deps
	@$(MAKE) --no-print-directory MODE=release all
	@bench/run.sh build/release

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

docs: $(WIRE)
	$(WIRE) help --markdown > docs/reference.md
	$(WIRE) help guarantees --markdown > docs/guarantees.md

format:
	clang-format -i $(LIB_SRCS) $(CLI_SRCS) $(TEST_SRCS) $(TOOL_SRCS) $(wildcard src/*/*.h tests/unit/*.h fuzz/*.c)

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
