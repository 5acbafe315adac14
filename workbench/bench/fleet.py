# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of simulated hosts: one real sshd per network namespace, on veth links.

Each host is a network namespace ``hbench-NN`` with a veth pair: ``eth0`` inside
(10.78.0.<10+N>/24, default route to the controller side) and ``hbv-NN`` on the
bridge ``hbench0`` (10.78.0.1/24) in the controller's namespace. sshd runs in the
namespace with a configuration of its own (LogLevel VERBOSE, a log file per host),
so the benchmark counts connections and sessions from sshd's own log, bytes from
the veth counters and the hosts' CPU from the sshd process tree.

The hosts share this machine's kernel and file system: what they read in /proc and
/sys is this machine's (the network part is the namespace's own). That makes the
fleet a measure of cost, not of a heterogeneous fleet.

Needs root, iproute2 and openssh-server (sshd). Everything is removed by down();
``python3 workbench/bench/run.py clean`` (make bench-clean) removes what a crashed run left,
ending processes by the namespace they run in, never by name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import signal
import subprocess
import time

NS_PREFIX = 'hbench-'
BRIDGE = 'hbench0'
VETH_PREFIX = 'hbv-'
SUBNET = '10.78.0'
CONTROLLER_ADDRESS = SUBNET + '.1'
FIRST_HOST_OCTET = 10
MAX_HOSTS = 200  # the hard cap: addresses .10-.209 in one /24
SSHD_CANDIDATES = ('/usr/sbin/sshd', '/usr/bin/sshd')


def host_address(index):
    return '%s.%d' % (SUBNET, FIRST_HOST_OCTET + index)


def host_name(index):
    return 'sim%02d' % (index + 1)


def _run(argv, check=True):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError('%s failed (rc=%d): %s' % (' '.join(argv), proc.returncode, proc.stderr.strip()))
    return proc


def find_sshd():
    for path in SSHD_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which('sshd')


def leftover_namespaces():
    out = _run(['ip', 'netns', 'list'], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(NS_PREFIX)]


