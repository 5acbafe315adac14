# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.html in a real browser: headless Chromium renders the page a real `ansible-playbook` run wrote
through the hyperion_report callback, and the page is checked as a reader gets it.

The run: four local hosts. Every host but `counter` runs hyperion.kernel.profile_check on this machine
(each with its own overlay and overrides, so the drift grid's cells differ) and publishes its phases
under the set_stats contract (hyperion_report.phases): staging on all at once, then the trial boot, the
gate and promotion or fallback one host at a time (serial: 1), so the later hosts wait for their batch.
`counter` publishes nothing and gets its row from its first and last task.

Chromium loads the page in a frame of a small harness page (file pages may read each other with
--allow-file-access-from-files) that reads the drawn SVG: rows, bars, cells and their laid-out sizes,
then points at a failed cell to see the page's hover script answer. Every console message of the
browser (an uncaught error, a blocked script or request) fails the test, as does an empty chart. A
screenshot of the page must show the charts' colours.

Run by `make test-report-browser` (which installs or names the chromium package first)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ansible_command, ansible_env

CHROMIUM = 'chromium'

PLAYBOOK = r"""
- name: Stage the kernel on every host at once
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Note when staging starts
      ansible.builtin.set_fact:
        staging_start: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"
    - name: Check the running kernel against the profile
      hyperion.kernel.profile_check:
        overlays: "{{ site_overlays }}"
        overrides: "{{ site_overrides }}"
        fail_on: never
      register: check
      when: inventory_hostname != 'counter'
    - name: Keep what the check found, for the test to compare the grid with
      ansible.builtin.copy:
        content: "{{ check | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.check.json"
        mode: '0644'
      when: inventory_hostname != 'counter'
    - name: Stage
      ansible.builtin.command: sleep 1
      changed_when: false
    - name: Publish staging
      ansible.builtin.set_stats:
        per_host: true
        data:
          hyperion_report:
            phases:
              staging:
                start: "{{ staging_start }}"
                end: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"
                result: ok
      when: inventory_hostname != 'counter'

- name: Boot, judge and promote one host at a time
  hosts: seats
  gather_facts: false
  serial: 1
  order: inventory
  tasks:
    # The start first, the end and the result later: set_stats merges the nested mappings.
    - name: Publish the start of the trial boot
      ansible.builtin.set_stats:
        per_host: true
        data: {hyperion_report: {phases: {trial_boot: {start: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"}}}}
    - name: Boot once into the new kernel
      ansible.builtin.command: sleep 2
      changed_when: false
    - name: Publish the end of the trial boot
      ansible.builtin.set_stats:
        per_host: true
        data: {hyperion_report: {phases: {trial_boot: {end: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}", result: ok}}}}
    - name: Note when the gate starts
      ansible.builtin.set_fact:
        gate_start: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"
    - name: Judge the host
      ansible.builtin.command: sleep 1
      changed_when: false
    - name: Publish the gate
      ansible.builtin.set_stats:
        per_host: true
        data:
          hyperion_report:
            phases:
              gate:
                start: "{{ gate_start }}"
                end: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"
                result: "{{ 'failed' if inventory_hostname == 'cafe2' else 'ok' }}"
    - name: Note when the last step starts
      ansible.builtin.set_fact:
        last_start: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"
    - name: Make the new kernel the default, or come back on the old one
      ansible.builtin.command: sleep 1
      changed_when: false
    - name: Publish promotion or fallback and the outcome
      ansible.builtin.set_stats:
        per_host: true
        data:
          hyperion_report:
            outcome: "{{ 'fell_back' if inventory_hostname == 'cafe2' else 'updated' }}"
            reason: "{{ 'the gate failed: <b>sysrq</b> & more' if inventory_hostname == 'cafe2' else 'runs the new kernel' }}"
            phases: "{{ {('fallback' if inventory_hostname == 'cafe2' else 'promotion'):
                         {'start': last_start, 'end': now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ'), 'result': 'ok'}} }}"

- name: The counter PC only answers
  hosts: counter
  gather_facts: false
  tasks:
    - name: Answer
      ansible.builtin.command: sleep 1
      changed_when: false
"""

HOSTS = ('lab1', 'cafe1', 'cafe2', 'counter')
SEATS = ('lab1', 'cafe1', 'cafe2')

# Reads the report page in its frame once it has loaded; the result goes into <pre id="result">, which
# --dump-dom prints. Sizes are the laid-out ones (a bar the browser did not draw has none).
HARNESS = r"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>harness</title></head><body>
<iframe id="page" src="report.html" width="1400" height="1400"></iframe>
<pre id="result">not loaded</pre>
<script>
var errors = [];
window.addEventListener('error', function (e) { errors.push('harness: ' + e.message); });
function width(el) { return el.getBoundingClientRect().width; }
function data(el, name) { return el.getAttribute('data-' + name); }
document.getElementById('page').addEventListener('load', function () {
  var out = {errors: errors};
  try {
    var win = this.contentWindow, doc = this.contentDocument;
    win.addEventListener('error', function (e) { errors.push('page: ' + e.message); });
    var timeline = doc.getElementById('timeline'), grid = doc.getElementById('drift-grid');
    out.timeline = {width: timeline ? width(timeline) : 0, rows: []};
    doc.querySelectorAll('#timeline g.tl-row').forEach(function (row) {
      var activity = row.querySelector('rect.activity');
      out.timeline.rows.push({
        host: data(row, 'host'), outcome: data(row, 'outcome'), width: width(row),
        label: row.querySelector('text.tl-host').textContent,
        activity: activity ? width(activity) : null,
        segments: Array.prototype.map.call(row.querySelectorAll('rect.seg'), function (seg) {
          return {phase: data(seg, 'phase'), kind: data(seg, 'kind'), result: data(seg, 'result'),
                  start: data(seg, 'start'), end: data(seg, 'end'), width: width(seg),
                  failed: seg.classList.contains('res-failed'), title: seg.querySelector('title').textContent};
        })});
    });
    out.grid = {width: grid ? width(grid) : 0, items: [], rows: []};
    doc.querySelectorAll('#drift-grid g.grid-col').forEach(function (col) { out.grid.items.push(data(col, 'item')); });
    doc.querySelectorAll('#drift-grid g.grid-row').forEach(function (row) {
      out.grid.rows.push({host: data(row, 'host'), cells: Array.prototype.map.call(row.querySelectorAll('rect.cell'), function (cell) {
        return {item: data(cell, 'item'), status: data(cell, 'status'), width: width(cell),
                title: cell.querySelector('title').textContent};
      })});
    });
    out.scripts = doc.scripts.length;
    // Point at the first failed cell: the page's script names the cell and marks its host everywhere.
    var cell = doc.querySelector('#drift-grid rect.cell[data-status="fail"]');
    if (cell) {
      cell.dispatchEvent(new win.MouseEvent('mouseover', {bubbles: true}));
      var marked = {};
      doc.querySelectorAll('.hl').forEach(function (el) { marked[data(el, 'host')] = (marked[data(el, 'host')] || 0) + 1; });
      out.hover = {host: data(cell.parentNode, 'host'), title: cell.querySelector('title').textContent,
                   detail: doc.getElementById('hover-detail').textContent, marked: marked};
    }
  } catch (e) {
    errors.push('harness: ' + e);
  }
  document.getElementById('result').textContent = JSON.stringify(out);
});
</script>
</body></html>
"""


def _chromium_flags(profile):
    return [CHROMIUM, '--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--hide-scrollbars',
            '--disable-background-networking', '--disable-extensions', '--user-data-dir=%s' % profile,
            '--enable-logging=stderr', '--v=0', '--virtual-time-budget=10000']


def _console_messages(stderr):
    """What the pages said on the console: uncaught errors, blocked scripts or requests, console calls."""
    return [line for line in stderr.splitlines() if ':CONSOLE' in line]


def _png_pixels(path):
    """(width, height, set of RGB colours) of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    with open(path, 'rb') as handle:
        data = handle.read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', data[pos + 8:pos + 8 + length])
        elif kind == b'IDAT':
            idat.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour, _compression, _filter, interlace = header
    assert depth == 8 and interlace == 0 and colour in (2, 6), header
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b''.join(idat)), width * bpp
    previous, colours = bytearray(stride), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xff
            elif kind == 2:
                line[i] = (line[i] + up) & 0xff
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xff
            elif kind == 4:
                corner = previous[i - bpp] if i >= bpp else 0
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xff
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, bpp))
        previous = line
    return width, height, colours


