# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gather a host's running kernel state in one pass.

Everything is read below ``root`` (normally '/'), so tests point it at a tree
of real captured files. Commands (``tc``, ``ip``) go through ``run``, a
callable taking an argv list and returning ``(rc, stdout, stderr)``. A source
that cannot be read leaves an entry in ``errors`` and its part of the facts
empty; it never aborts the rest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from .blockdev import read_block_devices
from .bore import BORE_SYSCTLS, bore_state
from .cmdline import parse_cmdline
from .errors import SourceError
from .kconfig import read_config_file, read_running_config
from .sched import FEATURES_FILES, PREEMPT_FILES, SCHED_EXT_OPS, SCHED_EXT_STATE, parse_features, parse_preempt, parse_sched_ext_state
from .sysrq import always_enabled_by
from .tc import normalize_qdiscs, parse_qdisc_json, root_summary
from .validation import require
from .zram import parse_bracketed_choice, parse_proc_swaps, read_zram_devices

SUBSETS = ('kernel', 'config', 'cmdline', 'sysctl', 'modparams', 'zram', 'network', 'block', 'bore', 'tracing', 'thp', 'tty', 'sched')

# Sysctls every fact run reads, whatever the profile asks for.
STANDARD_SYSCTLS = ('kernel.sysrq', 'net.ipv4.tcp_congestion_control', 'net.ipv4.tcp_available_congestion_control',
                    'net.core.default_qdisc', 'vm.swappiness', 'vm.page-cluster') + BORE_SYSCTLS
STANDARD_MODPARAMS = ('zswap.enabled', 'zswap.compressor', 'kgdboc.kgdboc')
TRACEFS_DIRS = ('sys/kernel/tracing', 'sys/kernel/debug/tracing')
DYNDBG_CONTROLS = ('proc/dynamic_debug/control', 'sys/kernel/debug/dynamic_debug/control')
_VERSION_RE = re.compile(r'^(\d+\.\d+(?:\.\d+)?)')


def _path(root, rel):
    return os.path.join(root, rel)


