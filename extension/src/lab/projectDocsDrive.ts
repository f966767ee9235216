/**
 * A read-only contents drive over the project's documentation (README.md, docs/,
 * notebooks/README.md …), served by FairDiff Lab's server at /fairdiff/docs/ (fairdiff_lab.py).
 * The lab's own drive only sees the notebook folder it was started on; this one lets the Help
 * menu open the project's docs in JupyterLab's Markdown viewer, with their relative images and
 * links working. FairDiff Lab only: a stock JupyterLab server has no /fairdiff/docs.
 */
import { URLExt } from "@jupyterlab/coreutils";
import { type Contents, ServerConnection } from "@jupyterlab/services";
import { Signal } from "@lumino/signaling";

export const DOCS_DRIVE = "fairdiff-docs";

/**
 * Drive-local paths sit under one folder: the Markdown viewer resolves a relative link against
 * the document's folder, and a file at a drive's root has none (its links would leave the drive).
 */
export const DOCS_FOLDER = "project";

/** The lab path of a project file, e.g. docsPath("docs/methods.md"). */
export function docsPath(projectPath: string): string {
  return `${DOCS_DRIVE}:${DOCS_FOLDER}/${projectPath}`;
}

function readOnly(what: string): Promise<never> {
  return Promise.reject(new Error(`${DOCS_DRIVE} is read-only: cannot ${what}`));
}

export class ProjectDocsDrive implements Contents.IDrive {
  readonly name = DOCS_DRIVE;
  readonly serverSettings: ServerConnection.ISettings;
  // Never emitted: nothing changes these files from inside the lab.
  readonly fileChanged: Signal<Contents.IDrive, Contents.IChangedArgs> = new Signal(this);
  private disposed = false;

  constructor(serverSettings = ServerConnection.makeSettings()) {
    this.serverSettings = serverSettings;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    this.disposed = true;
    Signal.clearData(this);
  }

  private projectPath(localPath: string): string {
    const prefix = `${DOCS_FOLDER}/`;
    if (!localPath.startsWith(prefix)) {
      throw new Error(`${DOCS_DRIVE}: "${localPath}" is not under ${prefix}`);
    }
    return localPath.slice(prefix.length);
  }

  async getDownloadUrl(localPath: string): Promise<string> {
    return URLExt.join(
      this.serverSettings.baseUrl,
      "fairdiff/docs",
      URLExt.encodeParts(this.projectPath(localPath)),
    );
  }

  async get(localPath: string, options?: Contents.IFetchOptions): Promise<Contents.IModel> {
    const url = await this.getDownloadUrl(localPath);
    const response = await ServerConnection.makeRequest(url, {}, this.serverSettings);
    if (!response.ok) throw new ServerConnection.ResponseError(response);
    const name = localPath.split("/").pop() ?? localPath;
    const modified = response.headers.get("Last-Modified");
    const time = modified ? new Date(modified).toISOString() : new Date(0).toISOString();
    const wantContent = options?.content !== false;
    return {
      name,
      path: localPath,
      type: "file",
      writable: false,
      created: time,
      last_modified: time,
      mimetype: response.headers.get("Content-Type")?.split(";")[0] ?? "text/markdown",
      content: wantContent ? await response.text() : null,
      format: "text",
    };
  }

  newUntitled(): Promise<Contents.IModel> {
    return readOnly("create files");
  }

  delete(localPath: string): Promise<void> {
    return readOnly(`delete ${localPath}`);
  }

  rename(oldLocalPath: string): Promise<Contents.IModel> {
    return readOnly(`rename ${oldLocalPath}`);
  }

  save(localPath: string): Promise<Contents.IModel> {
    return readOnly(`save ${localPath}`);
  }

  copy(localPath: string): Promise<Contents.IModel> {
    return readOnly(`copy ${localPath}`);
  }

  createCheckpoint(localPath: string): Promise<Contents.ICheckpointModel> {
    return readOnly(`checkpoint ${localPath}`);
  }

  async listCheckpoints(): Promise<Contents.ICheckpointModel[]> {
    return [];
  }

  restoreCheckpoint(localPath: string): Promise<void> {
    return readOnly(`restore ${localPath}`);
  }

  deleteCheckpoint(localPath: string): Promise<void> {
    return readOnly(`delete checkpoints of ${localPath}`);
  }
}
