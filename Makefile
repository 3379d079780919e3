# tern build. `make` builds build/tern; `make check` runs the whole suite;
# `make SANITIZE=1 ...` does the same under ASan + UBSan in build-san/.
# Sources are found by wildcard so a new file in a known directory needs no edit here.

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD := build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD := build
SAN_FLAGS :=
endif

-include config.mak

CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SAN_FLAGS) -D_GNU_SOURCE -Iinclude -I$(BUILD) $(DEP_CFLAGS) -MMD -MP
LIBS := $(DEP_LIBS) -lpthread -lm

SRC_DIRS := . monitor accel hw/core hw/i386 hw/char hw/nvram hw/pci hw/virtio hw/net hw/input net migration util
TERN_SRCS := $(filter-out ./vl.c,$(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
TERN_SRCS := $(patsubst ./%,%,$(TERN_SRCS))
GEN_SRCS := $(BUILD)/gen/qapi-resource.c
TERN_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TERN_SRCS)) $(BUILD)/gen/qapi-resource.o

TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TESTLIB_SRCS))
TEST_SRCS := $(wildcard tests/unit/test-*.c tests/blackbox/test-*.c tests/qmp/test-*.c tests/qtest/test-*.c tests/migration/test-*.c)
TEST_BINS := $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))
SANDBOX_OFF_TEST := $(BUILD)/tests/unit/test-sandbox-off

.PHONY: all check check-unit demo bench docs clean distclean
all: $(BUILD)/tern

config.mak: configure
	./configure

%/gen/qapi-resource.c: qapi-schema.json monitor/qapi.gresource.xml config.mak
	@mkdir -p $(dir $@)
	glib-compile-resources --sourcedir=. --generate-source --target=$@ monitor/qapi.gresource.xml

$(BUILD)/%.o: %.c config.mak
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c -o $@ $<

