# OpenKeeper: the two set-up commands of README.md and the developer targets.
#   make        install missing Debian build packages, build every command into build/
#   make run    the same, then start the demo (a node with an example resource)
#   make stop   end the demo
#   make test   the same set-up, then every test, plain and under ASan + UBSan, and each
#               fuzzer for a few seconds
#   make install  PREFIX (default /usr/local), DESTDIR: docs/PACKAGING.md
#   make fuzz   each libFuzzer target for FUZZ_SECONDS (docs/FUZZING.md); fuzz-long: an hour
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PREFIX     ?= /usr/local
PYTHON     ?= /usr/bin/python3

.PHONY: all deps build asan run stop test unit scenario format check-format check-layers install clean bench sim \
	fuzz-build fuzz fuzz-test fuzz-long

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --prefix=$(PREFIX)
	@ninja -C $(BUILD)

asan: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) --prefix=$(PREFIX) \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all
	@ninja -C $(ASAN_BUILD)

run: build
	@scripts/demo.sh start

stop:
	@scripts/demo.sh stop

unit: build asan
	meson test -C $(BUILD) --suite unit --print-errorlogs
	meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs

# The scenario suite, plain then under ASan + UBSan, each in two passes (README.md, Tests):
# the tests not marked serial SCENARIO_JOBS at a time (pytest-xdist: a scenario test mostly
# waits on its daemons, so four run well on two cores), then the serial ones (bounds on
# wall-clock figures) one at a time. SCENARIO_JOBS=0: the first pass one at a time too.
SCENARIO_JOBS ?= 4
SCENARIO_PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider tests/scenario
scenario: build asan
	LK_BUILD=$(CURDIR)/$(BUILD) $(SCENARIO_PYTEST) -n $(SCENARIO_JOBS) -m "not serial"
	LK_BUILD=$(CURDIR)/$(BUILD) $(SCENARIO_PYTEST) -m serial
	LK_BUILD=$(CURDIR)/$(ASAN_BUILD) $(SCENARIO_PYTEST) -n $(SCENARIO_JOBS) -m "not serial"
	LK_BUILD=$(CURDIR)/$(ASAN_BUILD) $(SCENARIO_PYTEST) -m serial

test: check-format check-layers unit scenario fuzz-test

# The libFuzzer targets of tests/fuzz (docs/FUZZING.md), built with clang, ASan and UBSan
# into their own folder; the gcc builds above are not touched. make fuzz runs each target
# for FUZZ_SECONDS from a scratch copy of its corpus and fails on any crash, sanitizer
# report, leak or broken invariant; make test runs them FUZZ_TEST_SECONDS each.
FUZZ_SECONDS      ?= 20
FUZZ_TEST_SECONDS ?= 10
FUZZ_TARGETS      ?= fuzz_request fuzz_wire fuzz_session fuzz_replica fuzz_config fuzz_validate fuzz_ocf \
                     fuzz_lkimport fuzz_tunables
fuzz-build: deps
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang meson setup $(FUZZ_BUILD) --prefix=$(PREFIX) \
		-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all
	@ninja -C $(FUZZ_BUILD) $(addprefix tests/fuzz/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_BUILD)/tests/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-test:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)

# The documented one-hour run of each target: FUZZ_JOBS targets at a time (one per core by
# default: six hours of CPU, three of wall clock on two cores), one line per target.
FUZZ_JOBS ?= $(shell nproc)
fuzz-long: fuzz-build
	@$(MAKE) --no-print-directory -j$(FUZZ_JOBS) $(addprefix fuzz-long-,$(FUZZ_TARGETS))

fuzz-long-%:
	@tests/fuzz/run.sh $(FUZZ_BUILD)/tests/fuzz 3600 $*

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

check-format: deps
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# Each layer includes only itself and the layers below (docs/ARCHITECTURE.md).
check-layers:
	@$(PYTHON) scripts/check-layers.py

bench: build
	$(PYTHON) bench/inslist_status.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/detect_recover.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/monitor_load.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/hierarchy_restore.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/switchover.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/failover.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/guard_failover.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/cgroup_detect.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/lifekeeper_compat.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/systemd_detect.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/events_flood.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/disk_full.py --build $(CURDIR)/$(BUILD)
	$(PYTHON) bench/local_attack.py --build $(CURDIR)/$(BUILD)
	$(BUILD)/bench/containment_spawn --runs 1000

# The cluster simulator's open campaign (docs/SIMULATOR.md): STEPS simulated steps over
# SEEDS seeds from SEED, every kind of fault; prints each failing seed, how to replay it,
# and which known sequence it looks like.
STEPS  ?= 1000000
SEEDS  ?= 20
SEED   ?= 1
NODES  ?= 3
FAULTS ?= 2
sim: build
	$(BUILD)/tests/sim/lksim --seed $(SEED) --seeds $(SEEDS) --steps $$(( $(STEPS) / $(SEEDS) )) \
		--nodes $(NODES) --faults $(FAULTS) --keep-going

# make install [PREFIX=/usr] [DESTDIR=/tmp/stage]: the commands, the templates, the man
# pages, the systemd units, sysusers/tmpfiles, logrotate and bash completion
# (docs/PACKAGING.md). A PREFIX given here (or in the environment) becomes the build's
# prefix; without one the build keeps its own. DESTDIR stages the whole tree.
install: build
	$(if $(filter-out file,$(origin PREFIX)),@meson configure $(BUILD) --prefix=$(PREFIX) >/dev/null)
	meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
