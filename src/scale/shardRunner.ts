/**
 * Runs audit shard jobs in one process, keeping the opened audit (models, extractor, the
 * memorisation references) between jobs of the same request: a worker pays the start-up cost
 * once per audit, not once per shard.
 */
import type { AuditPart } from "../audit/auditPart";
import { prepareAudit, type PreparedAudit, type ShardRunOptions } from "../audit/auditShard";
import { settingsDifference } from "../audit/auditSettings";
import { openAudit, type OpenedAudit } from "./auditRequest";
import { PermanentJobError, type AuditShardJob } from "./workerJob";

export class ShardRunner {
  private cached?: { key: string; opened: OpenedAudit; prepared: PreparedAudit };

  private async audit(job: AuditShardJob): Promise<PreparedAudit> {
    const key = JSON.stringify(job.request);
    if (this.cached?.key === key) return this.cached.prepared;
    this.dispose();
    const opened = await openAudit(job.request);
    try {
      const prepared = await prepareAudit(opened.model, opened.classifier, opened.options);
      this.cached = { key, opened, prepared };
      return prepared;
    } catch (error) {
      opened.dispose();
      throw error;
    }
  }

  async run(job: AuditShardJob, options: ShardRunOptions = {}): Promise<AuditPart> {
    const prepared = await this.audit(job);
    if (prepared.fingerprint !== job.fingerprint) {
      const difference = settingsDifference(job.settings, prepared.settings);
      throw new PermanentJobError(
        `this worker would compute another audit than the one planned: ${difference ?? "fingerprints differ"} (planned vs here); give every machine the same checkpoints, backend and fairdiff version`,
      );
    }
    return prepared.runShard(job.shard, options);
  }

  dispose(): void {
    if (!this.cached) return;
    this.cached.prepared.dispose();
    this.cached.opened.dispose();
    this.cached = undefined;
  }
}