def _hex(colour):
    return bytes(int(colour[i:i + 2], 16) for i in (1, 3, 5))


@pytest.fixture(scope='module')
def chromium():
    found = shutil.which(CHROMIUM)
    if not found:
        pytest.fail('chromium is not installed: `make test-report-browser` installs it as root (the test group of '
                    'workbench/lab/debian-packages.txt), or apt-get install chromium')
    return found


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """A real ansible-playbook run through the report callback: its report directory and the checks' results."""
    tmp_path = tmp_path_factory.mktemp('run')
    release = os.uname()[2]
    inventory = {'all': {'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                                  'out_dir': str(tmp_path), 'site_overlays': ['gaming_cafe'], 'site_overrides': {}},
                         'children': {'fleet': {'children': {'seats': {'hosts': {
                             'lab1': {'site_overlays': ['lab']},
                             # The running release is the one this seat wants: uname:release passes here only.
                             'cafe1': {'site_overrides': {'uname:release': release}},
                             'cafe2': {'site_overrides': {'CONFIG_SCHED_BORE': {'skip': 'a vendor kernel without BORE'}}},
                         }}}, 'hosts': {'counter': {}}}}}}
    (tmp_path / 'inventory.json').write_text(json.dumps(inventory))
    (tmp_path / 'evening.yml').write_text(PLAYBOOK)
    env = ansible_env(tmp_path, ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_RETRY_FILES_ENABLED='0')
    proc = subprocess.run([ansible_command('ansible-playbook'), '-i', str(tmp_path / 'inventory.json'),
                           str(tmp_path / 'evening.yml')], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, env=env, cwd=str(tmp_path), check=False)
    assert proc.returncode == 0, proc.stdout
    assert 'Traceback' not in proc.stdout, proc.stdout
    directory = os.path.realpath(str(tmp_path / 'reports' / 'latest'))
    with open(os.path.join(directory, 'report.json')) as handle:
        report = json.load(handle)
    checks = {}
    for host in SEATS:
        with open(str(tmp_path / ('%s.check.json' % host))) as handle:
            checks[host] = json.load(handle)
    return {'directory': directory, 'report': report, 'checks': checks, 'profile': str(tmp_path / 'chromium-profile')}


