/**
 * Compiles a cell against the declarations of the cells before it: type check, emit, and the
 * declarations the next cell sees. Adapted from tslab 1.0.22's converter (Apache-2.0, Yu
 * Watanabe), whose internals cannot be reached from outside. Our changes:
 * - names from earlier cells become `exports.<name>` wherever they are *referenced*, including
 *   object shorthand (`{ a }` → `{ a: exports.a }`), and never where they are property names
 *   (`const { y: z } = obj`), which tslab turned into a ReferenceError / SyntaxError;
 * - a cell without imports, exports or declarations is emitted straight as a script, skipping
 *   tslab's second compile (ES module → CommonJS), which took half of a `1+1` cell's time.
 * Modules in the notebook folder (sideOutputs), completion and inspection are as in tslab.
 */
import path from "node:path";
import type {
  CompletionInfo,
  ConvertResult,
  Converter,
  Diagnostic,
  DiagnosticPos,
} from "tslab/dist/converter";
import { ts, type TS } from "./typescript";

type Ts = TS;
type Node = import("@tslab/typescript-for-tslab").Node;
type SourceFile = import("@tslab/typescript-for-tslab").SourceFile;
type Identifier = import("@tslab/typescript-for-tslab").Identifier;
type TypeChecker = import("@tslab/typescript-for-tslab").TypeChecker;
type Symbol_ = import("@tslab/typescript-for-tslab").Symbol;
type Statement = import("@tslab/typescript-for-tslab").Statement;
type Builder = import("@tslab/typescript-for-tslab").BuilderProgram;
type TsDiagnostic = import("@tslab/typescript-for-tslab").Diagnostic;
type ChainMessage = import("@tslab/typescript-for-tslab").DiagnosticMessageChain;
type CustomTransformers = import("@tslab/typescript-for-tslab").CustomTransformers;
type TsCompletionInfo = import("@tslab/typescript-for-tslab").CompletionInfo;

/** tslab's node-side typings of what the converter returns (kept for the executor). */
export type CellConverter = Converter;

const { factory } = ts;
const normalizeJoin = (...parts: string[]) => path.join(...parts).replace(/\\/g, "/");
const mutable = <T>(o: T) => o as { -readonly [K in keyof T]: T[K] };
const cancellationToken = {
  isCancellationRequested: () => false,
  throwIfCancellationRequested: () => {},
};
/** The last expression's value is stored under this name (or a numbered one if it is taken). */
const LAST_EXPRESSION = "tsLastExpr";
/**
 * `await x` in a cell becomes `await exports.<AWAIT_HOOK>(x)`: the executor puts a function there
 * that lets an interrupt reject the awaited value (kernel/interrupt/cellWork.ts).
 */
export const AWAIT_HOOK = "__fairdiffAwait";

interface RebuildTimer {
  callback: () => void;
}

/**
 * "'await' expressions are only allowed within async functions…" (1308) and its `for await`
 * counterparts (1103, 1431, 1432): what a cell's top-level await looks like to the checker.
 */
const TOP_LEVEL_AWAIT_CODES = new Set([1308, 1103, 1431, 1432]);

/** An `await` or `for await` outside any function or class body: the cell must run as async. */
function containsTopLevelAwait(node: import("@tslab/typescript-for-tslab").Node): boolean {
  return (
    ts.forEachChild(node, (child) => {
      if (ts.isFunctionLike(child) || ts.isClassLike(child)) return false;
      if (ts.isAwaitExpression(child)) return true;
      if (ts.isForOfStatement(child) && child.awaitModifier !== undefined) return true;
      return containsTopLevelAwait(child) || undefined;
    }) === true
  );
}

