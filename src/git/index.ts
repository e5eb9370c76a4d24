/** Sources of snapshots outside GitHub: a working tree, a Git revision, a polled remote. */
export { readDirectorySnapshot, readPathSnapshot, SnapshotReadError } from "./local-snapshot.js";
export { isRevision, readRevisionSnapshot } from "./revision-snapshot.js";
