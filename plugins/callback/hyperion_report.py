# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: hyperion_report
type: aggregate
short_description: Fleet report of a Hyperion run (JSON, JUnit XML, Markdown, HTML) and a summary
version_added: 0.1.0
description:
  - Collects one record per host from a playbook run (check, deploy, rollback) and writes, when the
    run ends, C(report.json), C(junit.xml), C(report.md) and C(report.html) into a new directory
    C(<report_dir>/<UTC timestamp>-<playbook>/), updates the C(latest) link beside it and prints a
    short summary with the hosts that did not pass.
  - Runs at the end of every run, also when a play stops early on C(max_fail_percentage) or
    C(any_errors_fatal); hosts the run never reached are reported as C(not_reached).
  - The record of a host holds the last C(hyperion.kernel.profile_check) result (kernel release,
    counts, failing items), failed and unreachable tasks, and the outcome the host's playbook or role
    publishes (below). No variable of a playbook or a role is read.
  - "The outcome contract: C(ansible.builtin.set_stats) with C(per_host: true) and the key C(hyperion_report),
    a mapping of any of C(outcome) (C(updated), C(unchanged), C(rolled_back), C(deferred), C(fell_back),
    C(gate_failed), C(preflight_failed), C(staging_failed), C(failed), C(unreachable), C(compliant), C(drift); any other counts as
    a failure), C(reason) (one line), C(release) (the release the run brings) and C(kernel_release) (the one
    that runs). The callback reads it from the run's stats when the run ends, so what a host published before
    it failed stays. C(aggregate: true), set_stats' default, merges the mappings key by key (a later value
    wins); C(aggregate: false) replaces the host's mapping."
  - "The same mapping may hold C(phases), the steps of the host's rollout for the timeline of C(report.html):
    C({<phase>: {start: <time>, end: <time>, result: ok|failed|skipped}}) with the phases C(staging), C(trial_boot),
    C(gate), C(promotion) and C(fallback) (any of them; a phase of another name is shown too). A time is UTC in
    ISO 8601, for example C(2026-12-06T23:10:04Z) (the C(now) function with C(utc=true) gives it); a time with
    another offset is read as that, one without an offset as UTC. set_stats merges nested mappings, so
    a step may publish its C(start) and a later one its C(end) and C(result). A phase without an end runs to the
    host's last task; one without any time that can be read is named in its row but not drawn."
  - "It may also hold C(gate_checks), the results of the site's own checks of the trial boot (M(hyperion.kernel.gate_checks)):
    a list of C({name, kind, status, detail}). A check that did not pass is a line of the host's details."
  - The timeline has one row per host with its phases in time order, the wait for its batch (the gap between
    the end of C(staging) and the start of C(trial_boot), which the report computes) and the span from the
    host's first task to its last, which the callback records for every host (a host that published no phases
    still gets its row from it).
  - The drift grid of C(report.html) shows every host whose C(hyperion.kernel.profile_check) result the run saw
    by every profile item that fails or is unknown on any of them; a cell is C(pass), C(fail), C(unknown),
    C(not applicable) or C(not checked) (the host's check had no such item), with the expected and the actual
    value and the item's reason as its tooltip.
  - C(report.json) carries the same data for other tools, in each host row (C(phases) as published,
    C(first_task), C(last_task)) and at the top (C(timeline) with each row's segments, C(drift) with the
    grid's items, rows and cells).
  - C(report.html) loads nothing and reads the same without script; a content security policy allows only its
    own style and its one small script (hover).
  - Writes nothing for ad-hoc commands (C(ansible -m ...)).
author:
  - Hyperion kernel project (@hyperion-kernel)
requirements:
  - enable in ansible.cfg (C(callbacks_enabled = hyperion.kernel.hyperion_report)), as the ansible.cfg of the
    collection's checkout does, or with E(ANSIBLE_CALLBACKS_ENABLED); the playbooks say when it is off
options:
  report_dir:
    description:
      - Directory on the controller under which each run's reports are written. A relative path is
        relative to the current directory.
    type: path
    default: reports
    env:
      - name: HYPERION_REPORT_DIR
    ini:
      - section: callback_hyperion_report
        key: report_dir
  formats:
    description: Which files to write.
    type: list
    elements: str
    default: [json, junit, markdown, html]
    env:
      - name: HYPERION_REPORT_FORMATS
    ini:
      - section: callback_hyperion_report
        key: formats
'''

import datetime
import os

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase

from ansible_collections.hyperion.kernel.plugins.plugin_utils import fleet_report

# The name ansible-core gives the playbook of an ad-hoc command.
_ADHOC_PLAYBOOK = '__adhoc_playbook__'
_FORMAT_FILES = {'json': 'report.json', 'junit': 'junit.xml', 'markdown': 'report.md', 'html': 'report.html'}


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


class CallbackModule(CallbackBase):

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'hyperion.kernel.hyperion_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._hosts = {}
        self._playbook = None
        self._plays_total = 0
        self._plays_started = 0
        self._play_hosts = set()
        self._play_seen = set()
        self._play_uuid = None
        self._stopped_early = False
        self._started = _now()

    # Run structure --------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        name = os.path.basename(to_text(getattr(playbook, '_file_name', '') or 'run'))
        self._playbook = os.path.splitext(name)[0]
        try:
            self._plays_total = len(playbook.get_plays())
        except Exception:  # pylint: disable=broad-except
            self._plays_total = 0
        self._started = _now()

    def _close_play(self):
        # A host of the play that produced nothing was never reached: the run stopped first.
        # Hosts that failed in an earlier play were left out by Ansible, not by a stop.
        for name in self._play_hosts - self._play_seen:
            record = self._hosts.get(name)
            if record is None or not record['failures']:
                self._stopped_early = True

    def v2_playbook_on_play_start(self, play):
        # Called again for every serial batch of the same play.
        uuid = getattr(play, '_uuid', None)
        if uuid is not None and uuid == self._play_uuid:
            return
        self._close_play()
        self._play_uuid = uuid
        self._plays_started += 1
        self._play_hosts = set()
        self._play_seen = set()
        try:
            # The play's host pattern is templated by now. The inventory is restricted to the
            # current batch; --limit (the subset) still applies.
            inventory = play.get_variable_manager()._inventory
            hosts = inventory.get_hosts(play.hosts, ignore_restrictions=True)
        except Exception:  # pylint: disable=broad-except
            hosts = []
        for host in hosts:
            if getattr(host, 'implicit', False):
                continue
            self._play_hosts.add(host.name)
            self._record(host.name)

    def _record(self, name):
        if name not in self._hosts:
            self._hosts[name] = fleet_report.new_host(name)
        return self._hosts[name]

    # Task results ---------------------------------------------------------------------------

    def _fold(self, result, status):
        host = result._host
        if host is None or getattr(host, 'implicit', False):
            return
        task = result._task
        action = getattr(task, 'resolved_action', None) or task.action
        self._play_seen.add(host.name)
        results = [result._result]
        # A loop's items are folded one by one, so a profile check in a loop keeps its items.
        if isinstance(result._result.get('results'), list):
            results = [r for r in result._result['results'] if isinstance(r, dict)] or results
        record = self._record(host.name)
        fleet_report.record_time(record, _now())
        for one in results:
            fleet_report.record_result(record, status, task.get_name(), action, one)

    def v2_runner_on_start(self, host, task):
        # The first task of a host starts its row on the timeline when it published no phases.
        if host is None or getattr(host, 'implicit', False):
            return
        fleet_report.record_time(self._record(host.name), _now())

    def v2_runner_on_ok(self, result):
        self._fold(result, 'changed' if result._result.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        # An ignored failure is part of the playbook's plan (it sets the outcome itself).
        self._fold(result, 'ok' if ignore_errors else 'failed')

    def v2_runner_on_unreachable(self, result):
        if result._task.ignore_unreachable:
            self._fold(result, 'ok')
            return
        self._fold(result, 'unreachable')

    def v2_runner_on_skipped(self, result):
        self._fold(result, 'skipped')

    # End of run -----------------------------------------------------------------------------

    def v2_playbook_on_stats(self, stats):
        # Ad-hoc commands (`ansible -m ...`) are no fleet run: ansible.cfg enables the callback for
        # every command, and only playbook runs get a report.
        if self._playbook == _ADHOC_PLAYBOOK:
            return
        self._close_play()
        self._fold_stats(stats)
        aborted = self._stopped_early or (self._plays_total and self._plays_started < self._plays_total)
        finished = _now()
        report = fleet_report.build_report(self._playbook or 'run', self._hosts,
                                           self._started.isoformat(timespec='seconds'),
                                           finished.isoformat(timespec='seconds'),
                                           aborted=bool(aborted) and bool(self._hosts))
        try:
            directory = self._write(report, finished)
        except (IOError, OSError) as exc:
            self._display.warning('hyperion_report: could not write the report: %s' % to_text(exc))
            directory = None
        self._display.banner('HYPERION REPORT')
        for number, line in enumerate(fleet_report.summary_lines(report)):
            self._display.display(line, color=None if number else ('green' if report['ok'] else 'red'))
        if directory:
            self._display.display('Report: %s' % os.path.join(directory, 'report.html'))

    def _fold_stats(self, stats):
        # set_stats with per_host: true keeps each host's data under its name; '_run' holds the run-wide
        # data (per_host: false), which speaks for no host.
        custom = getattr(stats, 'custom', None) or {}
        for name, data in custom.items():
            if name == '_run' or not isinstance(data, dict) or fleet_report.REPORT_STATS_KEY not in data:
                continue
            fleet_report.record_report(self._record(name), data[fleet_report.REPORT_STATS_KEY])

    def _write(self, report, finished):
        base = os.path.abspath(os.path.expanduser(self.get_option('report_dir')))
        stamp = '%s-%s' % (finished.strftime('%Y%m%dT%H%M%SZ'), report['playbook'])
        directory = os.path.join(base, stamp)
        suffix = 1
        while os.path.exists(directory):
            suffix += 1
            directory = os.path.join(base, '%s.%d' % (stamp, suffix))
        os.makedirs(directory)
        wanted = [f.strip() for f in self.get_option('formats') or []]
        renderers = dict(fleet_report.RENDERERS)
        for fmt in wanted:
            if fmt not in _FORMAT_FILES:
                self._display.warning('hyperion_report: unknown format %s (known: %s)'
                                      % (fmt, ', '.join(sorted(_FORMAT_FILES))))
                continue
            name = _FORMAT_FILES[fmt]
            # junit.xml and report.html say UTF-8 whatever the controller's locale; a lone surrogate
            # from a task's output (possible in report.md) must not lose the whole report.
            with open(os.path.join(directory, name), 'w', encoding='utf-8', errors='replace') as handle:
                handle.write(renderers[name](report))
        # `latest` always names the newest run; replaced atomically.
        link = os.path.join(base, 'latest')
        tmp_link = link + '.tmp'
        if os.path.lexists(tmp_link):
            os.remove(tmp_link)
        os.symlink(os.path.basename(directory), tmp_link)
        os.replace(tmp_link, link)
        return directory