export function createCellConverter(): CellConverter {
  // tslab sets this process-wide (its #82): the watch host must see case-sensitive names.
  ts.sys.useCaseSensitiveFileNames = true;
  const cwd = ts.sys.getCurrentDirectory();
  const srcFilename = normalizeJoin(cwd, "__tslab__.ts");
  const declFilename = normalizeJoin(cwd, "__prev__.d.ts");
  const rootFiles = new Set([declFilename, srcFilename]);
  const outDir = "outDir";
  const dstFilename = normalizeJoin(outDir, "__tslab__.js");
  const dstDeclFilename = normalizeJoin(outDir, "__tslab__.d.ts");
  // Node >= 20 (package engines): ES2022 as tslab picks for Node >= 18.
  const transpileTarget = ts.ScriptTarget.ES2022;
  /** Makes every cell an external module ("export {}"), so its names are module-local. */
  const srcPrefix = "export {};" + ts.sys.newLine;
  const srcPrefixOffsets = {
    offset: srcPrefix.length,
    line: (srcPrefix.match(/\n/g) ?? []).length,
    char: srcPrefix.length - (srcPrefix.lastIndexOf("\n") + 1),
  };
  let srcContent = "";
  let declContent = "";
  /** External .ts/.js files already converted (re-converted when they change). */
  const sideInputsConverted = new Set<string>();
  let builder: Builder | null = null;
  const sys: Ts["sys"] = Object.create(ts.sys);
  sys.getCurrentDirectory = () => cwd;
  // The watch program debounces rebuilds with a timer; we run the rebuild synchronously.
  let rebuildTimer: RebuildTimer | null = null;
  sys.setTimeout = (callback: (...args: unknown[]) => void) => {
    if (rebuildTimer) throw new Error("Unexpected pending rebuildTimer");
    rebuildTimer = {
      callback: () => {
        callback();
        rebuildTimer = null;
      },
    };
    return rebuildTimer;
  };
  sys.clearTimeout = (timeoutId: unknown) => {
    if (rebuildTimer === timeoutId) {
      rebuildTimer = null;
      return;
    }
    throw new Error("clearing unexpected timer");
  };
  /** In-memory modules (`//% module: name` cells); values include srcPrefix. */
  const virtualFiles = new Map<string, string>();
  sys.readFile = (file, encoding) => {
    if (file === srcFilename) return srcPrefix + srcContent;
    if (file === declFilename) return srcPrefix + declContent;
    if (virtualFiles.has(file)) return virtualFiles.get(file);
    return ts.sys.readFile(forwardTslabPath(cwd, file), encoding);
  };
  // Fake node_modules so that `import "tslab"` resolves without one in cwd (tslab's behaviour).
  sys.directoryExists = (dir) =>
    ts.sys.directoryExists(forwardTslabPath(cwd, dir)) ||
    normalizeJoin(cwd, "node_modules") === dir;
  sys.fileExists = (file) =>
    ts.sys.fileExists(forwardTslabPath(cwd, file)) || virtualFiles.has(file);
  sys.readDirectory = (dir, extensions, exclude, include, depth) =>
    ts.sys.readDirectory(forwardTslabPath(cwd, dir), extensions, exclude, include, depth);
  sys.writeFile = () => {
    throw new Error("writeFile must not be called");
  };
  let notifyUpdateSrc: ((file: string, kind: number) => void) | null = null;
  let notifyUpdateDecls: ((file: string, kind: number) => void) | null = null;
  const fileWatchers = new Map<string, (file: string, kind: number) => void>();
  sys.watchFile = (file, callback, pollingInterval) => {
    if (file === srcFilename) {
      notifyUpdateSrc = callback;
      return { close: () => {} };
    }
    if (file === declFilename) {
      notifyUpdateDecls = callback;
      return { close: () => {} };
    }
    const cb = (fileName: string, eventKind: number) => {
      sideInputsConverted.delete(fileName);
      callback(fileName, eventKind);
    };
    fileWatchers.set(file, cb);
    const watcher = ts.sys.watchFile!(file, cb, pollingInterval);
    return {
      close: () => {
        fileWatchers.delete(file);
        watcher.close();
      },
    };
  };
  const host = ts.createWatchCompilerHost(
    Array.from(rootFiles),
    {
      // ESNext, not ES2015, for dynamic import.
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      target: transpileTarget,
      lib: ["lib.es2022.d.ts"],
      declaration: true,
      newLine: ts.NewLineKind.LineFeed,
      noImplicitUseStrict: true,
      experimentalDecorators: true,
      resolveJsonModule: true,
      jsx: ts.JsxEmit.React,
      typeRoots: getTypeRoots(),
      // allowJs, checkJs and outDir are needed to transpile .js files in the notebook folder.
      allowJs: true,
      checkJs: true,
      disableTopLevelAwait: true,
      skipLibCheck: true,
      // rootDir keeps output paths stable.
      rootDir: cwd,
      outDir,
    },
    sys,
    undefined,
    (d) => console.log(d.messageText),
    () => {
      // watch status changes are not interesting
    },
  );
  host.afterProgramCreate = (b) => {
    builder = b;
  };
  const watch = ts.createWatchProgram(host);
  if (!builder) throw new Error("builder is not created");

  return { close: () => watch.close(), convert, inspect, complete, addModule };

  function current(): Builder {
    return builder as Builder;
  }

  function convert(prevDecl: string, src: string): ConvertResult {
    updateContent(prevDecl, src);
    let declsFile = current().getSourceFile(declFilename) as SourceFile;
    let srcFile = current().getSourceFile(srcFilename) as SourceFile;
    const keys = new Set<string>();
    srcFile.locals?.forEach((_, key) => keys.add(key as string));
    if (keys.size > 0) {
      // Export every top-level name: the module transform then keeps `exports` up to date.
      updateContent(prevDecl, src + "\nexport {" + Array.from(keys).join(", ") + "}");
      declsFile = current().getSourceFile(declFilename) as SourceFile;
      srcFile = current().getSourceFile(srcFilename) as SourceFile;
    }
    mutable(srcFile).parent = declsFile;
    const diag = convertDiagnostics(getPreEmitDiagnosticsWithDependencies(current(), srcFile));
    if (diag.diagnostics.length > 0) return { diagnostics: diag.diagnostics };
    const asScript = keys.size === 0 && !hasModuleSyntax(srcFile);
    let output: string | undefined;
    let declOutput = "";
    let lastExpressionVar: string | undefined;
    let sideOutputs: { path: string; data: string }[] | undefined;
    for (const dep of getAllSrcDependencies(current(), srcFile)) {
      if (sideInputsConverted.has(dep)) continue;
      if (dep !== srcFilename) sideInputsConverted.add(dep);
      current().emit(
        current().getSourceFile(dep),
        (fileName, data) => {
          if (fileName === dstFilename) {
            output = data;
          } else if (fileName === dstDeclFilename) {
            declOutput = data;
          } else if (fileName.endsWith(".js")) {
            const rel = path.relative(outDir, fileName);
            if (rel.startsWith("..")) throw new Error("unexpected emit path: " + fileName);
            sideOutputs ??= [];
            sideOutputs.push({
              path: normalizeJoin(cwd, rel),
              data: esModuleToCommonJSModule(data),
            });
          }
        },
        undefined,
        undefined,
        cellTransformers(
          current().getProgram().getTypeChecker(),
          declsFile,
          srcFilename,
          keys,
          asScript,
          (name) => (lastExpressionVar = name),
        ),
      );
    }
    sideOutputs?.sort((a, b) => a.path.localeCompare(b.path));
    declOutput += remainingDecls(current().getProgram().getTypeChecker(), srcFile, declsFile);
    return {
      output: output === undefined || asScript ? output : esModuleToCommonJSModule(output),
      declOutput,
      diagnostics: diag.diagnostics,
      hasToplevelAwait: diag.hasToplevelAwait,
      sideOutputs,
      lastExpressionVar,
    };
  }

  function getTypeRoots(): string[] {
    // Use tslab's own @types when cwd's type roots have no @types/node (tslab's bug#10).
    const typeRoots = ts.getDefaultTypeRoots(cwd, { directoryExists: sys.directoryExists }) ?? [];
    for (const root of typeRoots) {
      if (ts.sys.fileExists(normalizeJoin(root, "node", "package.json"))) return typeRoots;
    }
    const tslabDir = path.dirname(require.resolve("tslab/package.json"));
    return [...typeRoots, normalizeJoin(tslabDir, "node_modules", "@types")];
  }

  function inspect(prevDecl: string, src: string, position: number) {
    updateContent(prevDecl, src);
    const declsFile = current().getSourceFile(declFilename) as SourceFile;
    const srcFile = current().getSourceFile(srcFilename) as SourceFile;
    mutable(srcFile).parent = declsFile;
    const info = ts.getQuickInfoAtPosition(
      srcFile,
      current().getProgram().getTypeChecker(),
      cancellationToken,
      position + srcPrefix.length,
    );
    if (info?.textSpan) info.textSpan.start -= srcPrefix.length;
    return info as ReturnType<Converter["inspect"]>;
  }

  function complete(prevDecl: string, src: string, position: number): CompletionInfo {
    updateContent(prevDecl, src);
    const declsFile = current().getSourceFile(declFilename) as SourceFile;
    const srcFile = current().getSourceFile(srcFilename) as SourceFile;
    mutable(srcFile).parent = declsFile;
    const pos = position + srcPrefix.length;
    const info = ts.Completions.getCompletionsAtPositionForTslab(
      {} as Parameters<Ts["Completions"]["getCompletionsAtPositionForTslab"]>[0],
      current().getProgram(),
      () => {},
      srcFile,
      pos,
      {},
      undefined,
      ts.CompletionTriggerKind.Invoked,
      cancellationToken,
    );
    if (info?.optionalReplacementSpan) info.optionalReplacementSpan.start -= srcPrefix.length;
    // findPrecedingToken may return a token ending after pos; node.pos != node.getStart().
    const prev = ts.findPrecedingToken(pos, srcFile);
    if (prev && ts.isIdentifier(prev) && prev.end >= pos)
      return completionWithId(info, prev, srcFile);
    const next = prev ? ts.findNextToken(prev, srcFile, srcFile) : undefined;
    if (next && ts.isIdentifier(next) && next.getStart(srcFile) <= pos && pos <= next.end) {
      return completionWithId(info, next, srcFile);
    }
    const entries = info?.entries ? info.entries.slice() : [];
    entries.sort((a, b) => a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name));
    return {
      start: pos - srcPrefix.length,
      end: pos - srcPrefix.length,
      candidates: entries.map((e) => e.name),
      original: info as CompletionInfo["original"],
    };
  }

  /** Candidates matching the identifier at the cursor: prefix, then case-insensitive, then infix. */
  function completionWithId(
    info: TsCompletionInfo | undefined,
    id: Identifier,
    srcFile: SourceFile,
  ): CompletionInfo {
    const name = id.escapedText.toString();
    const lower = name.toLowerCase();
    const candidates: { name: string; sortKey: string; index: number }[] = [];
    (info?.entries ?? []).forEach((e, index) => {
      const lname = e.name.toLowerCase();
      const key = e.name.startsWith(name)
        ? "0"
        : lname.startsWith(lower)
          ? "1"
          : lname.includes(lower)
            ? "2"
            : "";
      if (key !== "") candidates.push({ name: e.name, sortKey: key + e.sortText, index });
    });
    candidates.sort((a, b) => a.sortKey.localeCompare(b.sortKey) || a.index - b.index);
    return {
      start: id.getStart(srcFile) - srcPrefix.length,
      end: id.end - srcPrefix.length,
      candidates: candidates.map((e) => e.name),
      original: info as CompletionInfo["original"],
    };
  }

  /** The previous declarations that this cell does not redeclare, printed for the next cell. */
  function remainingDecls(checker: TypeChecker, srcSF: SourceFile, declsSF: SourceFile): string {
    const declLocals = declsSF.locals;
    const locals = srcSF.locals;
    const keepMap = new Map<Node, Set<string>>();
    const addName = (node: Node, name: string) => {
      let set = keepMap.get(node);
      if (!set) keepMap.set(node, (set = new Set()));
      set.add(name);
    };
    const valueNames = new Set<string>();
    const anyVars = new Set<string>();
    declLocals?.forEach((sym, escapedKey) => {
      const key = escapedKey as string;
      const keep = checkKeepDeclType(checker, locals?.get(escapedKey));
      if (!keep.type && !keep.value) return;
      sym.declarations?.forEach((decl) => {
        let node: Node = decl;
        while (node.parent !== declsSF) node = node.parent;
        if (node.kind === ts.SyntaxKind.VariableStatement) {
          if (keep.value) {
            addName(node, key);
            anyVars.delete(key);
            valueNames.add(key);
          }
          return;
        }
        if (ts.isTypeAliasDeclaration(node)) {
          if (keep.type) addName(node, key);
          return;
        }
        if (ts.isClassDeclaration(node) || ts.isEnumDeclaration(node)) {
          if (keep.type) {
            // If !keep.value, forget this class.
            if (keep.value) addName(node, key);
            return;
          }
          const name = node.name?.escapedText as string;
          if (!valueNames.has(name)) anyVars.add(name);
          return;
        }
        if (ts.isImportDeclaration(node)) {
          if (keep.type && keep.value) {
            addName(node, key);
            return;
          }
          const aliased = checker.getAliasedSymbol(sym);
          if (!keep.value) {
            // keep.type: a type import stays unless a new value shadows it.
            if (aliased.flags & ts.SymbolFlags.Value) return;
            // tslab's `&&` here (not `&`) is kept: any non-value alias stays.
            if (aliased.flags && ts.SymbolFlags.Type) addName(node, key);
            return;
          }
          if (aliased.flags & ts.SymbolFlags.Type) {
            // Overwritten with a new type.
            const aliasName = aliased.escapedName as string;
            if (aliased.flags & ts.SymbolFlags.Value && !valueNames.has(aliasName)) {
              anyVars.add(aliasName);
            }
            return;
          }
          addName(node, key);
          return;
        }
        if (ts.isFunctionDeclaration(node)) {
          if (keep.value) addName(node, key);
          return;
        }
        if (ts.isInterfaceDeclaration(node) && keep.type) addName(node, key);
      });
    });
    const statements: Statement[] = [];
    declsSF.statements.forEach((stmt) => {
      const names = keepMap.get(stmt);
      if (!names) return;
      statements.push(stmt);
      if (ts.isVariableStatement(stmt)) {
        const decls = stmt.declarationList.declarations.filter(
          (decl) => ts.isIdentifier(decl.name) && names.has(decl.name.escapedText as string),
        );
        mutable(stmt.declarationList).declarations = factory.createNodeArray(decls);
      }
      if (ts.isImportDeclaration(stmt)) keepNamesInImport(stmt, names);
    });
    mutable(declsSF).statements = factory.createNodeArray(statements);
    const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
    const anyVarsDecls = Array.from(anyVars, (name) => `let ${name}: any;\n`);
    return printer.printFile(declsSF) + anyVarsDecls.join("");
  }

  function checkKeepDeclType(checker: TypeChecker, symb: Symbol_ | undefined) {
    const ret = { value: true, type: true };
    if (!symb) return ret;
    if (symb.flags & ts.SymbolFlags.Alias) symb = checker.getAliasedSymbol(symb);
    if (symb.flags & ts.SymbolFlags.Value) ret.value = false;
    if (symb.flags & ts.SymbolFlags.Type) ret.type = false;
    return ret;
  }

  function updateContent(decls: string, src: string): void {
    declContent = decls;
    srcContent = src;
    notifyUpdateSrc?.(srcFilename, ts.FileWatcherEventKind.Changed);
    notifyUpdateDecls?.(declFilename, ts.FileWatcherEventKind.Changed);
    if (!rebuildTimer) throw new Error("rebuildTimer is not set properly");
    rebuildTimer.callback();
  }

  /**
   * Whether `d` complains about a top-level await, which cells allow (tslab's #16): an await
   * expression (whatever its operand: the diagnostic's span may cover all of `await (x)`) or a
   * `for await` loop. The span starts at the `await` keyword in every case.
   */
  function isTopLevelAwaitDiagnostic(srcFile: SourceFile, d: TsDiagnostic): boolean {
    if (!TOP_LEVEL_AWAIT_CODES.has(d.code)) return false;
    const start = d.start ?? 0;
    const awaitToken = ts.findPrecedingToken(start + "await".length, srcFile);
    if (awaitToken?.getStart(srcFile) !== start) return false;
    if (awaitToken?.kind !== ts.SyntaxKind.AwaitKeyword) return false;
    for (let parent = awaitToken.parent; parent && parent !== srcFile; parent = parent.parent) {
      switch (parent.kind) {
        case ts.SyntaxKind.ArrowFunction:
        case ts.SyntaxKind.FunctionExpression:
        case ts.SyntaxKind.FunctionDeclaration:
        case ts.SyntaxKind.ClassDeclaration:
        case ts.SyntaxKind.ModuleDeclaration:
          return false;
      }
    }
    return true;
  }

  function adjustSrcFileOffset(fileName: string, offset: number): DiagnosticPos {
    const file = current().getSourceFile(fileName) as SourceFile;
    const lineChar = ts.getLineAndCharacterOfPosition(file, offset);
    const pos = { offset, line: lineChar.line, character: lineChar.character };
    if (fileName === srcFilename || virtualFiles.has(fileName)) {
      pos.offset -= srcPrefixOffsets.offset;
      pos.line -= srcPrefixOffsets.line;
      pos.character -= srcPrefixOffsets.char;
    }
    return pos;
  }

  function convertDiagnostics(input: readonly TsDiagnostic[]) {
    let hasToplevelAwait = false;
    const diagnostics: Diagnostic[] = [];
    const srcFile = current().getSourceFile(srcFilename) as SourceFile;
    for (const d of input) {
      if (!d.file) continue;
      if (d.file.fileName === srcFilename && isTopLevelAwaitDiagnostic(srcFile, d)) {
        hasToplevelAwait = true;
        continue;
      }
      let fileName: string | undefined;
      if (d.file.fileName !== srcFilename) {
        const rel = path.relative(cwd, d.file.fileName);
        if (rel.startsWith("..")) continue;
        fileName = rel;
      }
      const start = adjustSrcFileOffset(d.file.fileName, d.start ?? 0);
      const end = adjustSrcFileOffset(d.file.fileName, (d.start ?? 0) + (d.length ?? 0));
      if (typeof d.messageText === "string") {
        diagnostics.push({
          start,
          end,
          messageText: d.messageText,
          category: d.category,
          code: d.code,
          fileName,
        });
      } else {
        traverseDiagnosticMessageChain(start, end, d.messageText, diagnostics, fileName);
      }
    }
    // The checker does not flag every form (a module allows top-level await): look at the syntax.
    return { diagnostics, hasToplevelAwait: hasToplevelAwait || containsTopLevelAwait(srcFile) };
  }

  function traverseDiagnosticMessageChain(
    start: DiagnosticPos,
    end: DiagnosticPos,
    msg: ChainMessage,
    out: Diagnostic[],
    fileName?: string,
  ): void {
    out.push({
      start,
      end,
      messageText: msg.messageText,
      category: msg.category,
      code: msg.code,
      fileName,
    });
    for (const child of msg.next ?? []) traverseDiagnosticMessageChain(start, end, child, out);
  }

  function addModule(name: string, content: string, meta?: { jsx?: boolean }): Diagnostic[] {
    if (!/^\w+$/.test(name)) {
      throw new Error("invalid module name: " + JSON.stringify(name));
    }
    const file = normalizeJoin(cwd, name + (meta?.jsx ? ".tsx" : ".ts"));
    virtualFiles.set(file, srcPrefix + content);
    fileWatchers.get(file)?.(file, ts.FileWatcherEventKind.Changed);
    rootFiles.add(file);
    watch.updateRootFileNames(Array.from(rootFiles));
    if (!rebuildTimer) throw new Error("rebuildTimer is not set properly");
    // The builder is updated only if the content changed.
    rebuildTimer.callback();
    const sourceFile = current().getSourceFile(file);
    return convertDiagnostics(ts.getPreEmitDiagnostics(current().getProgram(), sourceFile))
      .diagnostics;
  }
}

