# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole files the roles write, in one call, with what was there before kept for a rollback.

The roles configure a host through whole files they own: drop-ins, units, scripts, rules, tc
batches. ``wanted_files`` checks their description, ``plan`` compares each with the disk, ``apply``
writes the ones that differ atomically (beside, then renamed over) and removes the unwanted ones.

Before a path is changed for the first time, ``apply`` records what was there under a snapshot
directory: the content, mode and owner of a file, the target of a symbolic link, or that nothing
was there, and the directories it had to create. The record is written before the change, so a
run cut off between the two still knows the old state. A path is recorded once: later runs change
it again without touching the record, which keeps describing the host before the collection came.
``restore`` puts every recorded path back as it was, removes the directories the writes created
(when empty) and forgets the snapshot.

Plain Python (no Ansible): the module hyperion.kernel.managed_files is a thin wrapper around it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fnmatch
import grp
import hashlib
import json
import os
import pwd
import re
import stat

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.host import replace_file

SNAPSHOT_SCHEMA = 1
MANIFEST = 'manifest.json'
# The rollout whose changes the snapshot describes the host before: {"release": <its target release>}.
OWNER = 'owner.json'
BLOBS = 'blobs'
MODE_RE = re.compile(r'0?[0-7]{3}')
STATES = ('present', 'absent')
# Diffs show text; longer or binary contents are summarised.
DIFF_LIMIT = 256 * 1024


class Wanted(object):
    """One path as the caller wants it: ``content`` (bytes) with ``mode``, ``uid`` and ``gid``, or absent."""

    __slots__ = ('path', 'content', 'mode', 'uid', 'gid')

    def __init__(self, path, content=None, mode=0o644, uid=0, gid=0):
        self.path = path
        self.content = content
        self.mode = mode
        self.uid = uid
        self.gid = gid

    @property
    def present(self):
        return self.content is not None


def _user_id(name, field):
    if re.fullmatch(r'[0-9]+', name):
        return int(name)
    try:
        return pwd.getpwnam(name).pw_uid if field == 'owner' else grp.getgrnam(name).gr_gid
    except KeyError:
        raise HyperionError('%s %r does not exist on this host' % (field, name))


def check_path(path, what='path'):
    """An absolute, normalised path (no '..', no '//', no trailing '/'); HyperionError otherwise."""
    if not isinstance(path, str) or not path.startswith('/') or path == '/':
        raise HyperionError('%s must be an absolute path of a file, got %r' % (what, path))
    if os.path.normpath(path) != path or path.startswith('//') or '\0' in path:
        raise HyperionError('%s must be a normalised absolute path (no "..", "." or "//"), got %r' % (what, path))
    return path


def wanted_files(specs):
    """[Wanted] from the module's ``files`` option: dicts of path, content, state, mode, owner, group.

    Every entry is checked before anything is read or written: an absolute normalised path named once,
    content given for a present file and not for an absent one, a full-match octal mode, an owner and a
    group that exist.
    """
    wanted = []
    seen = set()
    for number, spec in enumerate(specs or [], 1):
        where = 'files[%d]' % number
        if not isinstance(spec, dict):
            raise HyperionError('%s must be a dict, got %r' % (where, spec))
        path = check_path(spec.get('path'), '%s.path' % where)
        if path in seen:
            raise HyperionError('%s.path %s is named twice; name each file once' % (where, path))
        seen.add(path)
        state = spec.get('state') or 'present'
        if state not in STATES:
            raise HyperionError('%s.state must be one of %s, got %r' % (where, ', '.join(STATES), state))
        content = spec.get('content')
        if state == 'absent':
            if content is not None:
                raise HyperionError('%s (%s) has state absent and content; give one or the other' % (where, path))
            wanted.append(Wanted(path))
            continue
        if not isinstance(content, str):
            raise HyperionError('%s (%s) needs content (a string) when it is present' % (where, path))
        mode = str(spec.get('mode') or '0644')
        if not MODE_RE.fullmatch(mode):
            raise HyperionError('%s.mode must be an octal mode such as 0644 or 0755, got %r' % (where, mode))
        wanted.append(Wanted(path, content.encode('utf-8'), int(mode, 8),
                             _user_id(str(spec.get('owner') or 'root'), 'owner'),
                             _user_id(str(spec.get('group') or 'root'), 'group')))
    return wanted


