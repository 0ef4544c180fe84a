# procscope: the day-to-day entry points. Each target installs missing Debian packages first.
#   make run     build, then show procmaps on a demo process
#   make test    build, then run the test suite (CTest)
#   make build   configure + build into build/
#   make asan    build into build-asan/ with ASan+UBSan and run the suite
#   make fuzz    build the libFuzzer targets with clang-16 into build-fuzz/, run each FUZZ_SECONDS
#   make bench   time procmaps against cat /proc/PID/{maps,smaps} and pmap on 60,000 regions
#   make clean   remove the build folders
# Extra CMake options go in CMAKE_FLAGS, e.g. `make test CMAKE_FLAGS=-DPROCSCOPE_WERROR=ON`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 30
# The sanitizer and fuzzer builds use -O1 with line tables only: about 2.5x faster to compile
# than -O2 -g under ASan, with the same file:line in reports.
SAN_OPT_FLAGS ?= -O1 -g1
FUZZ_OPT_FLAGS ?= -O1 -gline-tables-only
CTEST_FLAGS ?=

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
PROCMAPS := $(BUILD_DIR)/tools/procmaps/procmaps
# Only the fuzz targets and what they link are built in FUZZ_DIR.
FUZZERS := $(basename $(notdir $(wildcard fuzz/*_fuzz.cpp)))
DEMO := $(BUILD_DIR)/samples/demo-target/demo-target

.PHONY: all deps configure build run test asan fuzz bench clean

all: build

deps:
	@scripts/install-deps

configure: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the demo target, shows its regions with figures and its summary, then ends it.
run: build
	@$(DEMO) > $(BUILD_DIR)/demo-target.out & pid=$$!; \
	trap 'kill $$pid 2>/dev/null || true' EXIT; \
	for i in $$(seq 100); do grep -qx ready $(BUILD_DIR)/demo-target.out && break; sleep 0.05; done; \
	grep -qx ready $(BUILD_DIR)/demo-target.out || { echo "demo-target did not start" >&2; exit 1; }; \
	echo "== demo-target is pid $$pid"; \
	echo "== $(PROCMAPS) -x $$pid"; \
	$(PROCMAPS) -x $$pid; \
	echo; echo "== $(PROCMAPS) --summary -x $$pid"; \
	$(PROCMAPS) --summary -x $$pid

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

asan: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROCSCOPE_SANITIZE=ON \
	  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$(SAN_OPT_FLAGS)" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(SAN_OPT_FLAGS)" \
	  $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) -j $(JOBS)
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

fuzz: deps
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 -DPROCSCOPE_BUILD_FUZZERS=ON \
	  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$(FUZZ_OPT_FLAGS)" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$(FUZZ_OPT_FLAGS)" \
	  $(CMAKE_FLAGS)
	$(if $(FUZZERS),cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(FUZZERS),@echo "no fuzz/*_fuzz.cpp yet")
	scripts/run-fuzzers $(FUZZ_DIR) $(FUZZ_SECONDS)

bench: build
	bench/procmaps --procmaps $(PROCMAPS) --target $(BUILD_DIR)/bench/bench_many_regions

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
