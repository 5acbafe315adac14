# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One module run through AnsibleModule, as the module tests drive every module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19 (make test-oldest-core): the arguments the way AnsibleModule reads them
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


def run_module(module, args, capsys):
    """(exit code, result) of ``module.main()`` with ``args``; a traceback in the output fails the test."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as excinfo:
            module.main()
    out = capsys.readouterr().out
    assert 'Traceback' not in out
    return excinfo.value.code, json.loads(out)
