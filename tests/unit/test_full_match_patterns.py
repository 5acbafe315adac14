# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No pattern of the collection lets a trailing newline through.

``re.match(r'^x$', 'x\\n')`` matches: ``$`` also matches before a final newline. A value checked that
way and written into a file gains a line of its own. So the collection's Python matches whole values
with ``re.fullmatch`` (or the helpers of module_utils/validation.py), and its roles with the
``hyperion.kernel.valid`` test or ``regex(..., match_type='fullmatch')``. This test reads every
Python file under plugins/ and every YAML file and template under roles/, playbooks/ and the top
level, and fails on:

- a regular expression literal ending in an unescaped ``$`` (a parser that works line by line with
  ``(?m)`` is the one exception: it reads lines, it validates nothing);
- a call of ``re.match`` (``re.fullmatch`` says what is meant);
- Jinja's ``match`` and ``search`` tests with a pattern anchored by ``$``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_DIRS = ('plugins',)
YAML_DIRS = ('roles', 'playbooks', 'plugins')
TOP_LEVEL_PLAYBOOKS = ('deploy.yml', 'rollback.yml', 'check.yml')
_RE_FUNCTIONS = ('compile', 'match', 'fullmatch', 'search', 'sub', 'subn', 'findall', 'finditer', 'split')


def _files(dirs, suffixes):
    for top in dirs:
        for base, _dirs, names in os.walk(os.path.join(ROOT, top)):
            for name in sorted(names):
                if name.endswith(suffixes):
                    yield os.path.join(base, name)


def _ends_with_dollar(pattern):
    """True when PATTERN ends in a '$' that is an anchor (not '\\$') and the pattern is not (?m)."""
    if pattern.startswith('(?m)') or not pattern.endswith('$'):
        return False
    backslashes = len(pattern[:-1]) - len(pattern[:-1].rstrip('\\'))
    return backslashes % 2 == 0


def python_problems(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        func = node.func
        if not (isinstance(func.value, ast.Name) and func.value.id == 're' and func.attr in _RE_FUNCTIONS):
            continue
        where = '%s:%d' % (os.path.relpath(path, ROOT), node.lineno)
        if func.attr == 'match':
            problems.append('%s: re.match matches a prefix; use re.fullmatch' % where)
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            if _ends_with_dollar(node.args[0].value) and func.attr in ('compile', 'match', 'fullmatch', 'search'):
                problems.append('%s: %r ends in $, which accepts a trailing newline; use \\Z or re.fullmatch'
                                % (where, node.args[0].value))
    # A compiled pattern is used with .match() somewhere else: the literal check above covers it.
    return problems


# Jinja's match/search tests: `x is match('...$')`, `select('match', '...$')`, `reject('search', ...)`.
_JINJA_TEST_RE = re.compile(r"""(?:is\s+(?:not\s+)?(?:match|search)\s*\(|(?:select|reject)\(\s*['"](?:match|search)['"]\s*,)"""
                            r"""\s*(?P<q>['"])(?P<pattern>(?:(?!(?P=q)).)*)(?P=q)""")


def yaml_problems(path):
    with open(path) as handle:
        text = handle.read()
    problems = []
    for found in _JINJA_TEST_RE.finditer(text):
        pattern = found.group('pattern').replace('\\\\', '\\')
        if _ends_with_dollar(pattern):
            line = text.count('\n', 0, found.start()) + 1
            problems.append('%s:%d: %s accepts a trailing newline; use hyperion.kernel.valid or '
                            "regex(..., match_type='fullmatch')" % (os.path.relpath(path, ROOT), line, found.group(0)))
    return problems


def all_problems():
    problems = []
    for path in _files(PYTHON_DIRS, ('.py',)):
        problems.extend(python_problems(path))
    yaml_files = list(_files(YAML_DIRS, ('.yml', '.yaml', '.j2')))
    # The repository's top-level playbooks; the collection tarball has none.
    yaml_files.extend(os.path.join(ROOT, name) for name in TOP_LEVEL_PLAYBOOKS if os.path.isfile(os.path.join(ROOT, name)))
    for path in yaml_files:
        problems.extend(yaml_problems(path))
    return problems


def test_no_pattern_lets_a_trailing_newline_through():
    problems = all_problems()
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('source, found', [
    ("import re\nre.compile(r'^[a-z]+$')\n", True),
    ("import re\nre.match(r'[a-z]+', x)\n", True),
    ("import re\nre.fullmatch(r'[a-z]+', x)\n", False),
    ("import re\nre.compile(r'^[a-z]+\\Z')\n", False),
    ("import re\nre.compile(r'(?m)^Id=(\\S+)$')\n", False),
    ("import re\nre.compile(r'price\\$')\n", False),
])
def test_the_python_scan_finds_what_it_should(tmp_path, source, found):
    path = tmp_path / 'module.py'
    path.write_text(source)
    assert bool(python_problems(str(path))) is found


@pytest.mark.parametrize('source, found', [
    ("that: x is match('^[a-z]+$')\n", True),
    ("that: x is not search(\"^[a-z]+$\")\n", True),
    ("v: \"{{ l | reject('match', '^[0-9]+$') | list }}\"\n", True),
    ("that: x is match('^https?://')\n", False),
    ("that: x is hyperion.kernel.valid('mac')\n", False),
    ("v: \"{{ l | select('regex', '^[0-9]+$', match_type='fullmatch') }}\"\n", False),
])
def test_the_yaml_scan_finds_what_it_should(tmp_path, source, found):
    path = tmp_path / 'tasks.yml'
    path.write_text(source)
    assert bool(yaml_problems(str(path))) is found
