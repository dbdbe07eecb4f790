# Thin wrapper over CMake: make / make run / make test / make bench.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build setup configure run test bench clean

all: build

setup:
	@PARLAB_SETUP_QUIET=1 scripts/setup

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: setup build
	./$(BUILD)/parlab

test: setup build
	cd $(BUILD) && ctest --output-on-failure -j 1

bench: setup build
	./$(BUILD)/parlab bench

clean:
	rm -rf $(BUILD)