@pytest.fixture(scope='module')
def page(chromium, run):
    """The harness's reading of the page in Chromium, and every console message of the browser."""
    harness = os.path.join(run['directory'], 'harness.html')
    with open(harness, 'w') as handle:
        handle.write(HARNESS)
    proc = subprocess.run(_chromium_flags(run['profile']) + ['--allow-file-access-from-files', '--dump-dom',
                                                             'file://' + harness],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr
    found = re.search(r'<pre id="result">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stdout[-2000:]
    text = html.unescape(found.group(1))
    assert text != 'not loaded', 'the harness never saw the page load'
    return {'data': json.loads(text), 'console': _console_messages(proc.stderr)}


def test_no_script_error_and_nothing_blocked(page):
    # A console message would be an uncaught error, a script or a request the page's policy blocked, or a log call.
    assert page['console'] == []
    assert page['data']['errors'] == []
    # The page's own script is its only one, and it ran: pointing at a failed cell names it below the page
    # and marks its host in the timeline, the grid and the table.
    assert page['data']['scripts'] == 1
    hover = page['data']['hover']
    assert hover['detail'] == hover['title'] and ': fail' in hover['detail']
    assert hover['marked'] == {hover['host']: 3}


def test_the_timeline_has_a_row_per_host_with_its_phases(page, run):
    timeline = page['data']['timeline']
    assert timeline['width'] > 500
    rows = dict((row['host'], row) for row in timeline['rows'])
    assert sorted(rows) == sorted(HOSTS) and len(timeline['rows']) == len(HOSTS)
    for host in HOSTS:
        row = rows[host]
        assert row['label'] == host and row['width'] > 500
        # The span from the first to the last task, drawn for every host.
        assert row['activity'] and row['activity'] > 0
        segments = row['segments']
        assert all(segment['width'] > 0 for segment in segments), segments
        # In time order.
        starts = [segment['start'] for segment in segments]
        assert starts == sorted(starts)

    def phases(host):
        return [s['phase'] for s in rows[host]['segments'] if s['phase'] != 'waiting']

    assert phases('lab1') == phases('cafe1') == ['staging', 'trial_boot', 'gate', 'promotion']
    assert phases('cafe2') == ['staging', 'trial_boot', 'gate', 'fallback']
    assert rows['counter']['segments'] == []
    # Batches of one: the second and third host wait between staging and their trial boot, longer each.
    waits = {}
    for host in ('cafe1', 'cafe2'):
        segments = rows[host]['segments']
        names = [s['phase'] for s in segments]
        assert names[:3] == ['staging', 'waiting', 'trial_boot'], names
        wait = segments[1]
        assert wait['kind'] == 'wait' and wait['start'] == segments[0]['end'] and wait['end'] == segments[2]['start']
        assert 'waiting for its batch' in wait['title']
        waits[host] = wait['width']
    assert waits['cafe2'] > waits['cafe1']
    gate = [s for s in rows['cafe2']['segments'] if s['phase'] == 'gate'][0]
    assert gate['failed'] and gate['result'] == 'failed' and gate['title'].endswith(', failed')
    assert (rows['cafe2']['outcome'], rows['lab1']['outcome'], rows['counter']['outcome']) == ('fell_back', 'updated', 'ok')
    # All started together (staging), so the rows go in the order the hosts ended: batch by batch, then the
    # counter PC, whose play came last.
    assert [row['host'] for row in timeline['rows']] == ['lab1', 'cafe1', 'cafe2', 'counter']


def test_the_drift_grid_has_every_checked_host_by_every_drifting_item(page, run):
    grid = page['data']['grid']
    checks = run['checks']
    statuses = dict((host, dict((item['id'], item['status']) for item in checks[host]['items'])) for host in SEATS)
    drifting = set(item for host in SEATS for item, status in statuses[host].items() if status in ('fail', 'unknown'))
    assert drifting and set(grid['items']) == drifting and len(grid['items']) == len(drifting)
    assert sorted(row['host'] for row in grid['rows']) == sorted(SEATS)
    assert grid['width'] > 0
    for row in grid['rows']:
        cells = row['cells']
        assert [cell['item'] for cell in cells] == grid['items']
        for cell in cells:
            assert cell['width'] > 0
            assert cell['status'] == statuses[row['host']].get(cell['item'], 'none'), (row['host'], cell)
            assert cell['title'].startswith('%s, %s: ' % (row['host'], cell['item']))
    cells = dict((row['host'], dict((cell['item'], cell) for cell in row['cells'])) for row in grid['rows'])
    # The overrides make the cells differ: the running release passes on cafe1 only, BORE is skipped on cafe2.
    assert (cells['cafe1']['uname:release']['status'], cells['lab1']['uname:release']['status']) == ('pass', 'fail')
    assert 'expected %s, got %s' % (os.uname()[2], os.uname()[2]) in cells['cafe1']['uname:release']['title']
    if 'CONFIG_SCHED_BORE' in cells['cafe2']:
        assert cells['cafe2']['CONFIG_SCHED_BORE']['status'] == 'not_applicable'
        assert 'a vendor kernel without BORE' in cells['cafe2']['CONFIG_SCHED_BORE']['title']


def test_report_json_carries_the_phases_and_the_timeline(run):
    report = run['report']
    hosts = dict((row['host'], row) for row in report['hosts'])
    assert set(hosts['cafe2']['phases']) == {'staging', 'trial_boot', 'gate', 'fallback'}
    assert hosts['cafe2']['phases']['gate']['result'] == 'failed'
    assert hosts['counter']['phases'] == {} and hosts['counter']['first_task'] <= hosts['counter']['last_task']
    assert hosts['cafe2']['reason'] == 'the gate failed: <b>sysrq</b> & more'
    rows = dict((row['host'], row) for row in report['timeline']['rows'])
    assert [s['name'] for s in rows['cafe2']['segments']] == ['staging', 'waiting', 'trial_boot', 'gate', 'fallback']
    assert report['timeline']['start'] <= rows['cafe2']['segments'][0]['start']
    assert report['drift']['unchecked'] == ['counter']
    assert 'check_items' not in hosts['lab1']


def test_the_screenshot_shows_the_charts(chromium, run):
    shot = os.path.join(run['directory'], 'screenshot.png')
    proc = subprocess.run(_chromium_flags(run['profile']) + ['--window-size=1280,1400', '--screenshot=%s' % shot,
                                                             'file://' + os.path.join(run['directory'], 'report.html')],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=180, check=False)
    assert proc.returncode == 0 and os.path.isfile(shot), proc.stderr
    assert _console_messages(proc.stderr) == []
    width, height, colours = _png_pixels(shot)
    assert (width, height) == (1280, 1400)
    assert len(colours) > 20, 'a blank page'
    # The bars of staging, the trial boot and the gate, a failed and a passing cell of the grid.
    for colour in ('#3f6fc4', '#7d4fb8', '#23867a', '#d94848', '#bfe3bf'):
        assert _hex(colour) in colours, colour
