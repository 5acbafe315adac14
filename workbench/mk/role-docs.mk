# The variables tables of the role READMEs, made from each role's meta/argument_specs.yml by
# workbench/tools/role-docs (between the README's "generated from meta/argument_specs.yml" markers; the rest of
# the README is written by hand). tests/unit/test_role_docs.py (make unit) fails when a table is stale.
.PHONY: role-docs

role-docs: setup ## regenerate the variables tables of roles/*/README.md from meta/argument_specs.yml
	$(BIN)/python workbench/tools/role-docs
