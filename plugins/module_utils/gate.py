# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's own health checks of a trial boot, beside the profile: what a seat needs to be of use.

A site lists its checks in the inventory (the rollout role's ``rollout_gate_checks``), each a mapping with
an optional ``name`` and exactly one kind:

- ``unit_active: <unit>``: the systemd unit is active (a display manager, a license client);
- ``no_failed_units: true``: systemd has no failed unit;
- ``module_loadable: <module>``: modprobe finds the module for the running kernel (a DKMS-built GPU driver);
- ``tcp: <host>:<port>``: a TCP connection to it opens (``[v6]:port`` for an IPv6 address);
- ``command: [argv...]``: the command exits 0 (an absolute path first; no shell).

``checks`` validates the list before anything runs. ``run`` runs each check through a runner (the module
gives the real one; tests give their own) and returns one result per check with ``status`` pass, fail or
unknown. A check whose answer cannot be had (a tool missing, an answer that cannot be read) is unknown,
and the gate counts unknown as a failure: a check the site asked for and that did not say yes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError

KINDS = ('unit_active', 'no_failed_units', 'module_loadable', 'tcp', 'command')
PASS, FAIL, UNKNOWN = 'pass', 'fail', 'unknown'
# systemd unit names: a name and a type suffix (man systemd.unit); template instances included.
UNIT_RE = re.compile(r'[A-Za-z0-9:_.\\@-]{1,240}\.(service|socket|target|mount|automount|swap|path|timer|device|scope|slice)')
MODULE_RE = re.compile(r'[A-Za-z0-9_-]{1,64}')
HOST_RE = re.compile(r'[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?')
IPV6_RE = re.compile(r'\[[0-9A-Fa-f:.]{2,45}\]')
DEFAULT_TIMEOUT = {'tcp': 5, 'command': 60}
MAX_TIMEOUT = 600
DETAIL_LIMIT = 300


def _where(number, spec):
    name = spec.get('name') if isinstance(spec, dict) else None
    return 'rollout_gate_checks[%d]%s' % (number, ' (%s)' % name if isinstance(name, str) and name else '')


def _tcp_target(value, where):
    if not isinstance(value, str) or ':' not in value:
        raise HyperionError('%s: tcp must be host:port (or [IPv6]:port), got %r' % (where, value))
    host, _sep, port = value.rpartition(':')
    if not (HOST_RE.fullmatch(host) or IPV6_RE.fullmatch(host)):
        raise HyperionError('%s: tcp host %r is not a host name or an address' % (where, host))
    if not re.fullmatch(r'[0-9]{1,5}', port) or not 1 <= int(port) <= 65535:
        raise HyperionError('%s: tcp port must be 1 to 65535, got %r' % (where, port))
    return host.strip('[]'), int(port)


def checks(specs):
    """The validated checks: [{'name', 'kind', 'target', 'timeout'}] in the order given; HyperionError names the
    first bad entry (the list, a check with no kind or two, a bad unit, module, host, port or command)."""
    if specs is None:
        return []
    if not isinstance(specs, list):
        raise HyperionError('rollout_gate_checks must be a list of checks, got %r' % (specs,))
    result = []
    names = set()
    for number, spec in enumerate(specs, 1):
        where = _where(number, spec)
        if not isinstance(spec, dict):
            raise HyperionError('%s must be a mapping with one of %s, got %r' % (where, ', '.join(KINDS), spec))
        unknown = sorted(set(spec) - set(KINDS) - {'name', 'timeout'})
        if unknown:
            raise HyperionError('%s has unknown keys %s (a check has a name, a timeout and one of %s)'
                                % (where, ', '.join(unknown), ', '.join(KINDS)))
        kinds = [kind for kind in KINDS if kind in spec]
        if len(kinds) != 1:
            raise HyperionError('%s must have exactly one of %s, has %s' % (where, ', '.join(KINDS), kinds or 'none'))
        kind = kinds[0]
        value = spec[kind]
        if kind == 'unit_active':
            if not isinstance(value, str) or not UNIT_RE.fullmatch(value):
                raise HyperionError('%s: unit_active must be a unit name with its type (gdm.service), got %r' % (where, value))
            target = value
        elif kind == 'no_failed_units':
            if value is not True:
                raise HyperionError('%s: no_failed_units takes true, got %r' % (where, value))
            target = None
        elif kind == 'module_loadable':
            if not isinstance(value, str) or not MODULE_RE.fullmatch(value):
                raise HyperionError('%s: module_loadable must be a module name (nvidia, i915), got %r' % (where, value))
            target = value
        elif kind == 'tcp':
            target = _tcp_target(value, where)
        else:
            if not isinstance(value, list) or not value or not all(isinstance(arg, str) and '\0' not in arg for arg in value):
                raise HyperionError('%s: command must be a list of strings (the program and its arguments), got %r' % (where, value))
            if not value[0].startswith('/'):
                raise HyperionError('%s: command must start with an absolute path, got %r' % (where, value[0]))
            target = list(value)
        timeout = spec.get('timeout', DEFAULT_TIMEOUT.get(kind))
        if kind in DEFAULT_TIMEOUT and (isinstance(timeout, bool) or not isinstance(timeout, int)
                                        or not 1 <= timeout <= MAX_TIMEOUT):
            raise HyperionError('%s: timeout must be 1 to %d seconds, got %r' % (where, MAX_TIMEOUT, timeout))
        if kind not in DEFAULT_TIMEOUT and 'timeout' in spec:
            raise HyperionError('%s: %s takes no timeout' % (where, kind))
        name = spec.get('name')
        if name is None:
            if kind == 'command':
                name = 'command ' + ' '.join(target)
            elif kind == 'tcp':
                name = 'tcp %s:%d' % target
            else:
                name = ('%s %s' % (kind, target or '')).strip()
        if not isinstance(name, str) or not name.strip() or '\n' in name:
            raise HyperionError('%s: name must be one line of text, got %r' % (where, name))
        if name in names:
            raise HyperionError('%s: the name %r is used twice; each check needs its own' % (where, name))
        names.add(name)
        result.append({'name': name, 'kind': kind, 'target': target, 'timeout': timeout})
    return result


def _detail(text):
    text = ' '.join((text or '').split())
    return text if len(text) <= DETAIL_LIMIT else text[:DETAIL_LIMIT - 3] + '...'


def _one(check, runner):
    kind, target = check['kind'], check['target']
    if kind == 'unit_active':
        rc, out, err = runner.systemctl(['is-active', target])
        state = out.strip()
        if rc is None:
            return UNKNOWN, 'systemctl could not be run: %s' % _detail(err)
        if state == 'active':
            return PASS, 'active'
        if state in ('inactive', 'failed', 'activating', 'deactivating', 'reloading', 'unknown', 'maintenance', 'refreshing'):
            return FAIL, '%s is %s' % (target, state)
        return UNKNOWN, 'systemctl is-active said %r (rc %s): %s' % (state, rc, _detail(err))
    if kind == 'no_failed_units':
        rc, out, err = runner.systemctl(['list-units', '--failed', '--plain', '--no-legend', '--no-pager'])
        if rc is None or rc != 0:
            return UNKNOWN, 'systemctl list-units --failed failed (rc %s): %s' % (rc, _detail(err))
        failed = [line.split()[0] for line in out.splitlines() if line.strip()]
        return (FAIL, 'failed units: %s' % ', '.join(failed)) if failed else (PASS, 'no failed unit')
    if kind == 'module_loadable':
        rc, out, err = runner.modprobe_dry_run(target)
        if rc is None:
            return UNKNOWN, 'modprobe could not be run: %s' % _detail(err)
        if rc == 0:
            return PASS, _detail(out) or 'found for the running kernel'
        return FAIL, _detail(err or out) or 'modprobe --dry-run exited %d' % rc
    if kind == 'tcp':
        host, port = target
        problem = runner.tcp_connect(host, port, check['timeout'])
        return (PASS, 'connected') if problem is None else (FAIL, _detail(problem))
    rc, out, err = runner.run(target, check['timeout'])
    if rc is None:
        return FAIL, _detail(err)
    if rc == 0:
        return PASS, _detail(out.strip().splitlines()[-1] if out.strip() else 'exit 0')
    last = (err.strip() or out.strip()).splitlines()
    return FAIL, 'exit %d%s' % (rc, (': ' + _detail(last[-1])) if last else '')


def run(validated, runner):
    """One result per check, in order: {'name', 'kind', 'status', 'detail'}."""
    results = []
    for check in validated:
        status, detail = _one(check, runner)
        results.append({'name': check['name'], 'kind': check['kind'], 'status': status, 'detail': detail})
    return results


def summary(results):
    """{'passed': bool, 'failed': [names], 'unknown': [names]}: the gate passes only when every check passed."""
    failed = [r['name'] for r in results if r['status'] == FAIL]
    unknown = [r['name'] for r in results if r['status'] == UNKNOWN]
    return {'passed': not failed and not unknown, 'failed': failed, 'unknown': unknown}
