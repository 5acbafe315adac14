# The host configuration roles (boot_params, zram, network, tuning) on a lab machine with Debian's
# kernel (the rollout scenario runs them on the Hyperion test kernel).
.PHONY: test-host-config molecule-host-config

test-host-config: setup ## the host_config molecule scenario
	$(MAKE) --no-print-directory molecule-host-config

# The scenario alone; make test runs it in a lane. It runs the collection as a user installs it, with
# only its declared dependencies (workbench/mk/collection.mk).
molecule-host-config: setup collection-install ## the host_config scenario alone
	$(ONLY_INSTALLED_COLLECTIONS) $(BIN)/molecule test -s host_config

# Part of `make test`: converge, idempotence, the refusals and a reboot (side_effect), testinfra and
# profile_check from outside, in the lane beside the rollout.
TEST_LANE_2 += molecule-host-config
