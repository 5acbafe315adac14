# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One module run through AnsibleModule, as the module tests drive every module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args


def run_module(module, args, capsys):
    """(exit code, result) of ``module.main()`` with ``args``; a traceback in the output fails the test."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as excinfo:
            module.main()
    out = capsys.readouterr().out
    assert 'Traceback' not in out
    return excinfo.value.code, json.loads(out)
