# The kernel command line parser against the kernel's own C code, and the limits of kernel_cmdline (COMMAND_LINE_SIZE,
# the panic timeout) against the same source (tests/unit/plugins/module_utils/test_cmdline_kernel.py).
# `make unit` runs it when the kernel source is already in the cache and skips
# it otherwise; `make test` runs `unit` before TEST_PREPARE's kernel-package fetches the source, so this
# target runs it again in lane 2, after TEST_PREPARE, where a missing source tree is a failure.
.PHONY: unit-kernel-source

unit-kernel-source: setup ## the command-line, kgdboc and sysrq_always_enabled readings and the taprio offload drivers against the kernel's own C code
	read -r _source_id source_tree < <(KERNEL_SOURCE_OFFLINE=1 workbench/packaging/fetch-linux-source.sh trixie linux-source-6.12 \
	                                   || workbench/packaging/fetch-linux-source.sh trixie linux-source-6.12); \
	HYPERION_KERNEL_SOURCE="$$source_tree" HYPERION_REQUIRE_KERNEL_SOURCE=1 PYTHONPATH=$(CURDIR)/$(BUILD)/collections \
	  $(BIN)/python -m pytest -q tests/unit/plugins/module_utils/test_cmdline_kernel.py tests/unit/plugins/module_utils/test_kgdboc_kernel.py \
	    tests/unit/plugins/module_utils/test_sysrq_kernel.py tests/unit/plugins/module_utils/test_taprio_offload_kernel.py

TEST_LANE_2 += unit-kernel-source
