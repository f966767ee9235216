import { describeLearnability } from "./probeCohort";

describeLearnability("fundus");
