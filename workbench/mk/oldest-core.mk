# The collection claims ansible-core >= meta/runtime.yml's requires_ansible: its unit tests run on that
# oldest minor version too (the newest patch of it, workbench/tests/oldest-core/requirements.txt), in a venv of
# their own, with the declared dependencies from the installed copy (the `ansible` package that has them
# needs a newer ansible-core). `make unit` is the newest ansible-core, the pin of constraints.txt.
# The core's tests (tests/unit/plugins/module_utils) are left out here: the core imports nothing of Ansible
# (a test of make unit checks it), so their result is the same on every ansible-core.
OLDEST_CORE_VENV := $(BUILD)/venv-oldest-core

.PHONY: test-oldest-core

$(OLDEST_CORE_VENV)/bin/ansible: workbench/tests/oldest-core/requirements.txt
	rm -rf $(OLDEST_CORE_VENV)
	$(PYTHON) -m venv $(OLDEST_CORE_VENV)
	$(OLDEST_CORE_VENV)/bin/pip install --quiet --upgrade pip
	$(OLDEST_CORE_VENV)/bin/pip install --quiet -r workbench/tests/oldest-core/requirements.txt
	touch $@

# Before 2.19 ansible-core's json stdout callback, which the tests read role runs with, was ansible.posix.json. The
# collection itself needs nothing of ansible.posix: the tests take it from the `ansible` package of the main venv,
# after the declared dependencies of the installed copy.
test-oldest-core: setup collection-install $(OLDEST_CORE_VENV)/bin/ansible ## the unit tests on the oldest ansible-core the collection claims
	PYTHONPATH=$(CURDIR)/$(BUILD)/collections \
	HYPERION_TEST_DEPENDENCIES="$$(readlink -e $(COLLECTION_INSTALLED)):$$($(BIN)/python -c 'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[-1]))')" \
	  $(OLDEST_CORE_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/unit \
	    --ignore=tests/unit/plugins/module_utils

TEST_LANE_1 += test-oldest-core

# ansible-test sanity of that oldest ansible-core too (its own rules, tests/sanity/ignore-<minor>.txt):
# the same copy of the collection as `make sanity`, checked by the other end of the claimed range.
OLDEST_SANITY_VENV := $(BUILD)/sanity-venv-oldest-core

.PHONY: sanity-oldest-core

$(OLDEST_SANITY_VENV)/bin/ansible-test: workbench/tests/oldest-core/requirements.txt
	$(call sanity_venv,$(OLDEST_SANITY_VENV),$$(grep -E '^ansible-core==' workbench/tests/oldest-core/requirements.txt))

sanity-oldest-core: setup $(OLDEST_SANITY_VENV)/bin/ansible-test ## ansible-test sanity on the oldest ansible-core the collection claims
	$(call run_sanity,$(OLDEST_SANITY_VENV),$(BUILD)/sanity-oldest-core)

TEST_LANE_1 += sanity-oldest-core
