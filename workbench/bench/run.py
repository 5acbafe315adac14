# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel benchmarks: `make bench` (all parts) or `make bench BENCH=audit`.

    python workbench/bench/run.py [audit] [converge] [rollout] [distribution] [zram-recompress]   run parts, print, write JSON
    python workbench/bench/run.py table RESULTS.json                              print a results file again
    python workbench/bench/run.py clean                                           remove what a crashed run left

Results go to workbench/bench/results/<UTC timestamp>.json (git-ignored). See workbench/bench/README.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import datetime
import json
import os
import platform
import signal
import sys

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(BENCH_DIR))
sys.path.insert(0, BENCH_DIR)

import report  # noqa: E402  pylint: disable=wrong-import-position
import fleet as fleet_mod  # noqa: E402  pylint: disable=wrong-import-position

PARTS = ('audit', 'converge', 'rollout', 'distribution', 'zram-recompress')
# The parts deploy.yml's runs on the demo lab measure together (lab_bench.py).
DEMO_LAB_PARTS = ('converge', 'rollout', 'distribution')


def log(message):
    sys.stderr.write('[bench %s] %s\n' % (datetime.datetime.utcnow().strftime('%H:%M:%S'), message))
    sys.stderr.flush()


def machine():
    info = {'cpus': os.cpu_count(), 'kernel': platform.release(), 'python': platform.python_version()}
    try:
        with open('/proc/loadavg') as handle:
            info['loadavg_at_start'] = handle.read().split()[:3]
    except (IOError, OSError):
        pass
    try:
        from ansible.release import __version__ as ansible_version
        info['ansible_core'] = ansible_version
    except ImportError:
        pass
    return info


def resolve_items(profile_args):
    sys.path.insert(0, os.path.join(REPO, '.build', 'collections'))
    from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved
    resolved = load_resolved(profile=profile_args['profile'], overlays=profile_args['overlays'],
                             overrides={}, base_dir=REPO)
    return resolved['items']


def find_check_playbook():
    for rel in ('check.yml', os.path.join('playbooks', 'check.yml')):
        path = os.path.join(REPO, rel)
        if os.path.isfile(path):
            return path
    return None


def print_results(results):
    sections = []
    if 'audit' in results:
        sections.append(report.audit_table(results['audit']))
    for part, title, keys in LAB_TABLES:
        if part in results:
            sections.append(report.pair_table(results[part], title, keys))
    if results.get('rollout', {}).get('batches'):
        sections.append(report.rollout_table(results['rollout']))
    rerun_time = results.get('converge', {}).get('rerun_time')
    if rerun_time:
        sections.append(report.time_table(rerun_time, 'Converged re-run: where the time went'))
    if 'zram-recompress' in results:
        import zram_recompress
        sections.append(zram_recompress.table(results['zram-recompress']))
    print('\n\n'.join(sections))


LAB_TABLES = (
    ('converge', 'Converged re-run of deploy.yml vs a bare fact-gathering play',
     (('wall_s', 'wall s'), ('changed', 'changed'), ('reboots', 'reboots'))),
    ('rollout', 'Rollout: batch wall time vs the machines\' own reboot (serial log) plus their gate',
     (('batch_ratio', 'batch / (reboot + gate), worst batch'),)),
    ('distribution', 'Package distribution: bytes from the controller per host',
     (('first_run_bytes_per_host', 'first run'), ('rerun_bytes_per_host', 're-run'))),
)


