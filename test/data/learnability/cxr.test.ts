import { describeLearnability } from "./probeCohort";

describeLearnability("cxr", (result) => {
  // Every sensitive attribute and every finding of the cohort was probed.
  expect(result.tasks.map((t) => t.name)).toEqual([
    "sex",
    "race",
    "ageBand",
    "Pleural Effusion",
    "Cardiomegaly",
  ]);
});
