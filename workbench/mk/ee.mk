# The collection in an execution environment (AWX, Ansible Automation Platform); included by the
# Makefile. `ansible-builder create` writes the build context of workbench/tests/integration/ee/execution-environment.yml
# into .build/ee (no container engine), and the check runs the context's own introspection over the
# collection installed from the same tarball: the image would get ansible-core the collection supports,
# the collection, and the Python requirements of meta/execution-environment.yml. Seconds.
.PHONY: test-ee
test-ee: setup ## ansible-builder create of the execution environment definition
	$(BIN)/python -m pytest -q -p no:cacheprovider workbench/tests/integration/ee
TEST_TARGETS += test-ee
