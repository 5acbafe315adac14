# The fleet rollout (deploy.yml, check.yml, rollback.yml) on the VM lab; included by the Makefile.
# `make deploy` is the first thing a new user runs: the demo lab (lab1, cafe1, cafe2), the test
# kernel (built once, then cached), the rollout, and where its report is.
DEPLOY_INVENTORY ?= inventories/demo
# Reports of every run, one directory per run, `latest` names the newest (ansible.cfg enables the
# report callback, so these are plain ansible-playbook runs as a user makes them).
export HYPERION_REPORT_DIR ?= $(CURDIR)/reports

.PHONY: deploy check rollback fault-kernel test-rollout molecule-rollout test-rollout-unit test-rollout-variables

# The lab's and the kernel build's Debian packages first: a missing one must not wait for the 15 min build.
deploy: packages-lab,build setup kernel-package ## roll the test kernel out to the demo VM lab (deploy.yml)
	@if $(LAB_CLI) status --lab demo 2>/dev/null | grep -q ' running '; then \
	  echo "deploy: the demo lab is running"; else $(MAKE) --no-print-directory lab-up; fi
	$(BIN)/ansible-playbook deploy.yml -i $(DEPLOY_INVENTORY); \
	  rc=$$?; echo "deploy: report in $(HYPERION_REPORT_DIR)/latest/ (report.html, report.md, report.json, junit.xml)"; exit $$rc

check: setup ## check the demo VM lab against the profile (check.yml)
	$(BIN)/ansible-playbook check.yml -i $(DEPLOY_INVENTORY); \
	  rc=$$?; echo "check: report in $(HYPERION_REPORT_DIR)/latest/"; exit $$rc

rollback: setup ## roll the demo VM lab back to its previous kernel (rollback.yml)
	$(BIN)/ansible-playbook rollback.yml -i $(DEPLOY_INVENTORY); \
	  rc=$$?; echo "rollback: report in $(HYPERION_REPORT_DIR)/latest/"; exit $$rc

# The fault kernels of the trial boot's tests, each built in a copy of the test kernel's object tree
# (about 80 s each on 2 cores, then cached): without its root file system driver (a kernel that cannot
# boot) and without its network drivers (a kernel the controller never reaches again).
FAULT_KERNELS := noroot nonet
fault-kernel: kernel-package ## build (or find cached) the fault kernels: no root file system driver, no network drivers
	for fault in $(FAULT_KERNELS); do workbench/packaging/fault-kernel.sh --fault $$fault || exit 1; done

# The report writer's core on real check results: seconds.
test-rollout-unit: setup
	PYTHONPATH=$(CURDIR)/$(BUILD)/collections $(BIN)/python -m pytest -q tests/unit/plugins/plugin_utils/test_fleet_report.py

# The rollout role's variable checks (deploy.yml's preflight) through the real ansible-playbook on
# this machine, -e style strings included: seconds, part of make test.
test-rollout-variables: setup ## the rollout role's variable checks through ansible-playbook
	PYTHONPATH=$(CURDIR)/$(BUILD)/collections $(BIN)/python -m pytest -q workbench/tests/integration/rollout
TEST_TARGETS += test-rollout-variables

# The site's repository and three lab machines: the kernel role's refusals, a canary that fails the
# site's gate stops the run, then the same kernel rolls out without staging again (an SSH drop
# mid-batch), a re-run changes nothing, and two rollbacks (the second changes nothing).
test-rollout: setup kernel-package ## the rollout molecule scenario with the test kernel it needs
	$(MAKE) --no-print-directory molecule-rollout

# The scenario alone, with the test kernel already built (test-rollout builds or finds it first). It
# runs the collection as a user installs it, with only its declared dependencies (workbench/mk/collection.mk).
molecule-rollout: setup collection-install ## the rollout scenario alone (the test kernel already built)
	HYPERION_KERNEL_PACKAGE_DIR=$(KERNEL_PACKAGE_DIR) \
	$(ONLY_INSTALLED_COLLECTIONS) $(BIN)/molecule test -s rollout

# Part of `make test`: the longest scenario, in a lane of its own (make test builds or finds both
# kernels first: the fault kernel is the trial_faults scenario's). The kernel package pipeline (repo and
# kernel roles) is proved here too.
TEST_PREPARE += kernel-package fault-kernel
TEST_LANE_1 += molecule-rollout
