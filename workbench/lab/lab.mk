# The offline VM lab (qemu TCG machines on cached Debian images); included by the top-level
# Makefile. `make lab-up` starts the demo fleet that inventories/demo describes.
LAB_CLI := workbench/lab/bin/hyperion-lab
# Machines of `make lab-up` (lab1 cafe1 cafe2 for 3) and their Debian suite.
N ?= 3
SUITE ?= trixie
# The lab tests build images in a cache of their own unless told to share one.
LAB_PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider

.PHONY: lab-image lab-up lab-down lab-down-all lab-ssh lab-status test-lab test-lab-unit test-lab-vm molecule-lab-smoke

# Each target that builds an image or starts machines first checks the lab's Debian packages (and, as
# root, installs the missing ones): see packages-% in the Makefile.
lab-image: packages-lab ## build (or find cached) the trixie lab image
	$(LAB_CLI) image --suite $(SUITE)

lab-up: packages-lab ## start the demo VM lab (qemu TCG)
	$(LAB_CLI) up -n $(N) --suite $(SUITE)

lab-down: ## stop the demo lab's machines
	$(LAB_CLI) down

# Every lab, molecule's included.
lab-down-all: ## stop the machines of every lab, molecule's included
	$(LAB_CLI) down --all

lab-ssh: ## open a shell on a lab machine (HOST=<machine>)
	@if [ -z "$(HOST)" ]; then echo "usage: make lab-ssh HOST=<machine> (make lab-status lists them)" >&2; exit 2; fi
	$(LAB_CLI) ssh $(HOST)

lab-status: ## list the lab's machines and their state
	$(LAB_CLI) status --all

# Pure parts of the lab: no VM, seconds.
test-lab-unit: setup
	$(LAB_PYTEST) -m "not vm" workbench/tests/lab

# The real thing: build (or reuse) the image, boot, SSH, reboot, GRUB's command line, clean stop.
test-lab-vm: packages-lab setup ## the VM lab tests: boot through GRUB, SSH, reboot, tc on a guest
	$(LAB_PYTEST) -m vm workbench/tests/lab

molecule-lab-smoke: packages-lab setup ## the smallest lab molecule scenario (an example to copy)
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(BUILD)/collections $(BIN)/molecule test -s lab_smoke

# molecule-lab-smoke stays a target of its own: the host_config scenario runs the same create,
# converge, idempotence, reboot, verify and destroy steps on real roles in make test.
test-lab: test-lab-unit test-lab-vm ## the VM lab's own tests (unit and VM)
# Parts of `make test`. The VM tests boot machines under TCG (3 min alone, 8 beside the rollout
# scenario's create) and run in lane 1 after the unit tests: the rollout lane (two machines and the
# repository) is shorter than lane 2's two one-machine scenarios. The image is built (or found in the
# cache) before the lanes start, so that no scenario waits on another's build.
TEST_TARGETS += test-lab-unit
TEST_PREPARE += lab-image
TEST_LANE_1 += test-lab-vm
