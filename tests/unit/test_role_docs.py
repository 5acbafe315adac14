# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role READMEs: variables tables that match meta/argument_specs.yml, example playbooks that use real options.

Each roles/<role>/README.md carries, between its "generated from meta/argument_specs.yml" markers, one
table per entry point that workbench/tools/role-docs (`make role-docs`) makes from the role's argument spec. In
the repository the generator's own check runs (`workbench/tools/role-docs --check`: a stale README fails the
test, named). The collection tarball ships the READMEs and the specs but not the generator (a tool of
the repository, galaxy.yml's build_ignore), so the tables are also read back here and compared with the
specs directly, everywhere: every option and suboption in the spec's order, its type, elements,
required, default (read back as YAML), choices, and no Ansible markup left.

The "Example playbook" section of every README holds a playbook that uses the role by its FQCN; every
variable it sets (play vars, a role's vars or parameters, an include_role's vars, suboptions of a list
of dicts) must be an option of the argument spec of the role it is given to, so an example never shows
an option the role does not have.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT, load_script

COLLECTION = 'hyperion.kernel'
BEGIN = '<!-- BEGIN generated from meta/argument_specs.yml -->'
END = '<!-- END generated from meta/argument_specs.yml -->'
GENERATOR = os.path.join(ROOT, 'workbench', 'tools', 'role-docs')
needs_generator = pytest.mark.skipif(not os.path.isfile(GENERATOR), reason='workbench/tools/role-docs is a tool of the repository, '
                                     'which the collection tarball leaves out (the tables are checked against the specs below)')

# Ansible's markup that must not be left in a table: C(x), V(x), O(x), M(x), ...
RAW_MARKUP = re.compile(r'\b(?:RV|[CVOMIBULREP])\(')
# Keywords of a role entry in a play's roles: (everything else there is a variable of the role).
ROLE_KEYWORDS = frozenset(('role', 'name', 'vars', 'tags', 'when', 'become', 'become_user', 'become_method',
                           'delegate_to', 'environment', 'collections', 'any_errors_fatal', 'ignore_errors',
                           'tasks_from', 'defaults_from', 'vars_from', 'handlers_from', 'public', 'apply',
                           'allow_duplicates', 'rolespec_validate', 'check_mode', 'diff', 'no_log'))
INCLUDE_ROLE = frozenset(('include_role', 'import_role', 'ansible.builtin.include_role', 'ansible.builtin.import_role'))
TASK_LISTS = ('pre_tasks', 'tasks', 'post_tasks', 'handlers', 'block', 'rescue', 'always')


def spec_roles():
    base = os.path.join(ROOT, 'roles')
    return sorted(name for name in os.listdir(base) if os.path.isfile(os.path.join(base, name, 'meta', 'argument_specs.yml')))


def argument_specs(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
        return yaml.safe_load(handle)['argument_specs']


def readme(role):
    with open(os.path.join(ROOT, 'roles', role, 'README.md'), encoding='utf-8') as handle:
        return handle.read()


def generated_part(text):
    assert text.count(BEGIN) == 1 and text.count(END) == 1, 'the README needs exactly one pair of markers'
    start, end = text.index(BEGIN), text.index(END)
    assert start < end
    return text[start + len(BEGIN):end]


def cells(row):
    """The cells of a table row, the escaped pipes in them unescaped."""
    return [cell.strip().replace('\\|', '|') for cell in re.split(r'(?<!\\)\|', row)[1:-1]]


def uncode(cell):
    """The text of a cell that is one code span."""
    match = re.match(r'^(`+) ?(.*?) ?\1$', cell)
    assert match, 'not a code span: %r' % cell
    return match.group(2)


def tables(part):
    """{entry point: [row cells, ...]} of a README's generated part."""
    found = {}
    current = None
    for line in part.splitlines():
        match = re.match(r'^Entry point `([^`]+)`', line)
        if match:
            current = found.setdefault(match.group(1), [])
        elif line.startswith('| `'):
            assert current is not None, 'a table row before its entry point: %s' % line
            current.append(cells(line))
    return found


def flat_options(options, prefix=''):
    """[(name as the table writes it, spec)] of OPTIONS and their suboptions, in the spec's order."""
    flat = []
    for name, spec in (options or {}).items():
        spec = spec or {}
        flat.append((prefix + name, spec))
        if spec.get('options'):
            flat.extend(flat_options(spec['options'], prefix + name + ('[].' if spec.get('type') == 'list' else '.')))
    return flat


@pytest.mark.parametrize('role', spec_roles())
def test_table_matches_argument_spec(role):
    found = tables(generated_part(readme(role)))
    specs = argument_specs(role)
    assert list(found) == list(specs), 'one table per entry point, in the spec\'s order'
    for entry, spec in specs.items():
        wanted = flat_options(spec.get('options'))
        rows = found[entry]
        assert [uncode(row[0]) for row in rows] == [name for name, _spec in wanted], (
            '%s: the rows of entry point %s are not the options of the spec (run make role-docs)' % (role, entry))
        for row, (name, option) in zip(rows, wanted):
            assert len(row) == 5, row
            kind = option.get('type', 'str') + (' of %s' % option['elements'] if 'elements' in option else '')
            assert row[1] == kind, '%s: type of %s' % (role, name)
            assert row[2] == ('yes' if option.get('required') else 'no'), '%s: required of %s' % (role, name)
            if 'default' not in option:
                assert row[3] == '', '%s: %s has no default in the spec' % (role, name)
            elif isinstance(option['default'], str):
                assert uncode(row[3]) == (option['default'] or '""'), '%s: default of %s' % (role, name)
            else:
                assert yaml.safe_load(uncode(row[3])) == option['default'], '%s: default of %s' % (role, name)
            for choice in option.get('choices', []):
                assert '`%s`' % choice in row[4], '%s: choice %s of %s' % (role, choice, name)
            if option.get('description'):
                assert row[4], '%s: %s has no description' % (role, name)
            prose = re.sub(r'(`+).*?\1', '', row[4])
            assert not RAW_MARKUP.search(prose), '%s: Ansible markup left in the description of %s: %s' % (role, name, row[4])


@needs_generator
def test_no_readme_is_stale():
    result = subprocess.run([sys.executable, GENERATOR, '--check', '--root', ROOT], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, 'stale role READMEs (run make role-docs):\n' + result.stdout + result.stderr


def copy_role(root, role):
    for part in ('README.md', os.path.join('meta', 'argument_specs.yml')):
        target = os.path.join(str(root), 'roles', role, part)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(os.path.join(ROOT, 'roles', role, part), target)
    return os.path.join(str(root), 'roles', role, 'README.md')


@needs_generator
def test_check_names_a_stale_readme_and_a_run_fixes_it_keeping_the_prose(tmp_path):
    stale = copy_role(tmp_path, 'zram')
    current = copy_role(tmp_path, 'tuning')
    with open(stale, encoding='utf-8') as handle:
        text = handle.read()
    spec_path = os.path.join(str(tmp_path), 'roles', 'zram', 'meta', 'argument_specs.yml')
    with open(spec_path, encoding='utf-8') as handle:
        spec = handle.read()
    with open(spec_path, 'w', encoding='utf-8') as handle:
        handle.write(spec.replace('description: The package of zram-generator.',
                                  'description: The package of zram-generator, see C(apt-cache show) and O(zram_size).'))
    with open(stale, 'w', encoding='utf-8') as handle:
        handle.write('# hand-written title\n\nHand-written prose.\n' + text[text.index('\n## '):])

    command = [sys.executable, GENERATOR, '--root', str(tmp_path)]
    result = subprocess.run(command + ['--check'], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert 'roles/zram/README.md' in result.stdout and 'tuning' not in result.stdout

    assert subprocess.run(command, capture_output=True, text=True, check=False).returncode == 0
    assert subprocess.run(command + ['--check'], capture_output=True, text=True, check=False).returncode == 0
    with open(stale, encoding='utf-8') as handle:
        fixed = handle.read()
    assert fixed.startswith('# hand-written title\n\nHand-written prose.\n')
    assert 'The package of zram-generator, see `apt-cache show` and `zram_size`.' in fixed
    with open(current, encoding='utf-8') as handle:
        assert handle.read() == readme('tuning')


@needs_generator
def test_a_readme_without_markers_gets_a_variables_section(tmp_path):
    path = copy_role(tmp_path, 'tuning')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('# hyperion.kernel.tuning\n\nProse.\n')
    subprocess.run([sys.executable, GENERATOR, '--root', str(tmp_path), 'tuning'], check=True, capture_output=True)
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    assert text.startswith('# hyperion.kernel.tuning\n\nProse.\n\n## Variables\n\n' + BEGIN)
    assert generated_part(text) == generated_part(readme('tuning'))


def load_generator():
    return load_script('role_docs', GENERATOR)


@needs_generator
@pytest.mark.parametrize('markup, markdown', [
    ('C(x) and V(y), O(z=1), M(hyperion.kernel.tc_qdisc)', '`x` and `y`, `z=1`, `hyperion.kernel.tc_qdisc`'),
    ('C(min(ram / 2, 8192)) then C((type=idle))', '`min(ram / 2, 8192)` then `(type=idle)`'),
    ('C(type=idle|huge) or a|b', '`type=idle\\|huge` or a\\|b'),
    ('I(not) B(this), U(https://example.org), L(the docs, https://example.org/d)',
     '*not* **this**, <https://example.org>, [the docs](https://example.org/d)'),
    ('kernel_source=repo, "_" and * and <64 hex>', 'kernel_source=repo, "\\_" and \\* and &lt;64 hex>'),
    ('a backtick C(`) in code', 'a backtick `` ` `` in code'),
    ('ABC(x) is no markup', 'ABC(x) is no markup'),
])
def test_markup_becomes_markdown(markup, markdown):
    assert load_generator().markup_to_markdown(markup) == markdown


def example_blocks(role, text):
    """The YAML code blocks of the README's "Example playbook" section."""
    match = re.search(r'^## Example playbook\n(.*?)(?=^## |\Z)', text, re.M | re.S)
    assert match, '%s: the README has no "## Example playbook" section' % role
    blocks = re.findall(r'^```ya?ml\n(.*?)^```', match.group(1), re.M | re.S)
    assert blocks, '%s: the "Example playbook" section has no yaml block' % role
    return [yaml.safe_load(block) for block in blocks]


def fqcn_role(name):
    assert name.startswith(COLLECTION + '.'), 'a role of this collection by its FQCN: %s' % name
    return name[len(COLLECTION) + 1:]


def check_value(where, spec, value, problems):
    """Suboptions: the keys of a dict (or of each dict in a list) that the spec describes."""
    suboptions = spec.get('options')
    if not suboptions:
        return
    for item in (value if isinstance(value, list) else [value]):
        if isinstance(item, dict):
            for key, inner in item.items():
                if key not in suboptions:
                    problems.append('%s.%s is not a suboption of the spec' % (where, key))
                else:
                    check_value('%s.%s' % (where, key), suboptions[key], inner, problems)


def check_vars(variables, roles, problems, where):
    """Every variable in VARIABLES is an option of (the entry point of) one of ROLES [(role, entry point)]."""
    for name, value in (variables or {}).items():
        owners = [argument_specs(role).get(entry, {}).get('options', {}).get(name) for role, entry in roles]
        owners = [spec for spec in owners if spec is not None]
        if not owners:
            problems.append('%s: %s is not an option of %s' % (
                where, name, ', '.join('%s.%s (%s)' % (COLLECTION, role, entry) for role, entry in roles) or 'any role'))
        for spec in owners:
            check_value('%s: %s' % (where, name), spec, value, problems)


def role_tasks(tasks):
    """(task, role, entry point) of every include_role or import_role in TASKS (blocks included)."""
    for task in tasks or []:
        for key in TASK_LISTS:
            if key in task:
                yield from role_tasks(task[key])
        for action in INCLUDE_ROLE & set(task):
            yield task, fqcn_role(task[action]['name']), task[action].get('tasks_from', 'main')


@pytest.mark.parametrize('role', spec_roles())
def test_example_playbook_uses_only_options_of_the_role(role):
    problems = []
    used = set()
    for block in example_blocks(role, readme(role)):
        if isinstance(block, dict):
            # The variables of an inventory or a vars file, for this README's role.
            check_vars(block, [(role, 'main')], problems, 'vars')
            continue
        assert isinstance(block, list), '%s: an example is a playbook (a list of plays) or a dict of variables' % role
        for play in block:
            play_roles = []
            for entry in play.get('roles', []):
                entry = {'role': entry} if isinstance(entry, str) else entry
                name = fqcn_role(entry.get('role') or entry.get('name'))
                point = entry.get('tasks_from', 'main')
                play_roles.append((name, point))
                params = dict((key, value) for key, value in entry.items() if key not in ROLE_KEYWORDS)
                params.update(entry.get('vars') or {})
                check_vars(params, [(name, point)], problems, '%s, role %s' % (play.get('name'), name))
            for key in TASK_LISTS:
                for task, name, point in role_tasks(play.get(key)):
                    play_roles.append((name, point))
                    check_vars(task.get('vars'), [(name, point)], problems, '%s, task %s' % (play.get('name'), task.get('name')))
            check_vars(play.get('vars'), play_roles, problems, '%s, play vars' % play.get('name'))
            used.update(name for name, _point in play_roles)
    assert role in used, 'the example playbook does not use %s.%s' % (COLLECTION, role)
    assert not problems, '%s README example:\n' % role + '\n'.join(problems)
