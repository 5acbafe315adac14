# The collection as a user has it; included by the Makefile. `make collection-install` builds the
# tarball (ansible-galaxy collection build, into .build/collection/) and installs it, with exactly the
# collections galaxy.yml declares as dependencies (taken offline from the ansible package in .venv,
# each checked against its minimum), into a collections path of its own:
# .build/installed/<hash of the sources>/ansible_collections/..., .build/installed/latest names the
# newest. A change of the sources gives a new directory, so a scenario still running keeps its copy;
# the same sources reuse theirs (build and install took 2.5-2.8 s here, a reuse 1 s: always run).
#   eval "$(make -s collection-env)"    this shell sees only the installed collections
COLLECTION_INSTALLED := $(BUILD)/installed/latest
COLLECTION_INSTALL := $(BIN)/python workbench/tools/install-collection --build-dir $(BUILD) --link $(COLLECTION_INSTALLED)
# The environment of a command that must see only the installed collection and its dependencies: the
# resolved path (not the link, which a later install moves), and not the collections of the ansible
# package that Ansible finds on Python's path. Use it after `make collection-install`:
#   $(ONLY_INSTALLED_COLLECTIONS) ansible-playbook ...
ONLY_INSTALLED_COLLECTIONS = ANSIBLE_COLLECTIONS_PATH="$$(readlink -e $(CURDIR)/$(COLLECTION_INSTALLED))" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

.PHONY: collection-install collection-env test-collection-install

collection-install: setup ## build the tarball and install it with its declared dependencies only
	$(COLLECTION_INSTALL) >/dev/null

collection-env: collection-install ## print the environment that sees only the installed collection
	@echo "export ANSIBLE_COLLECTIONS_PATH=$$(readlink -e $(CURDIR)/$(COLLECTION_INSTALLED)) ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false"

# With only the installed path visible: every plugin's documentation, the playbooks' and scenarios'
# syntax, profile_check on this machine, and a role that fails to load without a dependency. Seconds.
test-collection-install: setup ## the installed collection loads, documents and runs alone
	PYTHONPATH=$(CURDIR)/$(BUILD)/collections $(BIN)/python -m pytest -q -p no:cacheprovider workbench/tests/integration/collection
TEST_TARGETS += test-collection-install

# The tarball holds the collection only (its file list against an allow-list, both ways), and the unit
# tests it ships pass in the installed copy, outside the repository: from a scratch directory (pytest's
# and hypothesis' files stay out of the installed copy), without the repository's ansible.cfg.
test-collection-tarball: collection-install ## the tarball's allow-list, and its shipped unit tests in the installed copy
	$(BIN)/python -m pytest -q -p no:cacheprovider workbench/tests/integration/tarball/test_tarball.py
	installed="$$(readlink -e $(COLLECTION_INSTALLED))"; scratch="$$(mktemp -d)"; trap 'rm -rf "$$scratch"' EXIT; \
	cd "$$scratch" && env -u ANSIBLE_CONFIG PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$$installed" \
	  $(CURDIR)/$(BIN)/python -m pytest -q -p no:cacheprovider "$$installed/ansible_collections/hyperion/kernel/tests/unit"
# In lane 1 with the rollout scenario: the two lanes carry about the same minutes (docs/testing.md).
TEST_LANE_1 += test-collection-tarball
