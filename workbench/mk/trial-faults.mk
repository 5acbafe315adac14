# The trial boot's faults on one lab machine (molecule/trial_faults): the controller lost during the trial
# boot (the host's own deadline brings it back) and a kernel that cannot boot (it panics, GRUB brings the
# old one back).
.PHONY: test-trial-faults molecule-trial-faults

test-trial-faults: setup kernel-package fault-kernel ## the trial_faults molecule scenario with the kernels it needs
	$(MAKE) --no-print-directory molecule-trial-faults

# The scenario alone, with both kernels already built; make test runs it in a lane.
molecule-trial-faults: setup collection-install ## the trial_faults scenario alone (both kernels already built)
	HYPERION_KERNEL_PACKAGE_DIR=$(KERNEL_PACKAGE_DIR) \
	$(ONLY_INSTALLED_COLLECTIONS) $(BIN)/molecule test -s trial_faults

# Part of `make test`, in the lane beside the rollout scenario, after the other one-machine scenario.
TEST_LANE_2 += molecule-trial-faults
