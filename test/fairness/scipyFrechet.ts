/** The Fréchet tests' peer (pytorch-fid's formula on Debian's scipy) and its requirement. */
import { peerHasModules } from "../../bench/peers/python";

export { scipyFrechet, type ScipyFrechet } from "../../bench/peers/frechetScipy";

export const hasScipy = peerHasModules(["numpy", "scipy"]);
export const SCIPY_REQUIREMENT = "python3-scipy (apt install python3-scipy)";
