# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import os
import subprocess
import sys

from ansible_collections.hyperion.kernel.plugins.module_utils.cli import main

HERE = os.path.dirname(os.path.abspath(__file__))
KCONFIG = os.path.join(HERE, '..', '..', 'fixtures', 'kconfig')
TRIXIE = os.path.join(KCONFIG, 'debian-trixie-6.12.117+deb13-amd64.config')
SCRIPT = os.path.join(HERE, '..', '..', '..', '..', 'tools', 'hyperion-check')


def test_config_file_json_report():
    out = io.StringIO()
    assert main(['--config', TRIXIE, '--format', 'json'], stdout=out) == 1
    report = json.loads(out.getvalue())
    assert report['compliant'] is False
    assert report['config_source'] == TRIXIE
    assert 'CONFIG_SCHED_BORE' in report['summary']['failed_required']
    assert len(report['items']) == report['summary']['total']


def test_text_report_and_never_policy():
    out = io.StringIO()
    assert main(['--config', TRIXIE, '--fail-on', 'never', '--overlay', 'gaming_cafe'], stdout=out) == 0
    text = out.getvalue()
    assert 'against hyperion-2.2.4 + gaming_cafe' in text
    assert 'FAIL CONFIG_SCHED_BORE' in text
    assert text.rstrip().splitlines()[-1].startswith('PASSED WITH DRIFT (--fail-on never): ')


def test_bad_input_exits_2_without_traceback(capsys, tmp_path):
    assert main(['--config', str(tmp_path / 'missing')]) == 2
    assert main(['--profile', 'nope']) == 2
    err = capsys.readouterr().err
    assert 'cannot read kernel config' in err and "unknown profile 'nope'" in err
    assert 'Traceback' not in err


def test_script_runs_without_ansible_on_the_path(tmp_path):
    env = dict(os.environ, PYTHONPATH='')
    proc = subprocess.run([sys.executable, '-S', SCRIPT, '--config', TRIXIE, '--fail-on', 'never'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
                          cwd=str(tmp_path), check=False)
    # -S drops site-packages, so neither Ansible nor PyYAML is importable: YAML profiles need PyYAML.
    assert proc.returncode == 2
    assert 'needs PyYAML' in proc.stderr
    proc = subprocess.run([sys.executable, SCRIPT, '--config', TRIXIE, '--fail-on', 'never'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
                          cwd=str(tmp_path), check=False)
    assert proc.returncode == 0, proc.stderr
    assert 'FAIL CONFIG_SCHED_BORE' in proc.stdout


def test_seed_mapping_doc_is_in_sync_with_the_profile():
    out = io.StringIO()
    assert main(['--seed-mapping'], stdout=out) == 0
    with open(os.path.join(HERE, '..', '..', '..', '..', 'docs', 'seed-mapping.md')) as handle:
        assert handle.read() == out.getvalue(), 'docs/seed-mapping.md is stale: run make docs'
    for name in ('comp_algorithm2', 'CONFIG_ZRAM_DEF_COMP2', 'CONFIG_SCHED_BORE_BURST_SMOOTHNESS', 'CONFIG_IOSCHED_ADIOS',
                 'bore_burst_smoothness', 'NUMA_AWARE_SPINLOCKS', 'CONFIG_UDP_GRO'):
        assert name in out.getvalue()


def test_fragment_output_parses_as_kconfig():
    from ansible_collections.hyperion.kernel.plugins.module_utils.kconfig import NOT_SET, parse_kconfig
    out = io.StringIO()
    assert main(['--fragment', '--override', 'CONFIG_LOCALVERSION=-hyperion'], stdout=out) == 0
    fragment = parse_kconfig(out.getvalue(), source='fragment')
    assert fragment.get('CONFIG_LOCALVERSION') == '-hyperion'
    assert fragment.get('CONFIG_SCHED_BORE') == 'y'
    assert fragment.get('CONFIG_NET_EMATCH_STACK') == '32'
    assert fragment.get('CONFIG_RUST_BUILD_ASSERT_ALLOW') is NOT_SET
    assert fragment.get('CONFIG_DEFAULT_TCP_CONG') == 'bbr'
    assert 'sysctl:kernel.sysrq' not in out.getvalue()


def test_bad_override_syntax(capsys):
    assert main(['--override', 'CONFIG_X']) == 2
    assert 'must be ID=VALUE' in capsys.readouterr().err


# ---------------------------------------------------------------- --root: another machine's captured state

VM_TRIXIE = os.path.join(HERE, '..', '..', 'fixtures', 'vm', 'trixie-6.12.117+deb13-amd64')


def _live_machine(argv):
    raise AssertionError('hyperion-check --root ran %s on the machine it runs on' % ' '.join(argv))


def _qdisc_item(out):
    report = json.loads(out.getvalue())
    return [item for item in report['items'] if item['id'] == 'qdisc:@default_route:root'][0], report


def test_root_reads_qdiscs_from_the_capture_never_from_this_machine(tmp_path):
    import shutil
    root = str(tmp_path / 'capture')
    shutil.copytree(VM_TRIXIE, root)
    # The capture has no default route output; give it one, to the NIC ens3 (its default fq_codel in the capture).
    with open(os.path.join(root, 'cmd', 'ip-j-route-show-default.json'), 'w') as handle:
        json.dump([{'dst': 'default', 'gateway': '10.0.2.2', 'dev': 'ens3'}], handle)
    out = io.StringIO()
    main(['--root', root, '--format', 'json', '--fail-on', 'never'], stdout=out, run=_live_machine)
    item, _report = _qdisc_item(out)
    assert item['status'] == 'fail' and item['actual'] == 'fq_codel', item
    with open(os.path.join(root, 'cmd', 'ip-j-route-show-default.json'), 'w') as handle:
        json.dump([{'dst': 'default', 'dev': 'hyp-cake0'}], handle)
    out = io.StringIO()
    main(['--root', root, '--format', 'json', '--fail-on', 'never'], stdout=out, run=_live_machine)
    item, _report = _qdisc_item(out)
    assert item['status'] == 'pass' and item['actual'] == 'cake', item


def test_root_without_captured_tc_output_reports_the_qdisc_unknown(tmp_path):
    root = tmp_path / 'bare'
    (root / 'proc' / 'sys' / 'kernel').mkdir(parents=True)
    (root / 'proc' / 'sys' / 'kernel' / 'osrelease').write_text('6.12.117+deb13-amd64\n')
    out = io.StringIO()
    main(['--root', str(root), '--format', 'json', '--fail-on', 'never'], stdout=out, run=_live_machine)
    item, report = _qdisc_item(out)
    assert item['status'] == 'unknown' and item['actual'] is None
    assert item['detail'] == 'tc -j qdisc show did not run'
    assert any('tc -j qdisc show: not captured under --root' in error for error in report['errors'])


def test_captured_output_names_follow_the_capture_layout():
    from ansible_collections.hyperion.kernel.plugins.module_utils.cli import captured_output_name
    assert captured_output_name(['tc', '-j', 'qdisc', 'show']) == os.path.join('cmd', 'tc-j-qdisc-show.json')
    assert captured_output_name(['tc', '-s', 'qdisc', 'show']) == os.path.join('cmd', 'tc-s-qdisc-show.txt')
    # the names the capture script wrote
    for argv in (['tc', '-j', 'qdisc', 'show'], ['tc', '-j', '-s', 'qdisc', 'show'], ['ip', '-j', 'link', 'show']):
        assert os.path.isfile(os.path.join(VM_TRIXIE, captured_output_name(argv))), argv