$(BUILD)/tern: $(BUILD)/vl.o $(TERN_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(filter-out $(SANDBOX_OFF_TEST),$(TEST_BINS)): %: %.o $(TESTLIB_OBJS) $(TERN_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# The build without libseccomp, for the test of its refusal: util/sandbox.c again, with
# CONFIG_SECCOMP undefined, in place of the real one.
$(BUILD)/util/sandbox-off.o: util/sandbox.c config.mak
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -UCONFIG_SECCOMP -c -o $@ $<
$(SANDBOX_OFF_TEST): %: %.o $(TESTLIB_OBJS) $(filter-out $(BUILD)/util/sandbox.o,$(TERN_OBJS)) \
		$(BUILD)/util/sandbox-off.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# Tools built beside tern: tools/NAME.c -> $(BUILD)/NAME, each with the few objects it
# uses (not the VMM, nor its startup constructors).
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(patsubst tools/%.c,$(BUILD)/%,$(TOOL_SRCS))
$(BUILD)/tern-migrate: $(addprefix $(BUILD)/util/,qmp-client.o sockaddr.o error.o)
$(BUILD)/qapi-doc: $(addprefix $(BUILD)/,monitor/qapi-doc.o monitor/qapi-schema.o \
	util/error.o gen/qapi-resource.o)
all: $(TOOL_BINS)
$(TOOL_BINS): $(BUILD)/%: $(BUILD)/tools/%.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# The QMP reference is generated from the schema; a unit test keeps it current.
docs: $(BUILD)/qapi-doc
	$(BUILD)/qapi-doc > docs/qmp.md

check: $(BUILD)/tern $(TEST_BINS) $(TOOL_BINS) fuzz-build
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) FUZZ_BUILD=$(FUZZ_BUILD) tests/run-tests.sh

# The unit and qtest binaries alone: under a minute, for the edit-compile-test loop.
UNIT_BINS := $(filter $(BUILD)/tests/unit/% $(BUILD)/tests/qtest/%,$(TEST_BINS))
check-unit: $(BUILD)/tern $(UNIT_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run-tests.sh --unit

# ---- fuzzing (tests/fuzz/README.md) ------------------------------------------------
# The fuzz targets link tern's own sources, compiled again by clang with libFuzzer, ASan
# and UBSan into build-fuzz/ (whatever SANITIZE says); the gcc build never needs clang.
# tests/fuzz/need-clang.sh installs clang when it is missing, as configure does for the
# rest. `make fuzz` runs each target FUZZ_SECONDS; `make check` a short run of each plus
# every input in tests/fuzz/regressions/<target>/.
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# clang warns about two GNU idioms tern uses on purpose (KVM structs with a flexible
# array member inside a struct, the vmstate macros' compile-time type checks).
FUZZ_WARN := $(WARN) -Wno-gnu-variable-sized-type-not-at-end -Wno-null-pointer-subtraction
FUZZ_CFLAGS := -std=gnu11 $(FUZZ_WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link -D_GNU_SOURCE \
	-Iinclude -I$(FUZZ_BUILD) $(DEP_CFLAGS) -MMD -MP
FUZZ_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(TERN_SRCS) $(TESTLIB_SRCS)) \
	$(FUZZ_BUILD)/gen/qapi-resource.o $(FUZZ_BUILD)/tests/fuzz/fuzz-vm.o
FUZZ_TARGETS := $(filter-out fuzz-vm,$(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz-*.c)))
FUZZ_BINS := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
CAPTURE_SEEDS := $(BUILD)/tests/fuzz/capture-seeds
.PHONY: fuzz fuzz-build fuzz-seeds
# Made by the %/gen/ pattern rule for both builds; keep them (not intermediates).
.SECONDARY: $(BUILD)/gen/qapi-resource.c $(FUZZ_BUILD)/gen/qapi-resource.c

$(FUZZ_BUILD)/.clang-ok: tests/fuzz/need-clang.sh
	@mkdir -p $(dir $@)
	@tests/fuzz/need-clang.sh && touch $@

$(FUZZ_BUILD)/%.o: %.c config.mak | $(FUZZ_BUILD)/.clang-ok
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/gen/%.o: $(FUZZ_BUILD)/gen/%.c | $(FUZZ_BUILD)/.clang-ok
	clang $(FUZZ_CFLAGS) -Wno-overlength-strings -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/tests/fuzz/%.o $(FUZZ_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

$(CAPTURE_SEEDS): %: %.o $(TESTLIB_OBJS) $(TERN_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# Real streams from the tern of this tree: the migration target's seeds.
$(FUZZ_BUILD)/seeds/fuzz-migration.stamp: $(BUILD)/tern $(CAPTURE_SEEDS)
	@mkdir -p $(dir $@)
	ASAN_OPTIONS=detect_leaks=0 TERN_BINARY=$(abspath $(BUILD)/tern) $(CAPTURE_SEEDS) \
		$(FUZZ_BUILD)/seeds/fuzz-migration >/dev/null
	@touch $@

fuzz-seeds: $(FUZZ_BUILD)/seeds/fuzz-migration.stamp
fuzz-build: $(FUZZ_BINS) fuzz-seeds

fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS)

demo:
	@scripts/demo.sh

bench: $(BUILD)/tern $(TOOL_BINS)
	@scripts/bench.sh

clean:
	rm -rf build build-san build-fuzz

distclean: clean
	rm -f config.mak

-include $(wildcard $(TERN_OBJS:.o=.d) $(BUILD)/vl.d $(TESTLIB_OBJS:.o=.d) $(TEST_BINS:=.d) $(patsubst $(BUILD)/%,$(BUILD)/tools/%.d,$(TOOL_BINS)))
-include $(wildcard $(FUZZ_OBJS:.o=.d) $(patsubst %,$(FUZZ_BUILD)/tests/fuzz/%.d,$(FUZZ_TARGETS)) $(CAPTURE_SEEDS).d)