def clean(state_dir=None, log=print):
    """Remove every namespace, process and link a run of this benchmark may have left."""
    namespaces = leftover_namespaces()
    for ns in namespaces:
        pids = _run(['ip', 'netns', 'pids', ns], check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGTERM)
            except (OSError, ValueError):
                pass
    deadline = time.time() + 5
    for ns in namespaces:
        while _run(['ip', 'netns', 'pids', ns], check=False).stdout.split() and time.time() < deadline:
            time.sleep(0.1)
        for pid in _run(['ip', 'netns', 'pids', ns], check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        _run(['ip', 'netns', 'del', ns], check=False)
    if os.path.exists('/sys/class/net/' + BRIDGE):
        _run(['ip', 'link', 'del', BRIDGE], check=False)
    for name in os.listdir('/sys/class/net'):
        if name.startswith(VETH_PREFIX):
            _run(['ip', 'link', 'del', name], check=False)
    if state_dir:
        close_control_masters(os.path.join(state_dir, 'cp'))
    if namespaces:
        log('removed %d namespace(s) of the fleet' % len(namespaces))


def close_control_masters(directory):
    """Ask every SSH control master with a socket in directory to exit (by its socket)."""
    if not os.path.isdir(directory):
        return 0
    closed = 0
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        _run(['ssh', '-o', 'ControlPath=' + path, '-O', 'exit', 'bench-master'], check=False)
        closed += 1
        if os.path.exists(path):
            os.unlink(path)
    return closed


SSHD_CONFIG = '''\
# A simulated host of the hyperion.kernel benchmark (written by workbench/bench/fleet.py).
ListenAddress {address}:22
HostKey {state}/ssh_host_ed25519_key
PidFile {host_dir}/sshd.pid
AuthorizedKeysFile {state}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
# VERBOSE logs every accepted key (a connection) and every started session (a command).
LogLevel VERBOSE
MaxStartups 200
MaxSessions 200
Subsystem sftp {sftp}
'''


class Fleet(object):
    """N sshd hosts in network namespaces; use as a context manager."""

    def __init__(self, count, state_dir, log=print):
        if not 1 <= count <= MAX_HOSTS:
            raise ValueError('host count must be 1 to %d, got %d' % (MAX_HOSTS, count))
        self.count = count
        self.state = os.path.abspath(state_dir)
        self.log = log
        self.procs = []
        self.sshd = find_sshd()
        if not self.sshd:
            raise RuntimeError('sshd not found: install openssh-server (the benchmark runs real sshd instances)')

    # -- set-up ------------------------------------------------------------
    def _keys(self):
        os.makedirs(self.state, exist_ok=True)
        host_key = os.path.join(self.state, 'ssh_host_ed25519_key')
        client_key = os.path.join(self.state, 'id_ed25519')
        for path in (host_key, client_key):
            if not os.path.exists(path):
                _run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'hyperion-bench', '-f', path])
        shutil.copyfile(client_key + '.pub', os.path.join(self.state, 'authorized_keys'))
        # sshd's privilege separation directory (the package's service unit makes it; nothing runs that here).
        os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
        return client_key

    def up(self):
        clean(self.state, log=self.log)
        self.client_key = self._keys()
        _run(['ip', 'link', 'add', BRIDGE, 'type', 'bridge'])
        _run(['ip', 'addr', 'add', CONTROLLER_ADDRESS + '/24', 'dev', BRIDGE])
        _run(['ip', 'link', 'set', BRIDGE, 'up'])
        sftp = next((p for p in ('/usr/lib/openssh/sftp-server', '/usr/libexec/sftp-server') if os.path.exists(p)),
                    'internal-sftp')
        for index in range(self.count):
            ns, veth, address = NS_PREFIX + '%02d' % (index + 1), VETH_PREFIX + '%02d' % (index + 1), host_address(index)
            host_dir = os.path.join(self.state, 'hosts', host_name(index))
            os.makedirs(host_dir, exist_ok=True)
            _run(['ip', 'netns', 'add', ns])
            _run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
            _run(['ip', 'link', 'set', veth, 'master', BRIDGE, 'up'])
            _run(['ip', '-n', ns, 'addr', 'add', address + '/24', 'dev', 'eth0'])
            _run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
            _run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
            _run(['ip', '-n', ns, 'route', 'add', 'default', 'via', CONTROLLER_ADDRESS])
            config = os.path.join(host_dir, 'sshd_config')
            with open(config, 'w') as handle:
                handle.write(SSHD_CONFIG.format(address=address, state=self.state, host_dir=host_dir, sftp=sftp))
            log_file = os.path.join(host_dir, 'sshd.log')
            open(log_file, 'w').close()
            proc = subprocess.Popen(['ip', 'netns', 'exec', ns, self.sshd, '-D', '-f', config, '-E', log_file],
                                    stdin=subprocess.DEVNULL)
            self.procs.append(proc)
        self._wait_listening()
        self.log('fleet up: %d sshd hosts on %s.%d-%d' % (
            self.count, SUBNET, FIRST_HOST_OCTET, FIRST_HOST_OCTET + self.count - 1))
        return self

    def _wait_listening(self, timeout=30):
        deadline = time.time() + timeout
        pending = set(range(self.count))
        while pending and time.time() < deadline:
            for index in sorted(pending):
                with open(self.log_file(index)) as handle:
                    if 'Server listening on' in handle.read():
                        pending.discard(index)
                if self.procs[index].poll() is not None:
                    raise RuntimeError('sshd of %s exited (rc=%s); see %s' % (
                        host_name(index), self.procs[index].returncode, self.log_file(index)))
            time.sleep(0.1)
        if pending:
            raise RuntimeError('sshd not listening after %ds on %d host(s)' % (timeout, len(pending)))

    def down(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []
        clean(self.state, log=self.log)

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()
        return False

    # -- what a run left in the hosts -----------------------------------------
    def log_file(self, index):
        return os.path.join(self.state, 'hosts', host_name(index), 'sshd.log')

    def hosts(self):
        return [(host_name(i), host_address(i)) for i in range(self.count)]

    def snapshot(self):
        """Counters now: sshd log sizes, veth bytes, the sshd trees' CPU seconds."""
        snap = {'log_offsets': [], 'tx_bytes': 0, 'rx_bytes': 0, 'host_cpu_s': 0.0}
        for index in range(self.count):
            snap['log_offsets'].append(os.path.getsize(self.log_file(index)))
            veth = VETH_PREFIX + '%02d' % (index + 1)
            # The controller-side end: tx is what went to the host, rx what came back.
            for key in ('tx_bytes', 'rx_bytes'):
                with open('/sys/class/net/%s/statistics/%s' % (veth, key)) as handle:
                    snap[key] += int(handle.read())
            snap['host_cpu_s'] += process_tree_cpu(self.procs[index].pid)
        return snap

    def delta(self, before):
        """Connections, sessions, bytes and host CPU since a snapshot."""
        after = self.snapshot()
        connections = sessions = 0
        for index in range(self.count):
            with open(self.log_file(index)) as handle:
                handle.seek(before['log_offsets'][index])
                text = handle.read()
            connections += len(ACCEPTED_RE.findall(text))
            sessions += len(SESSION_RE.findall(text))
        return {
            'ssh_connections': connections,
            'ssh_sessions': sessions,
            'bytes_to_hosts': after['tx_bytes'] - before['tx_bytes'],
            'bytes_from_hosts': after['rx_bytes'] - before['rx_bytes'],
            'hosts_cpu_s': round(after['host_cpu_s'] - before['host_cpu_s'], 2),
        }


ACCEPTED_RE = re.compile(r'^.*Accepted publickey for ', re.M)
SESSION_RE = re.compile(r'^.*Starting session: ', re.M)
_CLK_TCK = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


def process_tree_cpu(pid):
    """CPU seconds of a process and its reaped children (utime+stime+cutime+cstime)."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            fields = handle.read().rpartition(')')[2].split()
    except (IOError, OSError):
        return 0.0
    # After the command name: state is field 3, utime..cstime are fields 14-17.
    return sum(int(value) for value in fields[11:15]) / float(_CLK_TCK)
