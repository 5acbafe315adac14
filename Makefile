# hyperion.kernel: every developer and CI command goes through this file.
# `make test` is the test command; `make setup` prepares a checkout for use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := .build
# ansible looks collections up as ansible_collections/<namespace>/<name>.
COLLECTION_LINK := $(BUILD)/collections/ansible_collections/hyperion/kernel
SANITY_VENV := $(BUILD)/sanity-venv
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Heavy artifacts (lab images, test kernel packages) are keyed by their inputs, so every clone of
# the repository may share them; a machine without this cache builds them on first use.
HYPERION_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/hyperion-kernel
export HYPERION_LAB_CACHE ?= $(HYPERION_CACHE)/lab

.PHONY: help setup venv link test test-lanes test-lane-1 test-lane-2 test-failures unit test-workbench-unit lint sanity changelog-lint clean docs

# Parts of `make test`. Fragments included below (workbench/lab/lab.mk, ...) append their own targets:
# - TEST_TARGETS run one after the other: the quick checks (seconds);
# - TEST_PREPARE builds (or finds in the cache) what the long scenarios share, before they start;
# - TEST_LANE_1 and TEST_LANE_2 are the long VM scenarios, two lanes side by side, each in order.
#   A qemu TCG guest keeps one core busy, and a scenario's machines are often idle (one of two
#   machines rebooting, molecule and Ansible on the controller), so one lane alone leaves a core idle.
TEST_TARGETS := packages-lab,build,test changelog-lint
TEST_PREPARE :=
# The unit tests are minutes of CPU and no VM: they start a lane instead of holding both lanes back.
TEST_LANE_1 := unit
TEST_LANE_2 :=

