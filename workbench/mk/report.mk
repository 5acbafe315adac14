# report.html in a real browser (workbench/tests/report): a real ansible-playbook run on local hosts writes
# the report through the hyperion_report callback, headless Chromium renders the page, and the test fails
# on a console message (a script error, anything the page's policy blocked), an empty chart, a timeline
# without a row per host and its phases, or a drift grid whose cells are not the checks' statuses. The
# packages check comes first: as root it installs chromium (the test group of
# workbench/lab/debian-packages.txt), otherwise it stops and names it. About a minute, no VM.
.PHONY: test-report-browser
test-report-browser: packages-test setup ## report.html in headless Chromium: the timeline, the drift grid, no script error
	PYTHONPATH=$(CURDIR)/$(BUILD)/collections $(BIN)/python -m pytest -q -p no:cacheprovider workbench/tests/report
TEST_LANE_1 += test-report-browser
