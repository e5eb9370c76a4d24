/** Sources of snapshots outside GitHub: a working tree, a Git revision, a polled remote. */
export { readDirectorySnapshot, readPathSnapshot, SnapshotReadError } from "./local-snapshot.js";
export { isRevision, readRevisionSnapshot } from "./revision-snapshot.js";
export { GitMirror, type CommitInfo } from "./mirror.js";
export { sourcesFromList, sourcesFromYaml, sourceName, SourcesError, type GitSource } from "./sources.js";
export { GitReconciler, GIT_JOB_KIND, type GitWork, type ReconcilerDeps, type SourceState } from "./reconciler.js";
export { runGitWork, type GitWorkDeps } from "./work.js";
