import { describeLearnability } from "./probeCohort";

describeLearnability("fundus", (result) => {
  // Every sensitive attribute and every finding of the cohort was probed.
  expect(result.tasks.map((t) => t.name)).toEqual(["race", "sex", "ethnicity", "glaucoma"]);
});
