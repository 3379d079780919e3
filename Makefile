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

SRC_DIRS := . monitor accel hw/core hw/i386 hw/char hw/nvram hw/pci hw/virtio hw/net net migration util
TERN_SRCS := $(filter-out ./vl.c,$(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c)))
TERN_SRCS := $(patsubst ./%,%,$(TERN_SRCS))
GEN_SRCS := $(BUILD)/gen/qapi-resource.c
TERN_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TERN_SRCS)) $(BUILD)/gen/qapi-resource.o

TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(TESTLIB_SRCS))
TEST_SRCS := $(wildcard tests/unit/test-*.c tests/blackbox/test-*.c tests/qmp/test-*.c tests/qtest/test-*.c tests/migration/test-*.c)
TEST_BINS := $(patsubst %.c,$(BUILD)/%,$(TEST_SRCS))

.PHONY: all check demo bench docs clean distclean
all: $(BUILD)/tern

config.mak: configure
	./configure

$(BUILD)/gen/qapi-resource.c: qapi-schema.json monitor/qapi.gresource.xml config.mak
	@mkdir -p $(dir $@)
	glib-compile-resources --sourcedir=. --generate-source --target=$@ monitor/qapi.gresource.xml

$(BUILD)/%.o: %.c config.mak
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c -o $@ $<

$(BUILD)/tern: $(BUILD)/vl.o $(TERN_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(TEST_BINS): %: %.o $(TESTLIB_OBJS) $(TERN_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# Tools built beside tern: tools/NAME.c -> $(BUILD)/NAME, linked like the tests.
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(patsubst tools/%.c,$(BUILD)/%,$(TOOL_SRCS))
all: $(TOOL_BINS)
$(TOOL_BINS): $(BUILD)/%: $(BUILD)/tools/%.o $(TERN_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# The QMP reference is generated from the schema; a unit test keeps it current.
docs: $(BUILD)/qapi-doc
	$(BUILD)/qapi-doc > docs/qmp.md

check: $(BUILD)/tern $(TEST_BINS) $(TOOL_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run-tests.sh

demo:
	@scripts/demo.sh

bench: $(BUILD)/tern $(TOOL_BINS)
	@scripts/bench.sh

clean:
	rm -rf build build-san

distclean: clean
	rm -f config.mak

-include $(wildcard $(TERN_OBJS:.o=.d) $(BUILD)/vl.d $(TESTLIB_OBJS:.o=.d) $(TEST_BINS:=.d) $(patsubst $(BUILD)/%,$(BUILD)/tools/%.d,$(TOOL_BINS)))
