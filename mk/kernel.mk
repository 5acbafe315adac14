# Kernel package pipeline (hyperion.kernel.repo + hyperion.kernel.kernel): included by the top-level Makefile.
# The scenario publishes make kernel-package's test kernel from repo1's signed repository, installs it on
# node1, reboots into it, runs the refusal cases (side_effect) and checks the result with testinfra.
KERNEL_PACKAGE_DIR ?= $(KERNEL_PACKAGE_CACHE)/latest

.PHONY: test-kernel molecule-kernel-package

# The scenario alone: make test builds the test kernel first (TEST_PREPARE), then runs this in a lane.
molecule-kernel-package: setup
	HYPERION_KERNEL_PACKAGE_DIR=$(KERNEL_PACKAGE_DIR) \
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(BUILD)/collections $(BIN)/molecule test -s kernel_package

test-kernel: setup kernel-package
	$(MAKE) --no-print-directory molecule-kernel-package

# Part of `make test`: two lab machines, a real repository, an install and a reboot (a cold cache
# builds the test kernel first, about 15 min).
TEST_PREPARE += kernel-package
TEST_LANE_2 += molecule-kernel-package