# Make fragments owned by subsystems (the VM lab, the kernel package pipeline).
# Included before the `test` rule: prerequisites are expanded when a rule is read.
-include workbench/lab/lab.mk
-include workbench/packaging/kernel.mk
# One fragment per role family or playbook area (workbench/mk/<area>.mk), each appending its own targets.
-include $(sort $(wildcard workbench/mk/*.mk))
# ansible-lint and ansible-test sanity take minutes of CPU and no VM: they end lane 1 (the rollout scenario,
# shorter than the two one-machine scenarios of lane 2) instead of holding both lanes back.
TEST_LANE_1 += lint sanity

# Every user-facing target says what it does after "## " on its rule's line, in the file that owns it;
# `make help` lists them (tests/unit/test_make_help.py: every `make X` the docs name is listed).
help:
	@grep -h -E '^[a-zA-Z0-9_.-]+:[^=]*## ' $(MAKEFILE_LIST) | sed -E 's/^([^:]+):[^#]*## (.*)$$/\1\t\2/' \
	  | sort -u | awk -F '\t' '{ printf "make %-24s %s\n", $$1, $$2 }'

$(BIN)/ansible: requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(BIN)/ansible

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

link: $(COLLECTION_LINK)

setup: venv link ## create .venv (pinned tools) and link the collection for ansible
# The Debian packages of workbench/lab/debian-packages.txt that a target needs, checked before its first long
# step: `packages-lab,build` checks the groups lab and build (and base). As root, the missing ones
# are installed with apt-get (as .ci/run does); otherwise the check stops with one sentence naming
# them and the command that installs them. Silent when everything is there.
packages-%:
	@workbench/lab/bin/debian-packages --for "make $(or $(MAKECMDGOALS),$@)" $*

# kernel-package's rule is in workbench/packaging/kernel.mk; its check is added here.
kernel-package: packages-build

test: $(TEST_TARGETS) ## the whole test suite, as CI runs it (quick checks, then two lanes of VM scenarios)
	$(MAKE) --no-print-directory $(sort $(TEST_PREPARE))
	$(MAKE) --no-print-directory test-lanes

# Both lanes run to their end even when the other fails; each line of a lane's output carries the
# time and the lane's target, and a lane stops at its first failing target. Each target's output
# is kept in .build/test-logs/; when a lane fails, the last lines of `make test` say which tasks
# failed and which lab machine's kernel crashed (CI keeps only the end of the output, and a failed
# scenario ends with its destroy step). lane-N.current names the target a lane is running, for
# .ci/run to report when make test runs out of time; .ci/run prints test-failures once more after its
# CPU summary, so that the failures are the last lines CI keeps.
TEST_LOGS := $(BUILD)/test-logs
test-lanes:
	rm -rf $(TEST_LOGS) && mkdir -p $(TEST_LOGS) && date +%s > $(TEST_LOGS)/started && : > $(TEST_LOGS)/failed
	$(MAKE) --no-print-directory -j2 test-lane-1 test-lane-2 || { \
	  $(MAKE) --no-print-directory test-failures; exit 1; }

test-failures: ## what the lanes of the last make test failed in: targets, failed tasks, crashed lab kernels
	@if [ -s $(TEST_LOGS)/failed ]; then \
	  echo "make test: failed in $$(tr '\n' ' ' < $(TEST_LOGS)/failed)(whole outputs in $(TEST_LOGS)/)"; \
	  $(LAB_CLI) failures --since "$$(cat $(TEST_LOGS)/started)" $$(sed 's|.*|$(TEST_LOGS)/&.log|' $(TEST_LOGS)/failed); \
	else echo "make test: no lane target failed in the last run"; fi

test-lane-1 test-lane-2: test-lane-%:
	mkdir -p $(TEST_LOGS)
	for target in $(TEST_LANE_$*); do \
	  echo "$$target" > $(TEST_LOGS)/lane-$*.current; \
	  $(MAKE) --no-print-directory "$$target" 2>&1 | tee $(TEST_LOGS)/$$target.log \
	    | while IFS= read -r line; do printf '%(%H:%M:%S)T [lane %s: %s] %s\n' -1 "$*" "$$target" "$$line"; done \
	    || { echo "$$target" >> $(TEST_LOGS)/failed; rm -f $(TEST_LOGS)/lane-$*.current; exit 1; }; \
	done; \
	rm -f $(TEST_LOGS)/lane-$*.current

unit: setup ## the collection's unit tests (pytest, captured data, property tests)
	PYTHONPATH=$(CURDIR)/$(BUILD)/collections $(BIN)/python -m pytest -q tests/unit

# The workbench's own quick tests (the benchmark harness, the shipped inventories); the VM lab's are
# test-lab-unit (workbench/lab/lab.mk).
test-workbench-unit: setup ## the workbench's unit tests: benchmark harness, shipped inventories
	PYTHONPATH=$(CURDIR)/$(BUILD)/collections $(BIN)/python -m pytest -q -p no:cacheprovider workbench/tests/unit
TEST_TARGETS += test-workbench-unit

lint: setup ## ansible-lint with the production profile
	$(BIN)/ansible-lint --profile production

# ansible-test wants the collection at ansible_collections/hyperion/kernel and refuses symlinked
# trees, so it gets a copy of exactly the files git knows. $(1): the venv of ansible-test, $(2): the
# directory of the copy. ansible-test lists content through git, and the copy sits in an ignored
# directory of this checkout, so it gets a repository of its own. ansible-test bootstraps pip into each
# sanity venv with a script it downloads from a host outside the registries: it gets the offline
# equivalent. The oldest ansible-core's run is workbench/mk/oldest-core.mk's.
define run_sanity
	rm -rf $(2)
	mkdir -p $(2)/ansible_collections/hyperion/kernel
	git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents -P {} $(2)/ansible_collections/hyperion/kernel/
	cd $(2)/ansible_collections/hyperion/kernel && git init -q && git add -A
	for version in $$(sed -n "s/^ *pip='\([0-9.]*\)',\$$/\1/p" $(1)/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py); do \
	  cache=$$HOME/.ansible/test/cache/get_pip_$$(echo $$version | tr . _).py; \
	  [ -e "$$cache" ] || { mkdir -p "$$(dirname "$$cache")"; cp tests/sanity/offline_get_pip.py "$$cache"; }; \
	done
	cd $(2)/ansible_collections/hyperion/kernel && PATH=$(CURDIR)/$(1)/bin:$$PATH ansible-test sanity --python 3.11 --color no
endef

# ansible-test's own pinned sanity requirements, in a venv of their own ($(1)) with the ansible-core
# of $(2): its --venv mode would fetch a pip bootstrap script from outside the package registries.
define sanity_venv
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet $(2)
	$(1)/bin/pip install --quiet $$(for f in $(1)/lib/python3*/site-packages/ansible_test/_data/requirements/sanity.*.txt; do printf -- '-r %s ' "$$f"; done)
	touch $(1)/bin/ansible-test
endef

$(SANITY_VENV)/bin/ansible-test: constraints.txt
	$(call sanity_venv,$(SANITY_VENV),ansible-core -c constraints.txt)

sanity: setup $(SANITY_VENV)/bin/ansible-test ## ansible-test sanity on a copy of the collection, offline
	$(call run_sanity,$(SANITY_VENV),$(BUILD)/sanity)

changelog-lint: setup ## antsibull-changelog lint of changelogs/fragments
	$(BIN)/antsibull-changelog lint

docs: setup ## regenerate docs/seed-mapping.md from the profile
	$(BIN)/python tools/hyperion-check --seed-mapping > docs/seed-mapping.md

clean: ## remove .venv and .build
	rm -rf $(VENV) $(BUILD)
