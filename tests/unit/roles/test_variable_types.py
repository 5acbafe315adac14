# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role variables keep the type `-e key=value` gives them: a string.

A role's argument spec accepts "false" for a bool and "20" for an int, but it does not convert the
variable, and extra vars outrank anything a role could set. So every expression that uses a bool
option as a truth value must say `| bool` (ansible-core refuses a string in a condition, and a
template takes "false" as true), and every comparison or sum with an int option must say `| int`.
A value handed to a module as a whole (`"{{ kernel_allow_unsigned }}"`) is converted by the
module's own argument spec and needs nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
# Task keywords whose value is a bare Jinja expression.
EXPRESSION_KEYS = ('when', 'failed_when', 'changed_when', 'until', 'that')
JINJA = re.compile(r'{{(.*?)}}|{%(.*?)%}', re.S)
OPERATOR = r'(?:[<>!=]=?|[-+*/%]|\bin\b)'


def typed_options():
    """{role: {option: type}} for the bool and int options of every role's argument spec."""
    options = {}
    for spec_file in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))):
        role = spec_file.split(os.sep)[-3]
        with open(spec_file) as spec:
            entry_points = yaml.safe_load(spec)['argument_specs']
        for entry_point in entry_points.values():
            for name, option in (entry_point.get('options') or {}).items():
                if option.get('type') in ('bool', 'int'):
                    options.setdefault(role, {})[name] = option['type']
    return options


def jinja_expressions(text):
    """The expressions inside {{ }} and {% %} of a string, without Jinja's whitespace markers (- and +)."""
    for match in JINJA.finditer(text):
        yield (match.group(1) or match.group(2)).strip().strip('-+').strip()


def expressions(node, key=None):
    """(expression, is_condition) for every Jinja expression in a task file's data."""
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from expressions(child, child_key)
    elif isinstance(node, list):
        for child in node:
            yield from expressions(child, key)
    elif isinstance(node, str):
        if key in EXPRESSION_KEYS:
            yield node, True
        else:
            for expression in jinja_expressions(node):
                yield expression, False


def untyped_uses(expression, is_condition, name, kind):
    """The uses of option `name` in `expression` that take a string for a bool or an int."""
    if not is_condition and expression == name:
        return []  # the whole value: a module argument or a rendered value
    uses = []
    code = re.sub(r"'[^']*'|\"[^\"]*\"", "''", expression)  # a name inside a message is not a use
    for match in re.finditer(r'(?<![\w.])%s\b' % re.escape(name), code):
        after = code[match.end():]
        if kind == 'bool':
            if not re.match(r'\s*\|\s*bool\b', after):
                uses.append(expression)
        elif not re.match(r'\s*\|\s*int\b', after):
            before = code[:match.start()]
            if re.search(OPERATOR + r'\s*$', before) or re.match(r'\s*' + OPERATOR, after):
                uses.append(expression)
    return uses


def role_files(role):
    """The role's task, handler and template files (its defaults and specs only declare)."""
    patterns = ('tasks/**/*.yml', 'handlers/**/*.yml', 'templates/**/*.j2')
    return sorted(path for pattern in patterns
                  for path in glob.glob(os.path.join(ROOT, 'roles', role, pattern), recursive=True))


def problems_in(path, options):
    with open(path) as handle:
        text = handle.read()
    if path.endswith('.j2'):
        found = [(expression, expression.startswith(('if ', 'elif '))) for expression in jinja_expressions(text)]
    else:
        found = list(expressions(yaml.safe_load(text)))
    problems = []
    for expression, is_condition in found:
        for name, kind in options.items():
            for use in untyped_uses(expression, is_condition, name, kind):
                problems.append('%s: %s (%s) in: %s' % (os.path.relpath(path, ROOT), name, kind, use))
    return problems


OPTIONS = typed_options()


def test_the_roles_declare_typed_options():
    # The check below must see the roles it guards.
    assert {'kernel', 'rollout', 'zram', 'build', 'boot_params'} <= set(OPTIONS)
    assert OPTIONS['kernel']['kernel_set_default'] == 'bool'
    assert OPTIONS['rollout']['rollout_panic_timeout'] == 'int'


@pytest.mark.parametrize('role', sorted(OPTIONS))
def test_typed_options_are_cast_where_they_are_used(role):
    problems = [problem for path in role_files(role) for problem in problems_in(path, OPTIONS[role])]
    assert problems == []


@pytest.mark.parametrize('expression, is_condition, name, kind, flagged', [
    ('kernel_set_default', True, 'kernel_set_default', 'bool', True),
    ('not kernel_set_default | bool', True, 'kernel_set_default', 'bool', False),
    ('kernel_set_default', False, 'kernel_set_default', 'bool', False),
    ("kernel_set_default and ansible_facts['kernel'] != x", False, 'kernel_set_default', 'bool', True),
    ('item.kernel_set_default', True, 'kernel_set_default', 'bool', False),
    ("[] if x else ['Secure Boot is on (kernel_set_default)']", False, 'kernel_set_default', 'bool', False),
    ('__kernel_removable_releases | length > kernel_keep_previous | int', True, 'kernel_keep_previous', 'int', False),
    ('__kernel_removable_releases | length > kernel_keep_previous', True, 'kernel_keep_previous', 'int', True),
    ('build_jobs * 2', False, 'build_jobs', 'int', True),
    ("'-j' ~ build_jobs", False, 'build_jobs', 'int', False),
])
def test_the_check_tells_a_cast_use_from_a_bare_one(expression, is_condition, name, kind, flagged):
    assert bool(untyped_uses(expression, is_condition, name, kind)) is flagged


def test_the_playbooks_cast_the_role_options_they_use():
    every_option = {}
    for options in OPTIONS.values():
        every_option.update(options)
    playbooks = sorted(glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))
    assert playbooks
    assert [problem for path in playbooks for problem in problems_in(path, every_option)] == []


def test_template_expressions_lose_their_whitespace_markers():
    text = "{%- if __zram_multi_comp | bool %}\nrecomp={{ __zram_alg -}}\n{%+ endif %}"
    assert list(jinja_expressions(text)) == ['if __zram_multi_comp | bool', '__zram_alg', 'endif']
