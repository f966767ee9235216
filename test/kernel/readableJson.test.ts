/**
 * display.json's text/plain (kernel/output/readableJson.ts): indented, numbers to four significant
 * digits, short plain arrays and objects on one line — while application/json keeps every digit.
 */
import { json } from "../../kernel/output/richValues";
import { readableJson } from "../../kernel/output/readableJson";

const result = {
  method: "distributional alignment",
  bias: { before: 0.4120370370370371, after: 0.10185185185185186 },
  fid: [48.123456789, 41.98765432101],
  steps: 40,
  groups: ["Female", "Male"],
  perGroup: [
    { group: "Female", share: 0.2916666666666667, interval: [0.1666666666666667, 0.4375] },
    { group: "Male", share: 0.7083333333333334, interval: [0.5625, 0.8333333333333334] },
  ],
  notes: [],
  when: new Date("2025-01-02T03:04:05Z"),
  skipped: undefined,
};

test("display.json's text is indented, rounded JSON; its JSON mime data keeps full values", () => {
  const text = readableJson(result);
  expect(text).toBe(
    [
      "{",
      '  "method": "distributional alignment",',
      '  "bias": { "before": 0.412, "after": 0.1019 },',
      '  "fid": [48.12, 41.99],',
      '  "steps": 40,',
      '  "groups": ["Female", "Male"],',
      '  "perGroup": [',
      "    {",
      '      "group": "Female",',
      '      "share": 0.2917,',
      '      "interval": [0.1667, 0.4375]',
      "    },",
      "    {",
      '      "group": "Male",',
      '      "share": 0.7083,',
      '      "interval": [0.5625, 0.8333]',
      "    }",
      "  ],",
      '  "notes": [],',
      '  "when": "2025-01-02T03:04:05.000Z"',
      "}",
    ].join("\n"),
  );
  // No line runs past 80 columns; no 16-digit float is left.
  for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  expect(text).not.toMatch(/\d\.\d{5,}/);
  const bundle = json(result).toMimeBundle();
  expect(bundle["text/plain"]).toBe(text);
  expect(bundle["application/json"]).toBe(result);
  expect(readableJson([1e-7, 123456.789, 1234.5678, -0.000123456, NaN])).toBe(
    "[1e-7, 123457, 1235, -0.0001235, null]",
  );
});