def read_text(path):
    """File contents, or None when the file does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise SourceError('cannot read %s: %s' % (path, exc.strerror or exc))


def sysctl_path(key):
    """proc/sys path of a sysctl key (net.ipv4.tcp_congestion_control -> proc/sys/net/ipv4/...)."""
    return 'proc/sys/' + key.replace('.', '/')


def kernel_version(release):
    """'6.12.57' from '6.12.57+deb13-amd64'; None when the release is not a version."""
    match = _VERSION_RE.match(release or '')
    return match.group(1) if match else None


class _Gatherer(object):
    def __init__(self, root, run):
        self.root = root
        self.run = run
        self.errors = []

    def text(self, rel):
        try:
            return read_text(_path(self.root, rel))
        except SourceError as exc:
            self.errors.append(str(exc))
            return None

    def kernel(self):
        release = (self.text('proc/sys/kernel/osrelease') or '').strip()
        if not release and self.root == '/':
            release = os.uname()[2]
        return {'release': release or None, 'version': kernel_version(release)}

    def config(self, release, config_path=None):
        try:
            if config_path:
                config = read_config_file(config_path)
            else:
                config, _tried = read_running_config(release, self.root)
        except SourceError as exc:
            self.errors.append(str(exc))
            return {'source': None, 'options': None, 'error': str(exc)}
        return {'source': config.source, 'version': config.version, 'options': config.to_dict()}

    def cmdline(self):
        raw = self.text('proc/cmdline')
        if raw is None:
            return {'raw': None, 'params': None, 'init_args': [], 'sysrq_always_enabled': None}
        parsed = parse_cmdline(raw)
        params = parsed.to_dict()
        # The parameter that turns the SysRq override on, as the kernel matches it (any value, '-' or '_').
        return {'raw': parsed.raw, 'params': params, 'init_args': parsed.init_args,
                'sysrq_always_enabled': always_enabled_by(params)}

    def sysctls(self, keys):
        values = {}
        for key in keys:
            raw = self.text(sysctl_path(key))
            values[key] = None if raw is None else ' '.join(raw.split())
        return values

    def modparams(self, names):
        values = {}
        for name in names:
            module, _sep, param = name.partition('.')
            raw = self.text('sys/module/%s/parameters/%s' % (module, param)) if param else None
            values[name] = None if raw is None else raw.strip()
        return values

    def zram(self):
        try:
            devices = read_zram_devices(self.root)
        except SourceError as exc:
            self.errors.append(str(exc))
            devices = {}
        swaps = []
        raw = self.text('proc/swaps')
        if raw is not None:
            try:
                swaps = parse_proc_swaps(raw)
            except SourceError as exc:
                self.errors.append(str(exc))
        for swap in swaps:
            name = os.path.basename(swap['filename'])
            if name in devices:
                devices[name]['swap_priority'] = swap['priority']
        meminfo = self.meminfo()
        mem_total = meminfo.get('MemTotal')
        for device in devices.values():
            if mem_total and device.get('disksize') is not None:
                device['disksize_ratio'] = round(device['disksize'] / (mem_total * 1024.0), 3)
        active = any(os.path.basename(s['filename']).startswith('zram') for s in swaps)
        # MemAvailable lets the zram role judge whether a swap in use can be rebuilt live.
        return {'devices': devices, 'swaps': swaps, 'zram_swap_active': active, 'mem_total_kib': mem_total,
                'mem_available_kib': meminfo.get('MemAvailable')}

    def meminfo(self):
        values = {}
        raw = self.text('proc/meminfo') or ''
        for line in raw.splitlines():
            key, _sep, rest = line.partition(':')
            fields = rest.split()
            if fields and fields[0].isdigit():
                values[key.strip()] = int(fields[0])
        return values

    def command_json(self, argv):
        if self.run is None:
            return None
        rc, out, err = self.run(argv)
        if rc != 0:
            self.errors.append('%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out or '').strip()[:300]))
            return None
        return out

    def network(self):
        result = {'qdiscs': None, 'root_qdiscs': None, 'default_route_devs': None}
        out = self.command_json(['tc', '-j', 'qdisc', 'show'])
        if out is not None:
            try:
                by_dev = normalize_qdiscs(parse_qdisc_json(out))
                result['qdiscs'] = by_dev
                result['root_qdiscs'] = dict((dev, root_summary(qdiscs)) for dev, qdiscs in by_dev.items())
            except SourceError as exc:
                self.errors.append(str(exc))
        out = self.command_json(['ip', '-j', 'route', 'show', 'default'])
        if out is not None:
            try:
                routes = json.loads(out or '[]')
                result['default_route_devs'] = sorted(set(r['dev'] for r in routes if isinstance(r, dict) and r.get('dev')))
            except ValueError as exc:
                self.errors.append('ip -j route show default: output is not JSON: %s' % exc)
        return result

    def tracing(self):
        for rel in TRACEFS_DIRS:
            raw = self.text(rel + '/available_tracers')
            if raw is not None:
                return {'source': _path(self.root, rel), 'available_tracers': raw.split()}
        self.errors.append('available_tracers not readable: tracefs is not mounted at /sys/kernel/tracing '
                           '(or the kernel has no CONFIG_FTRACE)')
        return {'source': None, 'available_tracers': None}

    def dynamic_debug(self):
        for rel in DYNDBG_CONTROLS:
            if os.path.exists(_path(self.root, rel)):
                return {'control': _path(self.root, rel)}
        return {'control': None}

    def thp(self):
        result = {}
        for attr in ('enabled', 'defrag'):
            rel = 'sys/kernel/mm/transparent_hugepage/' + attr
            raw = self.text(rel)
            if raw is None:
                result[attr] = None
                continue
            try:
                result[attr] = parse_bracketed_choice(raw, _path(self.root, rel))[0]
            except SourceError as exc:
                self.errors.append(str(exc))
                result[attr] = None
        return result

    def _parsed(self, rel, parse):
        raw = self.text(rel)
        if raw is None:
            return None
        try:
            return parse(raw, _path(self.root, rel))
        except SourceError as exc:
            self.errors.append(str(exc))
            return None

    def sched(self):
        """The preemption mode, the scheduler features (both in debugfs, root only) and sched_ext's state.
        A kernel without PREEMPT_DYNAMIC has no preempt file (None, no error); no features file means debugfs is
        not mounted or not readable here (None and an error); a kernel without sched_ext has no state (None)."""
        result = {'preempt': None, 'features': None, 'sched_ext': None}
        features_file = next((rel for rel in FEATURES_FILES if os.path.exists(_path(self.root, rel))), None)
        if features_file is None:
            self.errors.append('scheduler features not readable: debugfs is not mounted at /sys/kernel/debug, or it '
                               'is readable by root only')
        else:
            result['features'] = self._parsed(features_file, parse_features)
            result['preempt'] = self._parsed(PREEMPT_FILES[0], parse_preempt)
        state = self._parsed(SCHED_EXT_STATE, parse_sched_ext_state)
        if state is not None:
            ops = self.text(SCHED_EXT_OPS)
            result['sched_ext'] = {'state': state, 'ops': ops.strip() if ops else None}
        return result

    def ttys(self, names):
        """{name: {'exists', 'uart_type'}} for each tty NAME under /sys/class/tty. uart_type is the port's UART
        type (drivers/tty/serial/serial_core.c's type attribute: 0 is PORT_UNKNOWN, a name without a UART behind
        it); None where the tty has none (a virtual console, a pseudo terminal) or does not exist."""
        result = {}
        for name in names:
            # A name becomes a path: one component, never '..' or a '/'.
            require('tty_name', name, 'a tty name')
            base = _path(self.root, 'sys/class/tty/' + name)
            exists = os.path.exists(base)
            uart_type = None
            if exists and os.path.exists(os.path.join(base, 'type')):
                raw = self.text('sys/class/tty/%s/type' % name)
                if raw is not None and raw.strip().isdigit():
                    uart_type = int(raw.strip())
            result[name] = {'exists': exists, 'uart_type': uart_type}
        return result


def module_command_runner(module):
    """A ``run`` callable over an AnsibleModule-like object (get_bin_path, run_command).

    A missing tool is a failed source (rc 127), not a module failure.
    """
    def run(argv):
        path = module.get_bin_path(argv[0])
        if path is None:
            return 127, '', '%s not found in PATH' % argv[0]
        return module.run_command([path] + list(argv[1:]))
    return run


def gather_facts(root='/', run=None, subsets=None, sysctls=(), modparams=(), config_path=None, ttys=()):
    """The running state as a JSON-friendly dict; see the module docs of kernel_facts."""
    wanted = set(subsets or SUBSETS)
    unknown = wanted - set(SUBSETS)
    if unknown:
        raise SourceError('unknown fact subset(s) %s; known: %s' % (', '.join(sorted(unknown)), ', '.join(SUBSETS)))
    gatherer = _Gatherer(root, run)
    facts = {'kernel': gatherer.kernel()}
    if 'config' in wanted:
        facts['config'] = gatherer.config(facts['kernel']['release'], config_path)
    if 'cmdline' in wanted:
        facts['cmdline'] = gatherer.cmdline()
    if 'sysctl' in wanted or 'bore' in wanted:
        keys = list(STANDARD_SYSCTLS) + [k for k in sysctls if k not in STANDARD_SYSCTLS]
        facts['sysctl'] = gatherer.sysctls(keys)
    if 'bore' in wanted:
        facts['bore'] = bore_state(facts['sysctl'])
    if 'modparams' in wanted:
        names = list(STANDARD_MODPARAMS) + [n for n in modparams if n not in STANDARD_MODPARAMS]
        facts['modparams'] = gatherer.modparams(names)
        # Whether each module is there at all (loaded, or built in with parameters): a parameter of a module that
        # is not loaded has no running value yet.
        facts['modules'] = dict((module, os.path.isdir(_path(root, 'sys/module/' + module)))
                                for module in sorted(set(n.partition('.')[0] for n in names)))
    if 'zram' in wanted:
        facts['zram'] = gatherer.zram()
    if 'network' in wanted:
        facts['network'] = gatherer.network()
    if 'block' in wanted:
        facts['block'] = read_block_devices(root)
    if 'tracing' in wanted:
        facts['tracing'] = gatherer.tracing()
        facts['dynamic_debug'] = gatherer.dynamic_debug()
    if 'thp' in wanted:
        facts['thp'] = gatherer.thp()
    if 'tty' in wanted:
        facts['tty'] = gatherer.ttys(ttys)
    if 'sched' in wanted:
        facts['sched'] = gatherer.sched()
    facts['errors'] = gatherer.errors
    return facts
