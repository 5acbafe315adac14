# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gate_checks on this machine, with its real tools: a TCP listener, commands, coreutils' timeout."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

from ansible_collections.hyperion.kernel.plugins.modules import gate_checks
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module


def test_real_connections_and_commands(capsys, tmp_path):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    open_port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    closed_port = closed.getsockname()[1]  # bound, never listening: refused
    script = tmp_path / 'seat-check'
    script.write_text('#!/bin/sh\necho "seat ok"\n')
    script.chmod(0o755)
    try:
        code, result = run_module(gate_checks, {'checks': [
            {'name': 'open', 'tcp': '127.0.0.1:%d' % open_port},
            {'name': 'closed', 'tcp': '127.0.0.1:%d' % closed_port, 'timeout': 2},
            {'name': 'script', 'command': [str(script)]},
            {'name': 'false', 'command': ['/bin/false']},
            {'name': 'slow', 'command': ['/bin/sleep', '30'], 'timeout': 1},
            {'name': 'missing', 'command': [str(tmp_path / 'nothing-here')]},
        ]}, capsys)
    finally:
        listener.close()
        closed.close()
    assert code == 0 and not result['changed']
    statuses = dict((r['name'], (r['status'], r['detail'])) for r in result['results'])
    assert statuses['open'] == ('pass', 'connected')
    assert statuses['closed'][0] == 'fail' and 'refused' in statuses['closed'][1].lower()
    assert statuses['script'] == ('pass', 'seat ok')
    assert statuses['false'] == ('fail', 'exit 1')
    assert statuses['slow'] == ('fail', 'timed out after 1 s')
    assert statuses['missing'][0] == 'fail' and statuses['missing'][1].startswith('cannot run')
    assert result['summary'] == {'passed': False, 'failed': ['closed', 'false', 'slow', 'missing'], 'unknown': []}


def test_fail_on_failure_and_bad_input(capsys):
    code, result = run_module(gate_checks, {'checks': [{'command': ['/bin/false']}], 'fail_on_failure': True}, capsys)
    assert code == 1 and result['msg'] == 'site checks failed: command /bin/false' and result['results']
    code, result = run_module(gate_checks, {'checks': [{'command': ['/bin/true']}], 'fail_on_failure': True}, capsys)
    assert code == 0 and result['summary']['passed']
    code, result = run_module(gate_checks, {'checks': [{'unit_active': 'gdm'}]}, capsys)
    assert code == 1 and 'unit name with its type' in result['msg']
