// The short fuzz run of `npm test` (PGlite): every operation of /openapi.json, a few dozen
// requests each. The longer run is test/postgres/openapi-fuzz.pg-test.ts; the body and what it
// checks are in openapi-fuzz.ts.
import { fuzzOpenApi } from './openapi-fuzz.ts';

fuzzOpenApi({ numRuns: 20 });