def purged_files(purge, wanted):
    """[Wanted] absent for the files of the ``purge`` directories ({'path', 'patterns'}) that match a
    pattern and that ``wanted`` does not name: what a role wrote for a plan it no longer has.

    A missing directory has nothing to purge; only files and links directly in it are considered."""
    named = set(item.path for item in wanted)
    extra = []
    for number, spec in enumerate(purge or [], 1):
        where = 'purge[%d]' % number
        if not isinstance(spec, dict):
            raise HyperionError('%s must be a dict, got %r' % (where, spec))
        directory = check_path(spec.get('path'), '%s.path' % where)
        patterns = spec.get('patterns')
        if not patterns or not isinstance(patterns, list) \
                or not all(isinstance(p, str) and p and '/' not in p for p in patterns):
            raise HyperionError('%s.patterns must be a list of file name patterns (such as *.tc), got %r'
                                % (where, patterns))
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                continue
            raise HyperionError('cannot list %s: %s' % (directory, exc.strerror))
        for name in names:
            path = os.path.join(directory, name)
            if path in named or not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
                continue
            if os.path.islink(path) or os.path.isfile(path):
                named.add(path)
                extra.append(Wanted(path))
    return extra


def read_state(path):
    """What is at ``path`` now, as a snapshot entry: {'kind': 'absent'}, a file (content bytes, mode, uid,
    gid) or a symbolic link (target). Anything else (a directory, a device) is a HyperionError: the
    collection never replaces one."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return {'kind': 'absent'}
        raise HyperionError('cannot read %s: %s' % (path, exc.strerror))
    if stat.S_ISLNK(info.st_mode):
        return {'kind': 'symlink', 'target': os.readlink(path)}
    if not stat.S_ISREG(info.st_mode):
        raise HyperionError('%s is not a regular file (a directory or a device); it is left alone' % path)
    try:
        with open(path, 'rb') as handle:
            content = handle.read()
    except OSError as exc:
        raise HyperionError('cannot read %s: %s' % (path, exc.strerror))
    return {'kind': 'file', 'content': content, 'mode': stat.S_IMODE(info.st_mode), 'uid': info.st_uid,
            'gid': info.st_gid}


class Change(object):
    """What ``apply`` does to one path: 'write' (content and metadata), 'metadata' (mode or owner only)
    or 'remove', with the state before."""

    __slots__ = ('wanted', 'action', 'before')

    def __init__(self, wanted, action, before):
        self.wanted = wanted
        self.action = action
        self.before = before

    @property
    def path(self):
        return self.wanted.path


def plan(wanted):
    """[Change] for the paths that differ from what is wanted, in the order given."""
    changes = []
    for item in wanted:
        before = read_state(item.path)
        if not item.present:
            if before['kind'] != 'absent':
                changes.append(Change(item, 'remove', before))
            continue
        if before['kind'] != 'file' or before['content'] != item.content:
            changes.append(Change(item, 'write', before))
        elif (before['mode'], before['uid'], before['gid']) != (item.mode, item.uid, item.gid):
            changes.append(Change(item, 'metadata', before))
    return changes


def _text(state):
    if state['kind'] == 'absent':
        return ''
    if state['kind'] == 'symlink':
        return '(a symbolic link to %s)\n' % state['target']
    content = state['content']
    try:
        text = content.decode('utf-8')
    except UnicodeDecodeError:
        text = None
    if text is None or len(content) > DIFF_LIMIT:
        return '(%d bytes, sha256 %s)\n' % (len(content), hashlib.sha256(content).hexdigest())
    return text


def _describe(state):
    if state['kind'] != 'file':
        return state['kind']
    return 'mode %04o, owner %d:%d' % (state['mode'], state['uid'], state['gid'])


def diff(change):
    """One entry of Ansible's diff list for a change."""
    wanted = change.wanted
    after = {'kind': 'absent'} if change.action == 'remove' else {
        'kind': 'file', 'content': wanted.content, 'mode': wanted.mode, 'uid': wanted.uid, 'gid': wanted.gid}
    entry = {'before_header': '%s (%s)' % (change.path, _describe(change.before)),
             'after_header': '%s (%s)' % (change.path, _describe(after)),
             'before': _text(change.before), 'after': _text(after)}
    return entry


