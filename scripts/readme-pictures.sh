#!/bin/sh
# Refreshes the README's pictures of FairDiff Lab from the browser test's screenshots: runs the
# test (it needs chromium and jupyter_server, as `npm test` does), then copies the pictures the
# README shows into docs/images/. Run from the repository root: `npm run pictures`.
set -e
npx jest test/browser/fairdiffLab.test.ts
shots=test-artifacts/browser
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
