# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the hyperion.kernel core.

Every problem the core can detect in its input (a profile, a config file, a
sysfs read) is raised as a HyperionError whose message names the offending key,
path or line. Modules and the command-line checker turn it into a clean failure,
never a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class HyperionError(ValueError):
    """Bad input or an unreadable source, described for a human."""


class ProfileError(HyperionError):
    """The profile, an overlay or an override is invalid."""


class SourceError(HyperionError):
    """A state source (config file, procfs/sysfs file, command) cannot be read or parsed."""