def _blob_name(path):
    return hashlib.sha256(path.encode('utf-8')).hexdigest()


def _read_json(path, missing):
    """The JSON document in PATH; MISSING when there is no such file. Raises ValueError for a file that is no JSON
    and HyperionError for one that cannot be read."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return missing
        raise HyperionError('cannot read %s: %s' % (path, exc.strerror))


def read_manifest(snapshot_dir):
    """The snapshot's manifest ({'schema', 'paths', 'created_dirs'}); an empty one when there is none."""
    path = os.path.join(snapshot_dir, MANIFEST)
    try:
        manifest = _read_json(path, {'schema': SNAPSHOT_SCHEMA, 'paths': {}, 'created_dirs': []})
    except ValueError as exc:
        raise HyperionError('the snapshot %s is not valid JSON (%s); move it away to start a new one' % (path, exc))
    if not isinstance(manifest, dict) or manifest.get('schema') != SNAPSHOT_SCHEMA \
            or not isinstance(manifest.get('paths'), dict) or not isinstance(manifest.get('created_dirs'), list):
        raise HyperionError('the snapshot %s has an unknown layout (schema %r); move it away to start a new one'
                            % (path, manifest.get('schema') if isinstance(manifest, dict) else None))
    return manifest


def _missing_dirs(path):
    """The directories above ``path`` that do not exist yet, outermost first."""
    missing = []
    directory = os.path.dirname(path)
    while directory != '/' and not os.path.isdir(directory):
        if os.path.lexists(directory):
            raise HyperionError('%s is in the way of %s: it is not a directory' % (directory, path))
        missing.append(directory)
        directory = os.path.dirname(directory)
    return list(reversed(missing))


def _save_manifest(snapshot_dir, manifest):
    if not os.path.isdir(snapshot_dir):
        os.makedirs(snapshot_dir, 0o700)
    replace_file(os.path.join(snapshot_dir, MANIFEST),
                 (json.dumps(manifest, indent=1, sort_keys=True) + '\n').encode('utf-8'), 0o600)


def record(changes, snapshot_dir, created_dirs):
    """Add the paths of ``changes`` not recorded yet, and ``created_dirs``, to the snapshot; the paths
    newly recorded."""
    manifest = read_manifest(snapshot_dir)
    new = [change for change in changes if change.path not in manifest['paths']]
    fresh_dirs = [directory for directory in created_dirs if directory not in manifest['created_dirs']]
    if not new and not fresh_dirs:
        return []
    blobs = os.path.join(snapshot_dir, BLOBS)
    if not os.path.isdir(blobs):
        os.makedirs(blobs, 0o700)
    for change in new:
        before = change.before
        entry = {'kind': before['kind']}
        if before['kind'] == 'symlink':
            entry['target'] = before['target']
        elif before['kind'] == 'file':
            blob = _blob_name(change.path)
            replace_file(os.path.join(blobs, blob), before['content'], 0o600)
            entry.update({'blob': blob, 'mode': '%04o' % before['mode'], 'uid': before['uid'], 'gid': before['gid'],
                          'sha256': hashlib.sha256(before['content']).hexdigest()})
        manifest['paths'][change.path] = entry
    manifest['created_dirs'].extend(fresh_dirs)
    _save_manifest(snapshot_dir, manifest)
    return [change.path for change in new]


