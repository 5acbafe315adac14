# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion-check: the profile check without Ansible, for kernel builders.

Checks this machine's running kernel, or a kernel config file, against a
profile and prints a text or JSON report. Exit status: 0 compliant, 1 drift,
2 bad input.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import subprocess
import sys

from .check import evaluate, verdict
from .errors import HyperionError
from .fragment import render_fragment
from .facts import gather_facts
from .profile import wanted_sources
from .profile_files import available, load_resolved
from .report import format_text, render_seed_mapping


def run_command(argv):
    """(rc, stdout, stderr) of a tool; a missing tool is rc 127."""
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    except OSError as exc:
        return 127, '', '%s: %s' % (argv[0], exc.strerror or exc)
    out, err = proc.communicate()
    return proc.returncode, out, err


def captured_output_name(argv):
    """The file a capture tree keeps the output of ARGV in: ``tc -j qdisc show`` -> cmd/tc-j-qdisc-show.json.

    The layout of workbench/capture/capture-state.sh (see tests/unit/fixtures/README.md).
    """
    name = '-'.join(word.lstrip('-') for word in argv)
    return os.path.join('cmd', name + ('.json' if '-j' in argv else '.txt'))


def captured_runner(root):
    """A ``run`` that answers from the captured command outputs under ROOT, never from this machine.

    A command that was not captured is a failed source (rc 127), so its items are unknown.
    """
    def run(argv):
        path = os.path.join(root, captured_output_name(argv))
        try:
            with open(path) as handle:
                return 0, handle.read(), ''
        except (IOError, OSError) as exc:
            return 127, '', '%s: not captured under --root %s (%s: %s)' % (
                ' '.join(argv), root, path, exc.strerror or exc)
    return run


def build_parser():
    parser = argparse.ArgumentParser(
        prog='hyperion-check',
        description='Check the running kernel, or a kernel config file, against a Hyperion profile.')
    parser.add_argument('--profile', default='hyperion-2.2.4',
                        help='shipped profile name or path to a YAML/JSON profile (default: %(default)s; shipped: '
                             + ', '.join(available('profile')) + ')')
    parser.add_argument('--overlay', action='append', default=[], metavar='NAME_OR_PATH',
                        help='site overlay, repeatable (shipped: %s)' % ', '.join(available('overlay')))
    parser.add_argument('--config', metavar='FILE',
                        help='check this kernel config file (.config, /boot/config-*, config.gz) instead of the running kernel')
    parser.add_argument('--root', default='/',
                        help='read procfs/sysfs under this directory (default: /); with another directory, command '
                             'outputs (tc, ip) come from its cmd/ captures, never from this machine')
    parser.add_argument('--format', choices=('text', 'json'), default='text')
    parser.add_argument('--all', action='store_true', help='list passing and not applicable items too')
    parser.add_argument('--fail-on', choices=('required', 'recommended', 'never'), default='required')
    parser.add_argument('--strict', action='store_true', help='unknown required items count as failures')
    parser.add_argument('--override', action='append', default=[], metavar='ID=VALUE',
                        help='exact value for one item, repeatable (e.g. CONFIG_LOCALVERSION=-hyperion)')
    parser.add_argument('--fragment', action='store_true',
                        help="print the profile's CONFIG_ items as a Kconfig fragment and exit")
    parser.add_argument('--seed-mapping', action='store_true',
                        help='print the table of release-notes names and the real interfaces checked, and exit')
    return parser


def parse_overrides(pairs):
    overrides = {}
    for pair in pairs:
        item_id, sep, value = pair.partition('=')
        if not sep or not item_id:
            raise HyperionError('--override %r must be ID=VALUE' % pair)
        overrides[item_id] = value
    return overrides


def main(argv=None, stdout=None, run=run_command):
    stdout = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        profile = load_resolved(args.profile, args.overlay, parse_overrides(args.override))
        if args.fragment:
            stdout.write(render_fragment(profile))
            return 0
        if args.seed_mapping:
            stdout.write(render_seed_mapping(profile))
            return 0
        sysctls, modparams = wanted_sources(profile)
        if os.path.realpath(args.root) != os.path.realpath('/'):
            # The tree under --root is another machine (or a capture of one): the live tc would describe this one.
            run = captured_runner(args.root)
        facts = gather_facts(args.root, None if args.config else run, sysctls=sysctls, modparams=modparams,
                             subsets=['config'] if args.config else None, config_path=args.config)
        if args.config and facts['config'].get('options') is None:
            raise HyperionError(facts['config']['error'])
        results, summary = evaluate(profile, facts, config_only=bool(args.config))
        compliant, message = verdict(summary, args.fail_on, args.strict)
    except HyperionError as exc:
        sys.stderr.write('hyperion-check: error: %s\n' % exc)
        return 2
    if args.format == 'json':
        json.dump({'compliant': compliant, 'message': message, 'profile': profile['name'],
                   'overlays': profile.get('overlays', []), 'kernel_release': facts['kernel']['release'],
                   'config_source': facts['config'].get('source'), 'items': results, 'summary': summary,
                   'errors': facts['errors']}, stdout, indent=2, sort_keys=True)
        stdout.write('\n')
    else:
        subject = args.config or 'running kernel %s' % facts['kernel']['release']
        title = '%s against %s%s' % (subject, profile['name'],
                                     ''.join(' + ' + o for o in profile.get('overlays', [])))
        show = ('pass', 'fail', 'not_applicable', 'unknown') if args.all else ('fail', 'unknown')
        stdout.write(format_text(results, summary, title, show=show))
        for error in facts['errors']:
            stdout.write('note: %s\n' % error)
        if not compliant:
            verdict_word = 'DRIFT'
        elif summary['counts']['fail']:
            verdict_word = 'PASSED WITH DRIFT (--fail-on %s)' % args.fail_on
        else:
            verdict_word = 'COMPLIANT'
        stdout.write('%s: %s\n' % (verdict_word, message))
    return 0 if compliant else 1