/**
 * Whether a cell uses imports, exports, `import()` or `import.meta`: only then must its ES module
 * output go through the CommonJS transform.
 */
function hasModuleSyntax(srcFile: SourceFile): boolean {
  const flags = ts.NodeFlags as unknown as Record<string, number>;
  const dynamic =
    (flags.PossiblyContainsDynamicImport ?? 0) | (flags.PossiblyContainsImportMeta ?? 0);
  if (srcFile.flags & dynamic) return true;
  // The first statement is the `export {}` prefix that makes the cell a module.
  return srcFile.statements
    .slice(1)
    .some(
      (s) =>
        ts.isImportDeclaration(s) ||
        ts.isImportEqualsDeclaration(s) ||
        ts.isExportDeclaration(s) ||
        ts.isExportAssignment(s) ||
        (ts.canHaveModifiers(s) &&
          (ts.getModifiers(s) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)),
    );
}

/**
 * After TypeScript's own transforms: previous cells' names → `exports.<name>`, the cell's awaits
 * through the AWAIT_HOOK, and the last expression statement stored in a variable the executor
 * reads. With `asScript` the module wrapper goes too (`exports.<last> = …`, no `export {}`), so
 * the output runs as it is.
 */
function cellTransformers(
  checker: TypeChecker,
  declsFile: SourceFile,
  cellFilename: string,
  locals: Set<string>,
  asScript: boolean,
  setLastExprName: (name: string) => void,
): CustomTransformers {
  const context = ts.getNullTransformationContext();
  const exportsOf = (name: string) =>
    factory.createPropertyAccessExpression(factory.createIdentifier("exports"), name);
  const isPrevious = (symbol: Symbol_ | undefined) =>
    (symbol?.declarations ?? []).some((d) => d.getSourceFile() === declsFile);

  function wrapPrevIdentifier(node: Node): Node {
    if (ts.isShorthandPropertyAssignment(node)) {
      if (!isPrevious(checker.getShorthandAssignmentValueSymbol(node))) {
        return ts.visitEachChild(node, wrapPrevIdentifier, context);
      }
      // `{ a }` → `{ a: exports.a }`; in a destructuring assignment `{ a = 1 }` → `{ a: exports.a = 1 }`.
      const initializer = node.objectAssignmentInitializer
        ? factory.createAssignment(
            exportsOf(node.name.text),
            ts.visitNode(node.objectAssignmentInitializer, wrapPrevIdentifier) as never,
          )
        : exportsOf(node.name.text);
      return factory.createPropertyAssignment(node.name.text, initializer);
    }
    if (!ts.isIdentifier(node)) return ts.visitEachChild(node, wrapPrevIdentifier, context);
    if (isPropertyName(node) || !isPrevious(checker.getSymbolAtLocation(node))) return node;
    return exportsOf(node.text);
  }

  // Only the cell's own awaits: modules in the notebook folder are ordinary code.
  function hookAwaits(node: Node): Node {
    const visited = ts.visitEachChild(node, hookAwaits, context);
    if (!ts.isAwaitExpression(visited)) return visited;
    const hooked = factory.createCallExpression(exportsOf(AWAIT_HOOK), undefined, [
      visited.expression,
    ]);
    return factory.updateAwaitExpression(visited, hooked);
  }

  function lastExpressionName(): string {
    if (!locals.has(LAST_EXPRESSION)) return LAST_EXPRESSION;
    for (let i = 0; ; i++)
      if (!locals.has(`${LAST_EXPRESSION}${i}`)) return `${LAST_EXPRESSION}${i}`;
  }

  const after = () => (file: SourceFile) => {
    file = ts.visitEachChild(file, wrapPrevIdentifier, context);
    if (file.fileName === cellFilename) file = ts.visitEachChild(file, hookAwaits, context);
    let statements = Array.from(file.statements);
    for (let i = statements.length - 1; i >= 0; i--) {
      const stmt = statements[i];
      if (ts.isExportDeclaration(stmt)) continue;
      if (!ts.isExpressionStatement(stmt)) break;
      const name = lastExpressionName();
      const store = asScript
        ? factory.createExpressionStatement(
            factory.createAssignment(exportsOf(name), stmt.expression),
          )
        : factory.createVariableStatement(
            [factory.createModifier(ts.SyntaxKind.ExportKeyword)],
            factory.createVariableDeclarationList(
              [factory.createVariableDeclaration(name, undefined, undefined, stmt.expression)],
              ts.NodeFlags.Const,
            ),
          );
      statements[i] = store;
      setLastExprName(name);
      break;
    }
    if (asScript) statements = statements.filter((s) => !ts.isExportDeclaration(s));
    mutable(file).statements = factory.createNodeArray(statements);
    return file;
  };
  // The declaration output must not carry the `export { … }` of every local.
  const afterDeclarations = () => (file: SourceFile) => {
    mutable(file).statements = factory.createNodeArray(
      file.statements.filter((s) => !ts.isExportDeclaration(s)),
    );
    return file;
  };
  return {
    after: [after],
    afterDeclarations: [afterDeclarations],
  } as unknown as CustomTransformers;
}

