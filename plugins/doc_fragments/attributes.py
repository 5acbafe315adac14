# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # What the attributes every module of the collection documents mean. Each module still
    # states its own support, details and platforms next to the fragment.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    description: Target OS/families that can be operated against.
'''

    # A module that only reads: full check mode, nothing to diff, any POSIX host (hyperion.kernel.attributes.read_only,
    # after hyperion.kernel.attributes).
    READ_ONLY = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
    details: Nothing is changed, so there is nothing to show as a difference.
  platform:
    support: full
    platforms: posix
'''
