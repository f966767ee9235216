import { describeLearnability } from "./probeCohort";

describeLearnability("derm", (result) => {
  // Every sensitive attribute and every finding of the cohort was probed.
  expect(result.tasks.map((t) => t.name)).toEqual(["sex", "ageGroup", "skinTone", "malignant"]);
});
