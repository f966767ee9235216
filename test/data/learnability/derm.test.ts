import { describeLearnability } from "./probeCohort";

describeLearnability("derm");
