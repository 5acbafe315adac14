#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: apt_repo_fetch
short_description: Fetch a package from a signed apt repository without touching the host's apt configuration
version_added: 0.1.0
description:
  - Tries an apt repository with a private apt state under O(work_dir) (its own source, key, lists and cache), in
    one call, and downloads the package into C(<work_dir>/packages). The host's sources, keyrings and lists are not
    touched, so a refused repository leaves nothing behind in them.
  - "Refused, each with its own message: a repository that cannot be reached (no connection, no name resolution;
    asked again O(retries) times, O(retry_delay) seconds apart), a repository that is unsigned or signed by another
    key than O(key) (not asked again: it will not get better), and a package the repository does not have (the
    message lists the ones it has)."
  - The hyperion.kernel.kernel role runs it before M(hyperion.kernel.kernel_preflight) and before it configures the
    repository on the host.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  url:
    description: The repository's URL (C(http://), C(https://) or C(file://)).
    type: str
    required: true
  suite:
    description: The repository's suite (distribution), one word of letters, digits, C(_), C(.), C(/), C(+), C(~) and C(-).
    type: str
    required: true
  component:
    description: The repository's component, one word as O(suite).
    type: str
    default: main
  key:
    description: The repository's public key (an ASCII-armored OpenPGP key block); the only key the repository is trusted with.
    type: str
    required: true
  package:
    description: The name of the package to fetch, a Debian package name (lower-case letters, digits, C(+), C(-) and C(.)).
    type: str
    required: true
  work_dir:
    description: The directory that holds the private apt state (C(apt-check/)) and the fetched package (C(packages/)).
    type: path
    required: true
  retries:
    description: How many more times the repository's index is fetched when the repository cannot be reached, from 0 to 20.
    type: int
    default: 3
  retry_delay:
    description: Seconds between those attempts, from 0 to 600.
    type: int
    default: 10
extends_documentation_fragment:
  - hyperion.kernel.attributes
attributes:
  check_mode:
    support: full
    details: >-
      Checks the repository's signature and looks the package up with a private state in a temporary directory that
      is removed afterwards; downloads nothing and writes nothing under O(work_dir). RV(package_path) is then the
      path the package would have.
  diff_mode:
    support: full
    details: The fetched package file, before (absent or its sha256) and after.
  platform:
    support: full
    platforms: debian
requirements:
  - apt-get and apt-cache on the managed host
notes:
  - The package is verified the way apt verifies any download, against the sizes and hashes of the repository's
    signed index.
seealso:
  - module: hyperion.kernel.kernel_preflight
'''

EXAMPLES = r'''
- name: Fetch the kernel package from the site's repository, refusing an untrusted one
  hyperion.kernel.apt_repo_fetch:
    url: https://apt.lab.example/hyperion
    suite: hyperion
    component: main
    key: "{{ lookup('ansible.builtin.file', 'files/hyperion-repo.asc') }}"
    package: linux-image-6.19.2-hyperion
    work_dir: /var/cache/hyperion-kernel
  register: fetched

- name: Check the fetched package before anything changes
  hyperion.kernel.kernel_preflight:
    package_path: "{{ fetched.package_path }}"
'''

RETURN = r'''
package_path:
  description: Where the package is (or, in check mode, would be) on the host.
  returned: success
  type: str
  sample: /var/cache/hyperion-kernel/packages/linux-image-6.19.2-hyperion_6.19.2-1_amd64.deb
