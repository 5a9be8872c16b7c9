# intake: build, test, demo. See README.md.
#   make            build build/intake
#   make deps       install missing Debian packages (apt-get, non-interactive)
#   make test       deps + build + unit, integration, sanitizer and fuzz-replay tests
#   make check-asan unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make check-valgrind the whole suite with every program under valgrind (slow)
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 600)
#   make demo       deps + build + run the pipeline on sample data

BUILD    ?= build
CC       ?= cc
PKGS     := gmime-3.0 glib-2.0 libcurl libcrypto libmagic sqlite3 libuv libxml-2.0 libzip
WARN     := -std=c17 -Wall -Wextra -Wformat=2 -Werror
CPPFLAGS += -D_GNU_SOURCE -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) $(SANFLAGS)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
LDFLAGS  += $(SANFLAGS)

LIB_SRCS  := $(sort $(wildcard core/*.c parsers/*.c store/*.c notify/*.c ingest/*.c))
CLI_SRCS  := $(sort $(wildcard cli/*.c))
TEST_SRCS := $(sort $(wildcard tests/*/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
LIB       := $(BUILD)/libintake.a

.PHONY: all deps test unit check-asan check-valgrind fuzz fuzz-build fuzz-replay demo clean bench bench-build install
all: $(BUILD)/intake

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/intake: $(CLI_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs cmocka)

tests-build: $(TEST_BINS) $(BUILD)/intake

deps:
	@sh tools/deps.sh

# Unit and integration tests of this build; prints "N passed, N failed".
unit: tests-build
	@sh tests/run.sh $(BUILD)

# The whole suite under valgrind (not part of make test: about an hour).
check-valgrind: tests-build
	@sh tests/valgrind.sh $(BUILD)

check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CC=gcc CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" unit

# libFuzzer targets: clang, sanitizers, every library source compiled the same way.
FUZZ_BUILD := build-fuzz
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="$(FUZZ_FLAGS)" $(FUZZ_BUILD)/libintake.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		clang $(CPPFLAGS) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined -o $(FUZZ_BUILD)/fuzz/$$n $$f \
		$(FUZZ_BUILD)/libintake.a $(LDLIBS) || exit 1; done

fuzz-replay: fuzz-build
	@sh tests/fuzz/replay.sh $(FUZZ_BUILD)/fuzz

FUZZ_SECONDS ?= 600
fuzz: fuzz-build
	@sh tests/fuzz/explore.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS)

test: deps
	@$(MAKE) --no-print-directory all tests-build
	@sh tests/all.sh

demo: deps all
	@sh tools/demo.sh

BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)
bench-build: $(BENCH_BINS)

bench: deps all
	@sh bench/run.sh

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the systemd unit,
# the example configuration, the calendar and the templates. An existing
# /etc/intake/intake.conf is kept.
PREFIX  ?= /usr/local
SYSCONF ?= /etc/intake
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/systemd/system \
		$(DESTDIR)$(PREFIX)/share/doc/intake $(DESTDIR)$(SYSCONF)/calendar $(DESTDIR)$(SYSCONF)/templates
	install -m 0755 $(BUILD)/intake $(DESTDIR)$(PREFIX)/bin/intake
	sed 's|/usr/local|$(PREFIX)|g; s|/etc/intake|$(SYSCONF)|g' config/intake.service >$(BUILD)/intake.service
	install -m 0644 $(BUILD)/intake.service $(DESTDIR)$(PREFIX)/lib/systemd/system/intake.service
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/intake/README.md
	install -m 0644 config/calendar/*.conf $(DESTDIR)$(SYSCONF)/calendar/
	[ ! -d config/templates ] || cp -R config/templates/. $(DESTDIR)$(SYSCONF)/templates/
	sed 's|\.\./var/|/var/lib/intake/|' config/intake.conf >$(BUILD)/intake.conf
	[ -e $(DESTDIR)$(SYSCONF)/intake.conf ] || install -m 0640 $(BUILD)/intake.conf $(DESTDIR)$(SYSCONF)/intake.conf
	install -m 0644 $(BUILD)/intake.conf $(DESTDIR)$(SYSCONF)/intake.conf.example

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
soak: all
	@SOAK=1 INTAKE=$(CURDIR)/$(BUILD)/intake INTAKE_BUILD=$(CURDIR)/$(BUILD) sh tests/integration/test_crash.sh
