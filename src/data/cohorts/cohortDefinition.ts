/** What a synthetic cohort declares: its subgroups, findings, defaults, renderer and prompt. */
import type { ChannelCount, RasterImage } from "../../io/rasterImage";
import type { Rng } from "../../util/random";
import type { SensitiveAttribute } from "../subgroups";
import type { TargetDistribution } from "../targetDistribution";

export type CohortName = "cxr" | "derm" | "fundus";

export interface SubjectLabels {
  readonly attributes: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, number>>;
}

export type SubjectDetails = Readonly<Record<string, string | number>>;

export interface CohortDefinition {
  readonly name: CohortName;
  readonly title: string;
  readonly channels: ChannelCount;
  readonly attributes: readonly SensitiveAttribute[];
  /** Binary findings (1 = present). */
  readonly findings: readonly string[];
  readonly defaultPrevalence: Readonly<Record<string, number>>;
  readonly defaultAttributes: Readonly<Record<string, TargetDistribution>>;
  /** One line per visual cue, for docs and the preview legend. */
  readonly cues: Readonly<Record<string, string>>;
  /**
   * Draws the subject's non-image details (age in years, cup-to-disc ratio …) that the prompt and
   * the renderer share. Cheap: records of a large cohort are described without rendering.
   */
  describe(subject: SubjectLabels, rng: Rng): Record<string, string | number>;
  /** Renders one subject into `image` (already sized, filled with 0) using only `rng`. */
  render(image: RasterImage, subject: SubjectLabels, details: SubjectDetails, rng: Rng): void;
  prompt(subject: SubjectLabels, details: SubjectDetails): string;
}
