import { describeLearnability } from "./probeCohort";

describeLearnability("cxr");