package:
  description: The package's name, version, architecture and sha256, as the repository's signed index gives them.
  returned: success
  type: dict
  sample: {name: linux-image-6.19.2-hyperion, version: 6.19.2-1, architecture: amd64,
           sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
attempts:
  description: How many times the repository's index was fetched.
  returned: always
  type: int
  sample: 1
'''

import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.hyperion.kernel.plugins.module_utils import apt_repo
from ansible_collections.hyperion.kernel.plugins.module_utils.convergence import file_digest
from ansible_collections.hyperion.kernel.plugins.module_utils.host import replace_file


def file_sha256(path):
    """The package file's sha256, None when there is none."""
    return file_digest(path) if os.path.isfile(path) else None


def write_if_different(path, text, mode):
    data = to_bytes(text)
    try:
        with open(path, 'rb') as handle:
            if handle.read() == data:
                return
    except (IOError, OSError):
        pass
    replace_file(path, data, mode)


def prepare_state(base, params):
    for rel in apt_repo.DIRECTORIES:
        path = os.path.join(base, rel)
        if not os.path.isdir(path):
            os.makedirs(path, 0o700)
    key_path = os.path.join(base, apt_repo.KEY_FILE)
    write_if_different(key_path, params['key'].strip() + '\n', 0o644)
    write_if_different(os.path.join(base, apt_repo.SOURCE_FILE),
                       apt_repo.check_source(params['url'], params['suite'], params['component'], key_path), 0o644)


def fetch_index(module, apt_get, options, params):
    """apt-get update of the private state, asked again while the network is the trouble."""
    attempts = 0
    while True:
        attempts += 1
        # This loop is the one that asks again (retries, retry_delay); apt's own retries would only add their delays.
        rc, out, err = module.run_command([apt_get, '-q', '-o', 'Acquire::Retries=0'] + options + ['update'])
        verdict = apt_repo.update_verdict(rc, err)
        if verdict != apt_repo.UNREACHABLE or attempts > params['retries']:
            return verdict, attempts, err
        time.sleep(params['retry_delay'])


def repository_packages(module, apt_cache, options):
    """The names the repository has: apt's own reading of its indexes (stored compressed or not, per apt's
    configuration); dumpavail leaves out dpkg's status, so installed packages are not among them."""
    rc, out, err = module.run_command([apt_cache, '-q'] + options + ['dumpavail'])
    return apt_repo.listed_packages([out]) if rc == 0 else []


def run(module, base):
    params = module.params
    apt_get = module.get_bin_path('apt-get', required=True)
    apt_cache = module.get_bin_path('apt-cache', required=True)
    prepare_state(base, params)
    options = apt_repo.private_options(base)

    verdict, attempts, err = fetch_index(module, apt_get, options, params)
    if verdict == apt_repo.UNREACHABLE:
        module.fail_json(msg=apt_repo.unreachable_message(params['url'], params['suite'], attempts, err), attempts=attempts)
    if verdict == apt_repo.UNTRUSTED:
        module.fail_json(msg=apt_repo.untrusted_message(params['url'], params['suite'], err), attempts=attempts)

    rc, out, err = module.run_command([apt_cache, '-q'] + options + ['show', '--no-all-versions', params['package']])
    fields = apt_repo.parse_stanza(out) if rc == 0 else {}
    # The first stanza's own name, not a pattern: package names hold "." and "+".
    if fields.get('Package') != params['package'] or not fields.get('Version') or not fields.get('Architecture'):
        module.fail_json(msg=apt_repo.missing_package_message(params['url'], params['suite'], params['component'],
                                                              params['package'], repository_packages(module, apt_cache, options)),
                         attempts=attempts)
    package = {'name': fields['Package'], 'version': fields['Version'], 'architecture': fields['Architecture'],
               'sha256': fields.get('SHA256', '').lower()}
    file_name = apt_repo.download_file_name(fields)
    return attempts, package, file_name, apt_get, options


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            suite=dict(type='str', required=True),
            component=dict(type='str', default='main'),
            key=dict(type='str', required=True, no_log=False),
            package=dict(type='str', required=True),
            work_dir=dict(type='path', required=True),
            retries=dict(type='int', default=3),
            retry_delay=dict(type='int', default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    problems = apt_repo.validate(params['url'], params['suite'], params['component'], params['package'])
    if not 0 <= params['retries'] <= 20:
        problems.append('retries must be from 0 to 20, got %d' % params['retries'])
    if not 0 <= params['retry_delay'] <= 600:
        problems.append('retry_delay must be from 0 to 600 seconds, got %d' % params['retry_delay'])
    if 'BEGIN PGP PUBLIC KEY BLOCK' not in params['key']:
        problems.append('key must be an ASCII-armored OpenPGP public key block')
    if problems:
        module.fail_json(msg='; '.join(problems), attempts=0)

    destination_dir = os.path.join(params['work_dir'], apt_repo.PACKAGES_DIR)
    # Check mode tries the repository in a temporary state that is removed, and fetches nothing.
    base = tempfile.mkdtemp(prefix='hyperion-apt-check-') if module.check_mode else params['work_dir']
    try:
        attempts, package, file_name, apt_get, options = run(module, base)
        package_path = os.path.join(destination_dir, file_name)
        before = file_sha256(package_path)
        if module.check_mode:
            # The index's own hash of the package: what the download would give.
            after = package['sha256'] or '(the package of the index)'
        else:
            rc, out, err = module.run_command([apt_get, '-q'] + options + ['download', params['package']], cwd=destination_dir)
            after = file_sha256(package_path)
            if rc != 0 or after is None:
                module.fail_json(msg='apt-get download %s from %s failed (rc=%s): %s'
                                 % (params['package'], params['url'], rc, apt_repo.apt_detail(err or out)), attempts=attempts)
    finally:
        if module.check_mode:
            shutil.rmtree(base, ignore_errors=True)
    changed = before != after
    result = dict(changed=changed, package_path=package_path, package=package, attempts=attempts)
    if module._diff and changed:
        result['diff'] = dict(before_header=package_path, after_header=package_path,
                              before='absent\n' if before is None else 'sha256 %s\n' % before, after='sha256 %s\n' % after)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
