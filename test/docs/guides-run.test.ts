// Every guide in docs/guides/ runs as written, top to bottom, against a fresh server: each curl
// command is sent (guide-runner.ts), answers 2xx or the status and error code the guide writes
// under it, and the ids a guide keeps are the ones later commands use. Each guide starts from an
// empty organization, so a guide cannot lean on what another one created.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from '../support/api.ts';
import { applyFilter, curlRequest, GuideRun, printfBytes, runGuide, stepsOf } from './guide-runner.ts';
import { statements } from './shell.ts';

const GUIDES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/guides');
const guideFiles = readdirSync(GUIDES_DIR).filter((f) => f.endsWith('.md')).sort();
const fence = (code: string) => ['Text.', '```sh', code, '```', ''].join('\n');

let api: Harness;
let env: Record<string, string>;
before(async () => {
  api = await startHarness();
  env = { PAYGEN_URL: api.baseUrl, PAYGEN_API_KEY: api.apiKey };
});
after(async () => { await api.checkLedger(); await api.close(); });

describe('the guide runner', () => {
  test('reads statements over continuations, quotes and $( … ), and expectations under them', () => {
    const code = [
      'ID=$(curl -s -X POST $PAYGEN_URL/accounts \\',
      "  -d '{",
      '    "name": "x # not a comment"',
      "  }' | jq -r .data.id)   # a trailing comment",
      '# → 422 validation_failed',
      'echo $ID',
      'curl $PAYGEN_URL/x',
      '# not run: needs a receiver',
    ].join('\n');
    assert.deepEqual(statements(code).map((s) => s.line), [0, 4, 5, 6, 7]);
    const steps = stepsOf(fence(code), 'g.md');
    assert.deepEqual(steps.map((s) => s.where), ['g.md:3', 'g.md:8', 'g.md:9']);
    assert.ok(steps[0].text.endsWith('jq -r .data.id)'));
    assert.deepEqual(steps[0].expect, { status: 422, code: 'validation_failed' });
    assert.equal(steps[2].notRun, 'needs a receiver');
  });

  test('evaluates simple jq paths and printf escapes as jq and printf do', () => {
    const body = { data: { id: 'acc_1', documents: [{ id: 'doc_1' }], n: 5 } };
    assert.equal(applyFilter(body, '.data.id'), 'acc_1');
    assert.equal(applyFilter(body, '.data.documents[0].id'), 'doc_1');
    assert.equal(applyFilter(body, '.data.missing.id'), null);
    assert.throws(() => applyFilter(body, '.data[] | .id'), /simple path/);
    assert.deepEqual([...printfBytes('\\211PNG\\r\\n\\032\\n')], [0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]);
    assert.equal(printfBytes('%%PDF-1.4\\n').toString(), '%PDF-1.4\n');
  });

  test('keeps ids, sends -X, headers, JSON and multipart files, and expands variables', async () => {
    const guide = fence([
      "printf '\\211PNG\\r\\n\\032\\n' > front.png",
      'HOLDER_ID=$(curl -s -X POST $PAYGEN_URL/card-holders -H "x-api-key: $PAYGEN_API_KEY" \\',
      '  -F "firstName=Ada" -F "lastName=Lovelace" -F "idDocumentFront=@front.png" | jq -r .data.id)',
      'DOCUMENT_ID=$(curl -s $PAYGEN_URL/card-holders/$HOLDER_ID -H "x-api-key: $PAYGEN_API_KEY" \\',
      "  | jq -r '.data.documents[0].id')",
      'curl -s -X PATCH $PAYGEN_URL/card-holders/$HOLDER_ID -H "x-api-key: $PAYGEN_API_KEY" \\',
      '  -H "Content-Type: application/json" -d \'{"city": "\'$DOCUMENT_ID\'"}\' | jq .data.city',
    ].join('\n'));
    const report = await runGuide(guide, 'g.md', env);
    assert.equal(report.sent, 3);
    const holder = await api.request('GET', `/card-holders/${report.variables.HOLDER_ID}`);
    assert.equal(holder.body.data.documents[0].contentType, 'image/png');
    assert.equal(holder.body.data.city, report.variables.DOCUMENT_ID);
  });

  test('fails on an unexpected error, a wrong expected code, an unset variable or another convention', async () => {
    const key = '-H "x-api-key: $PAYGEN_API_KEY"';
    const post = `curl -X POST $PAYGEN_URL/accounts ${key} -H "Content-Type: application/json" -d '{"name": ""}'`;
    const fails = (code: string, error: RegExp) => assert.rejects(runGuide(fence(code), 'g.md', env), error);
    await fails(post, /g\.md:3: POST .* answered 422 validation_failed, not 2xx/);
    await fails(`${post}\n# → 422 insufficient_funds`, /the guide says 422 insufficient_funds/);
    await fails(`${post}\n# → 422 no_such_code`, /not in ERROR_CODES/);
    await runGuide(fence(`${post}\n# → 422 validation_failed`), 'g.md', env);
    await fails(`curl $PAYGEN_URL/accounts/$ACCOUNT_ID ${key}`, /\$ACCOUNT_ID is not set/);
    await fails('echo $ACCOUNT_ID', /\$ACCOUNT_ID is not set/);
    await fails(`X=$(curl -s $PAYGEN_URL/accounts ${key})`, /one convention/);
    await fails(`X=$(curl -s $PAYGEN_URL/accounts ${key} | jq -r .data.nothing)`, /is empty/);
    await fails(`curl --json '{}' $PAYGEN_URL/accounts ${key}`, /option --json is not one the runner knows/);
    await fails('echo hello\n# → 404 not_found', /belongs under a curl command/);
    assert.throws(() => stepsOf(fence(`${post}\n\n# just a note\n# → 422 validation_failed`), 'g.md'), /under no command/);
    assert.throws(() => stepsOf(`${fence(post)}${fence('# → 422 validation_failed')}`, 'g.md'), /under no command/);
    const run = new GuideRun(env);
    await run.run({ where: 'g.md:1', text: 'curl -X POST $PAYGEN_URL/nowhere', notRun: 'needs a receiver' });
    assert.deepEqual([run.sent, run.notRun], [0, ['g.md:1: needs a receiver']]);
  });

  test('sends the bytes of --data-binary @file and -d @file', () => {
    const files = new Map([['body.json', Buffer.from('{"amount": 5}')]]);
    for (const option of ['--data-binary', '-d']) {
      const request = curlRequest(['curl', option, '@body.json', 'http://x/y'], files);
      assert.deepEqual([request.method, String(request.body)], ['POST', '{"amount": 5}']);
    }
    assert.equal(curlRequest(['curl', '--data-raw', '@body.json', 'http://x/y'], files).body, '@body.json');
    assert.throws(() => curlRequest(['curl', '--data-binary', '@missing.bin', 'http://x/y'], files), /never made/);
  });
});

