/**
 * Prompt adherence pooled over an audit: how often the images show the sex (or any attribute)
 * and the finding status the prompt asked for, with Wilson intervals over all such images.
 */
import { wilsonInterval, type Interval } from "../fairness";
import type { PromptRepresentation } from "./representationAudit";

export interface AdherenceSummary {
  /** attribute → share of images in the group their prompt named. */
  attributes: Record<string, Interval>;
  /** finding → share of images whose classified status matches the prompt's request. */
  findings: Record<string, Interval>;
}

export function summarizeAdherence(results: PromptRepresentation[]): AdherenceSummary {
  const attributeHits = new Map<string, { hits: number; n: number }>();
  const findingHits = new Map<string, { hits: number; n: number }>();
  const add = (
    map: Map<string, { hits: number; n: number }>,
    key: string,
    hits: number,
    n: number,
  ) => {
    const entry = map.get(key) ?? { hits: 0, n: 0 };
    entry.hits += hits;
    entry.n += n;
    map.set(key, entry);
  };
  for (const result of results) {
    for (const [attribute, a] of Object.entries(result.adherence)) {
      add(attributeHits, attribute, Math.round(a.rate.estimate * result.n), result.n);
    }
    for (const f of result.findings) {
      if (f.requested === undefined) continue;
      const positives = Math.round(f.positiveRate.estimate * result.n);
      add(findingHits, f.finding, f.requested ? positives : result.n - positives, result.n);
    }
  }
  const toIntervals = (map: Map<string, { hits: number; n: number }>) =>
    Object.fromEntries([...map].map(([key, { hits, n }]) => [key, wilsonInterval(hits, n)]));
  return { attributes: toIntervals(attributeHits), findings: toIntervals(findingHits) };
}
