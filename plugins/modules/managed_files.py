#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: managed_files
short_description: Write the whole files a role owns in one call, keeping what was there before for a rollback
version_added: 0.1.0
description:
  - Brings every file of O(files) to its content, mode and owner, or removes it, in one module call. A role that
    wrote ten drop-ins, units and scripts with ten M(ansible.builtin.copy) tasks made thirty round trips to the host;
    this makes one.
  - Each file is written beside its destination and renamed over it, so a reader sees the old or the new file. The
    directories above a file are made when missing, with O(directory_mode).
  - Before a path is changed for the first time, the module records what was there under O(snapshot_dir) - the
    content, mode and owner of a file, the target of a symbolic link, or that there was nothing - and the
    directories it makes. The record is written before the change. Later runs change the path again without
    touching the record, so it keeps describing the host before the collection came.
  - With O(restore=true), puts every recorded path back as it was, removes the directories the writes made (when
    they are empty) and forgets the snapshot. The rollout role's rollback does this.
  - Every entry of O(files) is checked before anything is read or written. A directory or a device at a path is
    refused, never replaced.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  files:
    description:
      - The files, each named once. Required unless O(restore=true).
    type: list
    elements: dict
    suboptions:
      path:
        description: The file's absolute, normalised path.
        type: path
        required: true
      content:
        description: The whole content (text), required when O(files[].state=present).
        type: str
      state:
        description: Whether the file should exist.
        type: str
        choices: [present, absent]
        default: present
      mode:
        description: The file's mode, in octal (V(0644), V(0755)).
        type: str
        default: '0644'
      owner:
        description: The file's owner (a name or a number).
        type: str
        default: root
      group:
        description: The file's group (a name or a number).
        type: str
        default: root
  purge:
    description:
      - Directories the caller owns files in. A file (or link) directly in one of them that matches one of its
        O(purge[].patterns) and that O(files) does not name is removed, after being recorded like any other change.
      - For files named after something that can go away, such as one tc batch per planned interface.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory (absolute). A missing directory has nothing to purge.
        type: path
        required: true
      patterns:
        description: File name patterns (shell globs, no C(/)), such as V(*.tc).
        type: list
        elements: str
        required: true
  directory_mode:
    description: The mode of the directories the module makes above a file, in octal.
    type: str
    default: '0755'
  snapshot_dir:
    description:
      - Where the state before the first change is recorded (C(manifest.json) and the old contents, readable by root
        only).
    type: path
    default: /var/lib/hyperion-kernel/previous-state
  record_previous:
    description:
      - Whether to record the state before the first change. V(false) for work files that no rollback needs.
    type: bool
    default: true
  claim_for:
    description:
      - Instead of writing O(files), make the snapshot the one of a rollout of this kernel release (the rollout role
        does this when it stages, after the package is installed and before the configuration is written).
      - The snapshot of another release's rollout is forgotten first when that release runs now (it was promoted,
        and the host with it is what a rollback of the new release goes back to); otherwise, or when the snapshot is
        this release's already, what it recorded stays.
    type: str
  link_dirs:
    description:
      - With O(restore=true), directories whose symbolic links (two levels down) to a path the restore removes go too,
        such as the links C(systemctl enable) made to a unit file the collection wrote (C(/etc/systemd/system)).
    type: list
    elements: path
    default: []
  restore:
    description:
      - Put back every path recorded under O(snapshot_dir) instead of writing O(files), then forget the snapshot.
      - Changes nothing when there is no snapshot.
    type: bool
    default: false
extends_documentation_fragment:
  - hyperion.kernel.attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be written, removed or restored, and records nothing.
  diff_mode:
    support: full
    details: One before/after entry per changed path (binary or long contents as their size and sha256).
  platform:
    support: full
    platforms: posix
notes:
  - The snapshot covers files only. Packages, live settings and the boot loader's entries have their own records
    (see the rollout role).
seealso:
  - module: ansible.builtin.copy
  - module: hyperion.kernel.convergence_record
'''

EXAMPLES = r'''
- name: Install the recompression script, its service and timer
  hyperion.kernel.managed_files:
    files:
      - path: /usr/local/libexec/hyperion-zram-recompress
        content: "{{ lookup('ansible.builtin.file', 'hyperion-zram-recompress') }}\n"
        mode: "0755"
      - path: /etc/systemd/system/hyperion-zram-recompress.service
        content: "{{ lookup('ansible.builtin.template', 'hyperion-zram-recompress.service.j2') }}"
      - path: /etc/systemd/system/hyperion-zram-recompress.timer
        content: "{{ lookup('ansible.builtin.template', 'hyperion-zram-recompress.timer.j2') }}"
  register: recompression_files
  notify: Reload systemd units

- name: Restart the service when its unit changed
  ansible.builtin.systemd_service:
    name: hyperion-zram-recompress.timer
    state: restarted
  when: "'/etc/systemd/system/hyperion-zram-recompress.timer' in recompression_files.changed_paths"