/**
 * An identifier that names a property rather than referring to a variable: `o.a`, `{ a: 1 }`,
 * `const { a: b } = o`, class and enum members, JSX attributes. Its symbol may be declared by an
 * earlier cell's type, but it must stay as written.
 */
function isPropertyName(node: Identifier): boolean {
  const parent = node.parent as Node | undefined;
  if (!parent) return false;
  if (ts.isPropertyAccessExpression(parent)) return parent.name === node;
  if (ts.isBindingElement(parent)) return parent.propertyName === node;
  if (
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent) ||
    ts.isMethodDeclaration(parent) ||
    ts.isGetAccessorDeclaration(parent) ||
    ts.isSetAccessorDeclaration(parent) ||
    ts.isEnumMember(parent) ||
    ts.isJsxAttribute(parent)
  ) {
    return parent.name === node;
  }
  return false;
}

/** ES module output → CommonJS, for cells with imports or exports and for side modules. */
function esModuleToCommonJSModule(js: string): string {
  return ts.transpileModule(js, {
    fileName: "custom.js",
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      esModuleInterop: true,
      target: ts.ScriptTarget.ES2022,
      newLine: ts.NewLineKind.LineFeed,
      noImplicitUseStrict: true,
    },
  }).outputText;
}

/** Keeps only `names` in an import of the previous declarations. */
function keepNamesInImport(
  im: import("@tslab/typescript-for-tslab").ImportDeclaration,
  names: Set<string>,
): void {
  const imc = mutable(im.importClause!);
  if (imc.name && !names.has(imc.name.escapedText as string))
    delete (imc as { name?: unknown }).name;
  const bindings = imc.namedBindings;
  if (bindings) {
    if (ts.isNamespaceImport(bindings)) {
      if (!names.has(bindings.name.escapedText as string)) {
        delete (imc as { namedBindings?: unknown }).namedBindings;
      }
    } else {
      const elms = bindings.elements.filter((e) => names.has(e.name.escapedText as string));
      if (elms.length) mutable(bindings).elements = factory.createNodeArray(elms);
      else delete (imc as { namedBindings?: unknown }).namedBindings;
    }
  }
  if (!imc.name && !imc.namedBindings) throw new Error("no symbol is included in names");
}

/** `node_modules/tslab/...` under cwd reads tslab's own files (import "tslab" anywhere). */
function forwardTslabPath(cwd: string, file: string): string {
  const rel = path.relative(normalizeJoin(cwd, "node_modules", "tslab"), file);
  if (rel.startsWith("..")) return file;
  return normalizeJoin(path.dirname(require.resolve("tslab/package.json")), rel);
}

function getPreEmitDiagnosticsWithDependencies(builder: Builder, sourceFile: SourceFile) {
  const files = [sourceFile];
  for (const dep of getAllSrcDependencies(builder, sourceFile)) {
    if (dep !== sourceFile.fileName) files.push(builder.getSourceFile(dep) as SourceFile);
  }
  return ts.getPreEmitDiagnosticsOfFiles(builder.getProgram(), files);
}

/** The .ts and .js files `sourceFile` depends on, itself included. */
function getAllSrcDependencies(builder: Builder, sourceFile: SourceFile): string[] {
  return builder
    .getAllDependencies(sourceFile)
    .filter((dep) => dep.endsWith(".js") || (dep.endsWith(".ts") && !dep.endsWith(".d.ts")));
}
