#!/bin/sh
# Refreshes the README's pictures of FairDiff Lab from the browser test's screenshots: runs the
# test (it needs chromium and jupyter_server, as `npm test` does), then copies the pictures the
# README shows into docs/images/. Run from the repository root: `npm run pictures`.
set -e
shots=test-artifacts/browser
# Stale screenshots must not pass for new ones when the test is skipped.
rm -f "$shots"/dashboard-mid-training.png "$shots"/report-prompt.png \
  "$shots"/report-prompt-dark.png "$shots"/notebooks-readme.png "$shots"/running-panel.png
npx jest test/browser/fairdiffLab.test.ts
for pair in \
  "dashboard-mid-training.png dashboard.png" \
  "report-prompt.png lab-report.png" \
  "report-prompt-dark.png lab-report-dark.png" \
  "notebooks-readme.png lab-notebooks-readme.png" \
  "running-panel.png lab-running-panel.png"; do
  set -- $pair
  test -s "$shots/$1" || { echo "missing $shots/$1: did the browser test run (not skipped)?" >&2; exit 1; }
  cp "$shots/$1" "docs/images/$2"
  echo "docs/images/$2 ← $shots/$1"
done
