# The Hyperion test kernel package and the build role's tests (included by the top Makefile).
KERNEL_PACKAGE_CACHE ?= $(HYPERION_CACHE)/kernel-package
# The newest build; the scenarios read it through the hyperion.kernel.test_kernel lookup.
KERNEL_PACKAGE_DIR ?= $(KERNEL_PACKAGE_CACHE)/latest

.PHONY: kernel-package test-build

# The role's refusal tests run the config step only (seconds per case, about 2 min in all): part of
# make test, in lane 2 after the lab's VM tests.
TEST_LANE_2 += test-build

# The BORE and ADIOS patches (shared/patches/ beside the checkout), applied in name order through the
# build role's build_patches. Without them the test kernel is Debian's source alone, and the build
# record names BORE and ADIOS as accepted missing with the reason, which the demo inventory and the
# scenarios turn into skipped profile items.
KERNEL_PATCH_DIR ?= $(abspath $(CURDIR)/../shared/patches)
KERNEL_PATCHES := $(sort $(wildcard $(KERNEL_PATCH_DIR)/*.patch))
kernel_mk_comma := ,
kernel_mk_empty :=
kernel_mk_space := $(kernel_mk_empty) $(kernel_mk_empty)
KERNEL_PATCHES_JSON := [$(subst $(kernel_mk_space),$(kernel_mk_comma),$(patsubst %,"%",$(KERNEL_PATCHES)))]

# Debian trixie's linux-source-6.12 + the BORE and ADIOS patches + the qemu-guest trim + the profile,
# LOCALVERSION -hyperion. The role keys the build on a hash of its inputs: a warm cache finishes in seconds.
# A cold build takes most of an hour under make test: build-progress says every minute how far it is.
kernel-package: setup ## build (or find cached) the test kernel package with BORE and ADIOS
	@if [ -z "$(KERNEL_PATCHES)" ]; then \
	  echo "kernel-package: no *.patch in $(KERNEL_PATCH_DIR): building without BORE and ADIOS (set KERNEL_PATCH_DIR)"; fi
	read -r source_id source_tree < <(workbench/packaging/fetch-linux-source.sh trixie linux-source-6.12); \
	start=$$SECONDS; \
	workbench/packaging/build-progress kernel-package $(KERNEL_PACKAGE_CACHE) & progress=$$!; \
	trap 'kill $$progress 2>/dev/null' EXIT; \
	$(BIN)/ansible-playbook playbooks/build_test_kernel.yml \
	  -e build_source_path="$$source_tree" -e build_source_id="$$source_id" -e build_dir=$(KERNEL_PACKAGE_CACHE) \
	  -e '{"test_kernel_patches": $(KERNEL_PATCHES_JSON)}'; \
	echo "kernel-package: $$((SECONDS - start)) s; packages:"; \
	ls -l $(KERNEL_PACKAGE_CACHE)/latest/*.deb

test-build: setup ## the build role's refusal tests against the real kernel source
	PYTHONPATH=$(CURDIR)/$(BUILD)/collections $(BIN)/python -m pytest -q workbench/tests/integration/build