def apply(changes, snapshot_dir=None, directory_mode=0o755):
    """Carry ``changes`` out; with ``snapshot_dir``, record what was there first. Returns the paths newly
    recorded."""
    created_dirs = []
    for change in changes:
        if change.action == 'write':
            for directory in _missing_dirs(change.path):
                if directory not in created_dirs:
                    created_dirs.append(directory)
    recorded = record(changes, snapshot_dir, created_dirs) if snapshot_dir else []
    for directory in created_dirs:
        if not os.path.isdir(directory):
            os.mkdir(directory, directory_mode)
            os.chmod(directory, directory_mode)  # the umask does not decide
    for change in changes:
        wanted = change.wanted
        if change.action == 'remove':
            os.unlink(change.path)
        elif change.action == 'write':
            replace_file(change.path, wanted.content, wanted.mode, wanted.uid, wanted.gid)
        else:
            os.chmod(change.path, wanted.mode)
            if (change.before['uid'], change.before['gid']) != (wanted.uid, wanted.gid):
                os.chown(change.path, wanted.uid, wanted.gid)
    return recorded


def _recorded_state(snapshot_dir, entry, path):
    if entry.get('kind') == 'absent':
        return {'kind': 'absent'}
    if entry.get('kind') == 'symlink':
        return {'kind': 'symlink', 'target': entry['target']}
    if entry.get('kind') != 'file':
        raise HyperionError('the snapshot records %s as %r, which it cannot restore' % (path, entry.get('kind')))
    blob = os.path.join(snapshot_dir, BLOBS, entry['blob'])
    try:
        with open(blob, 'rb') as handle:
            content = handle.read()
    except OSError as exc:
        raise HyperionError('the snapshot lost the old content of %s (%s: %s)' % (path, blob, exc.strerror))
    if hashlib.sha256(content).hexdigest() != entry['sha256']:
        raise HyperionError('the snapshot\'s copy of %s (%s) does not match its checksum' % (path, blob))
    return {'kind': 'file', 'content': content, 'mode': int(entry['mode'], 8), 'uid': entry['uid'], 'gid': entry['gid']}


class Restore(object):
    """What ``restore`` puts back for one recorded path."""

    __slots__ = ('path', 'before', 'after')

    def __init__(self, path, before, after):
        self.path = path
        self.before = before
        self.after = after


def links_to(paths, link_dirs, depth=2):
    """The symbolic links in LINK_DIRS (and their subdirectories, DEPTH levels down) that point at one of PATHS,
    sorted: the links systemctl enable made to a unit file (/etc/systemd/system/timers.target.wants/x.timer)."""
    targets = set(paths)
    found = []
    for top in link_dirs:
        top = check_path(top, 'a directory of links')
        for base, dirs, names in os.walk(top):
            if base[len(top):].count('/') >= depth:
                dirs[:] = []
            for name in names + dirs:
                path = os.path.join(base, name)
                if os.path.islink(path) and os.path.normpath(os.path.join(base, os.readlink(path))) in targets:
                    found.append(path)
    return sorted(set(found))


def plan_restore(snapshot_dir, link_dirs=()):
    """([Restore] for the recorded paths that differ from their record, [created dirs to remove]).

    With LINK_DIRS, the links in them that point at a path the restore removes go too (Restore to absent), so
    an enabled unit whose file goes leaves no dangling link. Every recorded state is read and checked first,
    so a damaged snapshot fails before anything changes."""
    manifest = read_manifest(snapshot_dir)
    restores = []
    for path in sorted(manifest['paths']):
        recorded = _recorded_state(snapshot_dir, manifest['paths'][path], check_path(path, 'a recorded path'))
        now = read_state(path)
        if now != recorded:
            restores.append(Restore(path, now, recorded))
    removed = [item.path for item in restores if item.after['kind'] == 'absent']
    for link in links_to(removed, link_dirs):
        if link not in manifest['paths']:
            restores.append(Restore(link, read_state(link), {'kind': 'absent'}))
    dirs = sorted(set(manifest['created_dirs']), key=lambda d: (-d.count('/'), d))
    return restores, [directory for directory in dirs if os.path.isdir(directory)]


