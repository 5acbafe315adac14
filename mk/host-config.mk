# The host configuration roles (boot_params, zram, network, tuning): one molecule scenario with two
# lab machines, one on the Hyperion test kernel, one on Debian's kernel. kernel-package returns the
# cached test kernel in seconds (a cold cache builds it first).
.PHONY: test-host-config

test-host-config: setup kernel-package
	HYPERION_KERNEL_PACKAGE_DIR=$(KERNEL_PACKAGE_DIR) \
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(BUILD)/collections $(BIN)/molecule test -s host_config

# Part of `make test`: converge, idempotence, the refusals and a reboot (side_effect), testinfra and
# profile_check from outside; about 25 min here on a warm cache (the test kernel is shared with test-kernel).
TEST_TARGETS += test-host-config
