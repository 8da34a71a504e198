// The longer fuzz run, on PostgreSQL (`npm run test:pg`): the same suite as
// test/fuzz/openapi-fuzz.test.ts with more requests per operation.
import { fuzzOpenApi } from '../fuzz/openapi-fuzz.ts';

fuzzOpenApi({ numRuns: 50 });
