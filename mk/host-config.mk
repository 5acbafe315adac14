# The host configuration roles (boot_params, zram, network, tuning): one molecule scenario with two
# lab machines, one on the Hyperion test kernel, one on Debian's kernel. kernel-package returns the
# cached test kernel in seconds (a cold cache builds it first).
.PHONY: test-host-config molecule-host-config

test-host-config: setup kernel-package
	$(MAKE) --no-print-directory molecule-host-config

# The scenario alone: make test builds the test kernel first (TEST_PREPARE), then runs this in a lane.
molecule-host-config: setup
	HYPERION_KERNEL_PACKAGE_DIR=$(KERNEL_PACKAGE_DIR) \
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(BUILD)/collections $(BIN)/molecule test -s host_config

# Part of `make test`: converge, idempotence, the refusals and a reboot (side_effect), testinfra and
# profile_check from outside; about 25 min here on a warm cache (the test kernel is shared with test-kernel).
TEST_PREPARE += kernel-package
TEST_LANE_1 += molecule-host-config
