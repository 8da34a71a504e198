// Every background job of the platform, in one list: the API process runs them when
// PAYGEN_WORKERS=true, and `npm run worker` runs them without the HTTP API. Modules add theirs here.
import type { Job } from './platform/jobs.ts';
import { retentionJob } from './platform/retention.job.ts';
import { deliveryJob } from './modules/webhooks/delivery.job.ts';
import { expiryJob } from './modules/authorizations/expiry.job.ts';

export const JOBS: Job[] = [expiryJob, deliveryJob, retentionJob];