def record_current(paths, snapshot_dir):
    """Record the state of PATHS, changed by another tool than this module, before their first change; the
    paths newly recorded (one already recorded keeps its first state)."""
    return record([Change(Wanted(check_path(path)), 'record', read_state(path)) for path in paths], snapshot_dir, [])


def restore_diff(item):
    return {'before_header': '%s (%s)' % (item.path, _describe(item.before)),
            'after_header': '%s (%s, as recorded)' % (item.path, _describe(item.after)),
            'before': _text(item.before), 'after': _text(item.after)}


def restore(snapshot_dir, restores, dirs):
    """Put every path of ``restores`` back, remove the empty ``dirs`` the writes created, then the
    snapshot. Returns the directories removed (a directory that holds other files stays)."""
    for item in restores:
        after = item.after
        if item.before['kind'] == 'symlink' or (after['kind'] != 'file' and item.before['kind'] != 'absent'):
            os.unlink(item.path)
        if after['kind'] == 'file':
            if not os.path.isdir(os.path.dirname(item.path)):
                os.makedirs(os.path.dirname(item.path), 0o755)
            replace_file(item.path, after['content'], after['mode'], after['uid'], after['gid'])
        elif after['kind'] == 'symlink':
            os.symlink(after['target'], item.path)
    removed = []
    for directory in dirs:
        try:
            os.rmdir(directory)
            removed.append(directory)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                raise
    forget(snapshot_dir)
    return removed


def forget(snapshot_dir):
    """Remove the snapshot (after a restore, nothing in it describes the host any more)."""
    blobs = os.path.join(snapshot_dir, BLOBS)
    if os.path.isdir(blobs):
        for name in os.listdir(blobs):
            os.unlink(os.path.join(blobs, name))
        os.rmdir(blobs)
    for name in (MANIFEST, OWNER):
        path = os.path.join(snapshot_dir, name)
        if os.path.exists(path):
            os.unlink(path)
    if os.path.isdir(snapshot_dir) and not os.listdir(snapshot_dir):
        os.rmdir(snapshot_dir)


def snapshot_owner(snapshot_dir):
    """The target release of the rollout the snapshot belongs to; None when no rollout claimed it."""
    try:
        owner = _read_json(os.path.join(snapshot_dir, OWNER), None)
    except ValueError:
        return None  # unreadable: as if unclaimed; the claim writes it anew
    release = owner.get('release') if isinstance(owner, dict) else None
    return release if isinstance(release, str) and release else None


def plan_claim(snapshot_dir, release, running):
    """(forget, change): whether a rollout of RELEASE on a host running RUNNING starts a new snapshot, and whether
    the claim changes anything. The snapshot stays the host before the first change of the rollout it belongs
    to, kept for the rollback of that release after its promotion. A new rollout starts afresh once the
    snapshot's release runs (it was promoted: the host with it is the state to go back to); one whose rollout
    never got its kernel running (a fallback, a stopped run) keeps describing the host as it still is."""
    owner = snapshot_owner(snapshot_dir)
    if owner == release:
        return False, False
    return owner is not None and owner == running, True


def claim(snapshot_dir, release, forget_first):
    """Make the snapshot RELEASE's (after forgetting the old one when FORGET_FIRST)."""
    if forget_first:
        forget(snapshot_dir)
    if not os.path.isdir(snapshot_dir):
        os.makedirs(snapshot_dir, 0o700)
    replace_file(os.path.join(snapshot_dir, OWNER), (json.dumps({'release': release}) + '\n').encode('utf-8'), 0o600)