// One app for the file, and a new organization for each: it starts as a reader's fresh
// sandbox does (default card programs, no accounts, cards or holders), at a fraction of the cost
// of booting a database per guide.
describe('every guide runs as written against a fresh organization', () => {
  for (const file of guideFiles) {
    test(file, async () => {
      const { apiKey } = await api.otherOrganization();
      const markdown = readFileSync(join(GUIDES_DIR, file), 'utf8');
      const report = await runGuide(markdown, file, { PAYGEN_URL: api.baseUrl, PAYGEN_API_KEY: apiKey });
      if (file !== 'README.md') assert.ok(report.sent > 0, `${file} sent no request`);
    });
  }

  test('the quickstart of the repository README', async () => {
    const { apiKey } = await api.otherOrganization();
    const markdown = readFileSync(join(GUIDES_DIR, '../../README.md'), 'utf8');
    const report = await runGuide(markdown, 'README.md', { PAYGEN_URL: api.baseUrl, PAYGEN_API_KEY: apiKey });
    assert.equal(report.sent, 3);
    const card = await api.request('GET', `/cards?accountId=${report.variables.ACCOUNT_ID}`, { key: apiKey });
    assert.equal(card.body.data[0]?.cardHolderId, report.variables.CARD_HOLDER_ID);
  });
});
