# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: test_kernel
short_description: The test kernel package built by make kernel-package, on the controller
version_added: 0.1.0
description:
  - Reads the build record (C(result.json)) of the test kernel that C(make kernel-package) builds from Debian's
    C(linux-source) with the Hyperion profile's fragment, and returns its release and package paths.
  - The package directory is O(package_dir), else E(HYPERION_KERNEL_PACKAGE_DIR), else C(kernel-package/latest) of the
    shared cache (E(HYPERION_CACHE), else C($XDG_CACHE_HOME/hyperion-kernel), else C(~/.cache/hyperion-kernel)), as the
    Makefile sets it.
  - Meant for the VM lab (the demo inventory, the molecule scenarios); a fleet installs its own signed packages.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  package_dir:
    description: The directory of the build, instead of the one the environment names.
    type: path
'''

EXAMPLES = r'''
- name: Install the test kernel with the kernel role
  ansible.builtin.include_role:
    name: hyperion.kernel.kernel
  vars:
    kernel_source: file
    kernel_file: "{{ lookup('hyperion.kernel.test_kernel').image }}"
    kernel_file_sha256: "{{ lookup('hyperion.kernel.test_kernel').image_sha256 }}"

- name: The release, or a hint when nothing was built yet
  ansible.builtin.debug:
    msg: "{{ (lookup('hyperion.kernel.test_kernel', errors='ignore') or {}).release | default('run make kernel-package') }}"
'''

RETURN = r'''
_raw:
  description: The build, one mapping.
  type: list
  elements: dict
  contains:
    package_dir:
      description: The directory the packages were found in.
      type: path
    release:
      description: The kernel release the build gave the kernel (C(uname -r) once it runs).
      type: str
    key:
      description: The build's cache key (source package and a hash of its inputs).
      type: str
    source:
      description: The source package and version it was built from.
      type: str
    packages:
      description: Every package of the build (image, headers, libc-dev).
      type: list
      elements: path
    image:
      description: The linux-image package.
      type: path
    image_sha256:
      description: SHA-256 of the linux-image package.
      type: str
    patches:
      description: File names of the patches the source was built with, in order (BORE, ADIOS); empty for none.
      type: list
      elements: str
    accepted_missing:
      description:
        - Profile items the kernel lacks by choice, each with the reason the build accepted (for example
          C(CONFIG_SCHED_BORE) when no BORE patch was given). Checks of this kernel skip them with that reason.
      type: dict
    profile_skips:
      description: "The same items as profile overrides, C({item: {skip: reason}}), to combine into C(hyperion_profile_overrides)."
      type: dict
'''

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.hyperion.kernel.plugins.plugin_utils.build_result import package_dir, read_build_result
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if terms:
            raise AnsibleLookupError('test_kernel takes no terms; pass package_dir= to name another build')
        directory = self.get_option('package_dir') or package_dir(os.environ)
        try:
            return [read_build_result(directory)]
        except HyperionError as exc:
            raise AnsibleLookupError(str(exc))