- name: Put back every file as it was before the collection wrote it
  hyperion.kernel.managed_files:
    restore: true
'''

RETURN = r'''
forgot:
  description: With O(claim_for), whether the snapshot of an earlier, promoted rollout was (or would be) forgotten.
  returned: with O(claim_for)
  type: bool
changed_paths:
  description: The paths written, changed in mode or owner, removed or restored (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/hyperion-zram-recompress.timer]
purged:
  description: The paths O(purge) removed (or would remove, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/hyperion-kernel/qdisc/enp4s0.tc]
recorded:
  description: The paths whose earlier state this call recorded (none in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/zram-generator.conf]
removed_dirs:
  description: With O(restore=true), the directories the writes had made and the restore removed.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/systemd-zram-setup@.service.d]
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils import managed_files
from ansible_collections.hyperion.kernel.plugins.module_utils.validation import ValidationError, require


def _octal(module, name):
    value = module.params[name]
    if not managed_files.MODE_RE.fullmatch(value):
        module.fail_json(msg='%s must be an octal mode such as 0755, got %r' % (name, value))
    return int(value, 8)


def _claim(module, snapshot_dir, release):
    try:
        release = require('kernel_release', release, 'claim_for')
    except ValidationError as exc:
        module.fail_json(msg=to_native(exc))
    try:
        with open('/proc/sys/kernel/osrelease') as handle:
            running = handle.read().strip()
    except (IOError, OSError):
        running = None
    forget, change = managed_files.plan_claim(snapshot_dir, release, running)
    if change and not module.check_mode:
        managed_files.claim(snapshot_dir, release, forget)
    return {'changed': change, 'forgot': forget, 'changed_paths': [], 'recorded': [], 'purged': [], 'removed_dirs': []}


def _restore(module, snapshot_dir, link_dirs):
    restores, dirs = managed_files.plan_restore(snapshot_dir, link_dirs)
    has_snapshot = any(os.path.exists(os.path.join(snapshot_dir, name))
                       for name in (managed_files.MANIFEST, managed_files.OWNER))
    # Forgetting a snapshot that describes the host as it is now is a change too.
    result = {'changed': bool(restores or dirs or has_snapshot),
              'changed_paths': [item.path for item in restores], 'recorded': [], 'purged': [], 'removed_dirs': dirs}
    if module._diff:
        result['diff'] = [managed_files.restore_diff(item) for item in restores]
    if not module.check_mode and has_snapshot:
        result['removed_dirs'] = managed_files.restore(snapshot_dir, restores, dirs)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', options=dict(
                path=dict(type='path', required=True),
                content=dict(type='str'),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
                mode=dict(type='str', default='0644'),
                owner=dict(type='str', default='root'),
                group=dict(type='str', default='root'),
            )),
            purge=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                patterns=dict(type='list', elements='str', required=True),
            )),
            directory_mode=dict(type='str', default='0755'),
            snapshot_dir=dict(type='path', default='/var/lib/hyperion-kernel/previous-state'),
            record_previous=dict(type='bool', default=True),
            restore=dict(type='bool', default=False),
            link_dirs=dict(type='list', elements='path', default=[]),
            claim_for=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if [params['restore'], params['files'] is not None, params['claim_for'] is not None].count(True) != 1 \
            or (params['files'] is None and params['purge']):
        module.fail_json(msg='give one of files (to write them), restore=true (to put back what was recorded) or '
                             'claim_for (to make the snapshot a rollout\'s)')
    if params['link_dirs'] and not params['restore']:
        module.fail_json(msg='link_dirs is for restore=true')
    directory_mode = _octal(module, 'directory_mode')
    try:
        snapshot_dir = managed_files.check_path(params['snapshot_dir'], 'snapshot_dir')
        if params['restore']:
            module.exit_json(**_restore(module, snapshot_dir, params['link_dirs']))
        if params['claim_for'] is not None:
            module.exit_json(**_claim(module, snapshot_dir, params['claim_for']))
        wanted = managed_files.wanted_files(params['files'])
        purged = managed_files.purged_files(params['purge'], wanted)
        changes = managed_files.plan(wanted + purged)
        result = {'changed': bool(changes), 'changed_paths': [change.path for change in changes], 'recorded': [],
                  'purged': [item.path for item in purged], 'removed_dirs': []}
        if module._diff:
            result['diff'] = [managed_files.diff(change) for change in changes]
        if changes and not module.check_mode:
            result['recorded'] = managed_files.apply(
                changes, snapshot_dir if params['record_previous'] else None, directory_mode)
    except HyperionError as exc:
        module.fail_json(msg=to_native(exc))
    except (OSError, IOError) as exc:
        module.fail_json(msg='cannot write %s: %s' % (getattr(exc, 'filename', None) or 'a file', to_native(exc)))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
