#!/bin/sh
# Refreshes the README's pictures of FairDiff Lab from the browser test's screenshots: runs the
# test (it needs chromium and jupyter_server, as `npm test` does), then copies the pictures the
# README shows into docs/images/. Run from the repository root: `npm run pictures`.
set -e
shots=test-artifacts/browser
# screenshot → README picture
pairs="dashboard-mid-training.png:dashboard.png
report-prompt.png:lab-report.png
report-prompt-dark.png:lab-report-dark.png
notebooks-readme.png:lab-notebooks-readme.png
running-panel.png:lab-running-panel.png"
# Stale screenshots must not pass for new ones when the test is skipped.
for pair in $pairs; do rm -f "$shots/${pair%%:*}"; done
npx jest test/browser/fairdiffLab.test.ts
for pair in $pairs; do
  shot=$shots/${pair%%:*}
  test -s "$shot" || { echo "missing $shot: did the browser test run (not skipped)?" >&2; exit 1; }
  cp "$shot" "docs/images/${pair#*:}"
  echo "docs/images/${pair#*:} ← $shot"
done