def run_audit_part(args, results_dir, stamp):
    import audit
    from procs import become_subreaper
    become_subreaper()
    profile_args = {'profile': args.profile, 'overlays': args.overlays}
    items = resolve_items(profile_args)
    run_dir = os.path.join(results_dir, 'audit-' + stamp)
    os.makedirs(run_dir, exist_ok=True)
    check_playbook = None if args.one_task_play else find_check_playbook()
    if not check_playbook:
        log('check.yml not found (or --one-task-play): the check variant is the equivalent one-task play')
    fleet = fleet_mod.Fleet(args.hosts, os.path.join(results_dir, 'fleet'), log=log)
    with fleet:
        section = audit.run_audit(fleet, items, profile_args, run_dir, REPO, args.forks, args.timeout,
                                  check_playbook=check_playbook, variants=args.variants,
                                  baseline_items=args.baseline_items, testinfra_workers=args.testinfra_workers,
                                  ansible_env=dict(pair.split('=', 1) for pair in args.ansible_env), log=log)
    section['run_dir'] = os.path.relpath(run_dir, REPO)
    section['verdicts'] = report.audit_verdicts(section)
    return section


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('parts', nargs='*', help='audit, converge, rollout, distribution, zram-recompress (default: all); '
                        'or "table FILE", or "clean"')
    parser.add_argument('--hosts', type=int, default=int(os.environ.get('BENCH_HOSTS', 50)),
                        help='simulated hosts for the audit (1-%d, default 50)' % fleet_mod.MAX_HOSTS)
    parser.add_argument('--forks', type=int, default=int(os.environ.get('BENCH_FORKS', 10)),
                        help='ansible forks and testinfra workers (default 10, as ansible.cfg)')
    parser.add_argument('--timeout', type=int, default=int(os.environ.get('BENCH_TIMEOUT', 1800)),
                        help='seconds one variant may run before it is stopped (default 1800)')
    parser.add_argument('--lab-timeout', type=int, default=int(os.environ.get('BENCH_LAB_TIMEOUT', 5400)),
                        help='seconds one deploy.yml run on the demo lab may take (default 5400; a first run took 40 min)')
    parser.add_argument('--baseline-items', type=int, default=int(os.environ.get('BENCH_BASELINE_ITEMS', 0)),
                        help='run the baselines on this many items spread over the profile and scale their '
                             'figures to all items (default 0: every item)')
    parser.add_argument('--testinfra-workers', type=int, default=None,
                        help='pytest-xdist workers for the testinfra suite (default: --forks; 0: serial)')
    parser.add_argument('--ansible-env', action='append', default=[], metavar='NAME=VALUE',
                        help='an ansible setting for every ansible variant, e.g. ANSIBLE_PIPELINING=False (repeatable)')
    parser.add_argument('--profile', default='hyperion-2.2.4')
    parser.add_argument('--overlay', dest='overlays', action='append', default=[],
                        help='profile overlay, as check.yml would apply it (repeatable)')
    parser.add_argument('--variants', default=os.environ.get('BENCH_VARIANTS'),
                        help='comma-separated subset of check,testinfra,commands')
    parser.add_argument('--one-task-play', action='store_true',
                        help='benchmark the one-task profile_check play even when check.yml exists')
    parser.add_argument('--lab', default=os.environ.get('BENCH_LAB', 'bench'),
                        help='VM lab name for converge/rollout/distribution')
    parser.add_argument('--zram-lab', default=os.environ.get('BENCH_ZRAM_LAB', 'zrec'),
                        help='VM lab name for zram-recompress (one machine, z1)')
    parser.add_argument('--zram-orders', default='zstd:lz4hc,lz4hc:zstd,lz4:zstd',
                        help='zram-recompress: PRIMARY:RECOMPRESSION orders, comma-separated; an order whose algorithms '
                             'the kernel does not offer is reported as not run')
    parser.add_argument('--zram-reps', type=int, default=3, help='zram-recompress: runs of each order (default 3)')
    parser.add_argument('--zram-workload-mib', type=int, default=512,
                        help='zram-recompress: anonymous memory the workload fills with file contents (default 512)')
    parser.add_argument('--zram-memory-max-mib', type=int, default=128,
                        help='zram-recompress: MemoryMax= of the workload\'s scope, the rest goes to zram swap (default 128)')
    parser.add_argument('--zram-disksize-mib', type=int, default=1024, help='zram-recompress: zram0 disksize (default 1024)')
    parser.add_argument('--zram-reuse-lab', action='store_true',
                        help='zram-recompress: use the lab when it is up already and leave it up (for trying changes; '
                             'the figures of the README come from a fresh lab)')
    parser.add_argument('--zram-vm-memory', type=int, default=1536, help='zram-recompress: the machine\'s MiB (default 1536)')
    parser.add_argument('--results-dir', default=os.path.join(BENCH_DIR, 'results'))
    args = parser.parse_args(argv)
    if args.variants:
        args.variants = [v.strip() for v in args.variants.split(',') if v.strip()]

    if args.parts[:1] == ['table']:
        if len(args.parts) != 2:
            parser.error('table needs one results file')
        with open(args.parts[1]) as handle:
            print_results(json.load(handle))
        return 0
    if args.parts[:1] == ['clean']:
        fleet_mod.clean(os.path.join(args.results_dir, 'fleet'), log=log)
        import lab_bench
        lab_bench.clean(args.lab, log=log)
        import zram_recompress
        zram_recompress.clean(REPO, args.zram_lab, log=log)
        return 0
    parts = args.parts or list(PARTS)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error('unknown part(s) %s; known: %s' % (', '.join(unknown), ', '.join(PARTS)))
    if os.geteuid() != 0:
        parser.error('the benchmark makes network namespaces and boots VMs: run it as root')

    # A stop (Ctrl-C, timeout) still runs the clean-up of the fleet and the lab.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stamp = datetime.datetime.utcnow().strftime('%Y%m%dT%H%M%SZ')
    os.makedirs(args.results_dir, exist_ok=True)
    results = {'schema_version': 1, 'started_utc': stamp, 'machine': machine(), 'parts': parts}
    out_path = os.path.join(args.results_dir, stamp + '.json')

    def save():
        with open(out_path, 'w') as handle:
            json.dump(results, handle, indent=1, sort_keys=True)

    try:
        if 'audit' in parts:
            results['audit'] = run_audit_part(args, args.results_dir, stamp)
            save()
        lab_parts = [p for p in parts if p in DEMO_LAB_PARTS]
        if lab_parts:
            import lab_bench
            results.update(lab_bench.run(lab_parts, args, REPO, os.path.join(args.results_dir, 'lab-' + stamp), log=log))
            save()
        if 'zram-recompress' in parts:
            import zram_recompress
            results['zram-recompress'] = zram_recompress.run(args, REPO, os.path.join(args.results_dir, 'zram-' + stamp), log=log)
    finally:
        results['finished_utc'] = datetime.datetime.utcnow().strftime('%Y%m%dT%H%M%SZ')
        save()
        log('results written to %s' % os.path.relpath(out_path, REPO))
    print_results(results)
    return 0


if __name__ == '__main__':
    sys.exit(main())
