/** The durable queue and its worker. */
export { JobQueue, type Job, type NewJob, type EnqueueResult, type QueueOptions } from "./queue.js";
export { Worker, LeaseLostError, type JobHandler, type WorkerOptions } from "./worker.js";
export { fairShare, SlotYieldedError } from "./fair-share.js";
