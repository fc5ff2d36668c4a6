# The libFuzzer harnesses, built apart from the tree's own build (GNU make,
# run by tests/fuzz/run):
#
#   make -f tests/fuzz/build.mk SRC=. BUILD=/tmp/loupe-fuzz -j2
#
# The engine's sources and the few ui/ modules the harnesses reach are
# compiled again here with clang's coverage instrumentation and ASan/UBSan
# into BUILD, never beside the tree's objects, so the normal build is not
# touched.
SRC ?= .
BUILD ?= /tmp/loupe-fuzz
CC = clang

PKGS = libunwind-ptrace libunwind-generic libunwind libelf zlib
SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
# White-box, as the Check units: every header of the engine and of the ui/
# parts the harnesses reach (Makefile.am says which are public).
CPPFLAGS = -iquote $(SRC)/profiler/include -iquote $(SRC)/profiler \
	$(addprefix -iquote $(SRC)/ui/,cli ctl daemon) \
	-iquote $(SRC)/tests/fuzz -D_GNU_SOURCE \
	-DLOUPE_FUZZ_IMAGES='"$(abspath $(SRC))/tests/fuzz/corpus/py_walk"' \
	$(shell pkg-config --cflags $(PKGS))
CFLAGS = -std=c11 -O1 -g -fno-omit-frame-pointer $(SAN) \
	-Wall -Wextra -Wno-unused-parameter -MMD -MP
# libiberty: the demangler (configure's DEMANGLE_LIBS)
LIBS = $(shell pkg-config --libs $(PKGS)) -liberty -lm -lpthread

# The engine library's sources (profiler/local.mk and its parts), and the
# pure ui/ modules under test.
ENGINE_SRC = $(wildcard $(SRC)/profiler/*.c $(SRC)/profiler/python/*.c \
	$(SRC)/profiler/formats/*.c) \
	$(SRC)/ui/cli/units.c $(SRC)/ui/daemon/daemon_config.c $(SRC)/ui/ctl/ctl_proto.c \
	$(SRC)/ui/daemon/daemon_http_query.c
ENGINE_OBJ = $(patsubst $(SRC)/%.c,$(BUILD)/obj/%.o,$(ENGINE_SRC))

HARNESSES = raw_reader daemon_config ctl_proto http_query py_offsets py_walk
PROGRAMS = $(addprefix $(BUILD)/fuzz_,$(HARNESSES)) $(BUILD)/py_capture

all: $(PROGRAMS)

$(BUILD)/obj/%.o: $(SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# The harnesses' own code is held to -Werror; the engine's warnings are
# gcc's business (the tree's build has -Werror).
$(BUILD)/obj/tests/fuzz/%.o: CFLAGS += -Werror

$(BUILD)/libengine.a: $(ENGINE_OBJ)
	rm -f $@
	ar cr $@ $^

$(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/py_image.o $(BUILD)/libengine.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# Not a harness: makes the walker's seed images from live interpreters.
$(BUILD)/py_capture: $(BUILD)/obj/tests/fuzz/py_capture.o $(BUILD)/obj/tests/fuzz/py_image.o $(BUILD)/libengine.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer-no-link -o $@ $^ $(LIBS)

-include $(ENGINE_OBJ:.o=.d) $(wildcard $(BUILD)/obj/tests/fuzz/*.d)

.PHONY: all
.SECONDARY:
