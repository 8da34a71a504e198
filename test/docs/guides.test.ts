// The guides in docs/guides/ must not drift from the API: every curl command in them names a
// route of the served OpenAPI document (method and path), uses $PAYGEN_URL, sends a credential
// where the route needs one, and sends only JSON fields the route accepts. The index links every
// guide, every relative link resolves, and every error code a guide cites is in the catalogue.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ERROR_CODES } from '../../src/platform/errors.ts';
import { startHarness, type Harness } from '../support/api.ts';
import { shellWords } from './shell.ts';

const GUIDES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/guides');
const INDEX = 'README.md';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** curl options that take a value (the next word); every other option stands alone. */
const OPTIONS_WITH_VALUE = new Set([
  '-X', '--request', '-H', '--header', '-d', '--data', '--data-raw', '--data-binary', '--data-urlencode', '--json',
  '-F', '--form', '-o', '--output', '-w', '--write-out', '-m', '--max-time', '-u', '--user', '-A', '--user-agent',
  '-e', '--referer', '-b', '--cookie', '-c', '--cookie-jar', '-T', '--upload-file', '--url', '--connect-timeout',
]);
const DATA_OPTIONS = new Set(['-d', '--data', '--data-raw', '--data-binary', '--data-urlencode', '--json']);

interface Curl {
  where: string;
  method: string;
  url: string;
  headers: string[];
  data: string[];
}

function parseCurl(words: string[], where: string): Curl {
  const curl: Curl = { where, method: '', url: '', headers: [], data: [] };
  let explicitMethod = '';
  let hasBody = false;
  for (let i = 1; i < words.length; i++) {
    const word = words[i];
    if (OPTIONS_WITH_VALUE.has(word)) {
      const value = words[++i] ?? '';
      if (word === '-X' || word === '--request') explicitMethod = value.toUpperCase();
      else if (word === '-H' || word === '--header') curl.headers.push(value);
      else if (DATA_OPTIONS.has(word)) { curl.data.push(value); hasBody = true; }
      else if (word === '-F' || word === '--form' || word === '-T' || word === '--upload-file') hasBody = true;
      else if (word === '--url') curl.url = value;
    } else if (!word.startsWith('-') && !curl.url) {
      curl.url = word;
    }
  }
  curl.method = explicitMethod || (hasBody ? 'POST' : 'GET');
  return curl;
}

/** Every curl command in the fenced code blocks of a markdown file (JSON and HTTP samples aside). */
export function curlsOf(markdown: string, file: string): Curl[] {
  const curls: Curl[] = [];
  for (const block of markdown.matchAll(/^```([\w-]*)[^\n]*\n([\s\S]*?)^```/gm)) {
    if (['json', 'http', 'text'].includes(block[1])) continue;
    const code = block[2];
    const codeLine = markdown.slice(0, block.index).split('\n').length + 1;
    for (const match of code.matchAll(/(^|[\s(])curl\s/g)) {
      const start = match.index + match[1].length;
      const line = codeLine + code.slice(0, start).split('\n').length - 1;
      curls.push(parseCurl(shellWords(code.slice(start)), `${file}:${line}`));
    }
  }
  return curls;
}

/** /accounts/$ACCOUNT_ID/entries?limit=2 → /accounts/{}/entries */
export function normalizePath(path: string): string {
  return path.split('?')[0].split('/')
    .map((segment) => (/^(\$\{?\w+\}?|:\w+|\{\w+\}|<[^>]+>)$/.test(segment) ? '{}' : segment))
    .join('/');
}

/** Error codes a guide cites: "422 `code`", "| 422 | `code` |", and the first column of a "| code |" table. */
export function citedErrorCodes(markdown: string): string[] {
  const codes = new Set<string>();
  for (const match of markdown.matchAll(/\b[45]\d\d\s*\|?\s*`([a-z][a-z0-9_]*)`/g)) codes.add(match[1]);
  let inCodeTable = false;
  for (const line of markdown.split('\n')) {
    if (/^\|\s*code\s*\|/.test(line)) inCodeTable = true;
    else if (!line.startsWith('|')) inCodeTable = false;
    else if (inCodeTable) {
      const match = /^\|\s*`([a-z][a-z0-9_]*)`\s*\|/.exec(line);
      if (match) codes.add(match[1]);
    }
  }
  return [...codes];
}

interface Operation {
  security?: unknown[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown>; required?: string[] } }> };
}

let api: Harness;
let operations: Map<string, Operation>;
const guideFiles = existsSync(GUIDES_DIR) ? readdirSync(GUIDES_DIR).filter((f) => f.endsWith('.md')).sort() : [];
const read = (file: string) => readFileSync(join(GUIDES_DIR, file), 'utf8');

before(async () => {
  api = await startHarness();
  const doc = await api.request('GET', '/openapi.json');
  assert.equal(doc.status, 200, doc.text);
  operations = new Map();
  for (const [path, item] of Object.entries(doc.body.paths as Record<string, Record<string, Operation>>)) {
    for (const method of METHODS) if (item[method]) operations.set(`${method.toUpperCase()} ${normalizePath(path)}`, item[method]);
  }
});
after(async () => { await api.checkLedger(); await api.close(); });

test('the extractor reads methods, paths, headers and bodies the way the shell does', () => {
  const markdown = [
    '```sh',
    'ACCOUNT_ID=$(curl -s -X POST $PAYGEN_URL/accounts \\',
    '  -H "x-api-key: $PAYGEN_API_KEY" -H "Content-Type: application/json" \\',
    `  -d '{"name": "Ops", "id": "'$ACCOUNT_ID'"}' | jq -r .data.id)`,
    'curl "$PAYGEN_URL/accounts/$ACCOUNT_ID/entries?limit=2" -H "x-api-key: $PAYGEN_API_KEY"',
    'curl -F "firstName=Jane" $PAYGEN_URL/card-holders',
    'curl -X PATCH $PAYGEN_URL/accounts/$ACCOUNT_ID \\',
    '  -H "Content-Type: application/json" \\',
    "  -d '{",
    '    "status": "frozen"',
    "  }'",
    '```',
    '```json',
    'curl -X DELETE $PAYGEN_URL/nowhere',
    '```',
  ].join('\n');
  const curls = curlsOf(markdown, 'sample.md');
  assert.deepEqual(curls.map((c) => [c.method, normalizePath(c.url.replace(/^\$PAYGEN_URL/, ''))]), [
    ['POST', '/accounts'], ['GET', '/accounts/{}/entries'], ['POST', '/card-holders'], ['PATCH', '/accounts/{}'],
  ]);
  assert.deepEqual(JSON.parse(curls[3].data[0]), { status: 'frozen' });
  assert.deepEqual(curls.map((c) => c.where), ['sample.md:2', 'sample.md:5', 'sample.md:6', 'sample.md:7']);
  assert.deepEqual(JSON.parse(curls[0].data[0]), { name: 'Ops', id: '$ACCOUNT_ID' });
  assert.deepEqual(curls[0].headers, ['x-api-key: $PAYGEN_API_KEY', 'Content-Type: application/json']);
});

test('the guides exist and the index links every guide', () => {
  for (const required of [INDEX, 'quickstart.md', 'authentication.md', 'accounts-and-funding.md', 'card-issuance.md']) {
    assert.ok(guideFiles.includes(required), `docs/guides/${required} is missing`);
  }
  const index = read(INDEX);
  for (const file of guideFiles.filter((f) => f !== INDEX)) {
    assert.ok(index.includes(`(${file})`) || index.includes(`(./${file})`), `${INDEX} does not link ${file}`);
  }
});

test('every relative link in the guides points at an existing file', () => {
  for (const file of guideFiles) {
    for (const [, target] of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const path = resolve(GUIDES_DIR, target.split('#')[0]);
      assert.ok(existsSync(path), `${file} links ${target}, which does not exist`);
    }
  }
});

test('every curl command in the guides is a route of the API, called the way the route expects', () => {
  let count = 0;
  for (const file of guideFiles) {
    const curls = curlsOf(read(file), file);
    if (file !== INDEX) assert.ok(curls.length > 0, `${file} has no curl example`);
    for (const curl of curls) {
      count++;
      const base = /^\$\{?PAYGEN_URL\}?(\/.*)$/.exec(curl.url);
      assert.ok(base, `${curl.where}: the URL "${curl.url}" must start with $PAYGEN_URL`);
      const route = `${curl.method} ${normalizePath(base[1])}`;
      const operation = operations.get(route);
      assert.ok(operation, `${curl.where}: ${route} is not a route of the API (${curl.method} ${base[1]})`);

      const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
      const credential = curl.headers.some((h) => /^(x-api-key|authorization):\s*\S/i.test(h));
      if (!isPublic) assert.ok(credential, `${curl.where}: ${route} needs x-api-key or Authorization: Bearer`);

      const json = curl.headers.some((h) => /^content-type:\s*application\/json/i.test(h));
      if (curl.data.length) assert.ok(json, `${curl.where}: a -d body needs -H "Content-Type: application/json"`);
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      for (const body of json ? curl.data : []) {
        let parsed: Record<string, unknown>;
        try {
          // A shell variable spliced in as a number ("amount": '$BALANCE') stands for a number.
          parsed = JSON.parse(body.replace(/(:\s*)\$\{?\w+\}?/g, '$11'));
        } catch {
          assert.fail(`${curl.where}: the JSON body of ${route} does not parse: ${body}`);
        }
        if (!schema?.properties) continue;
        for (const field of Object.keys(parsed)) {
          assert.ok(field in schema.properties, `${curl.where}: ${route} does not accept the field "${field}"`);
        }
        for (const field of schema.required ?? []) {
          assert.ok(field in parsed, `${curl.where}: ${route} requires the field "${field}"`);
        }
      }
    }
  }
  assert.ok(count >= 30, `only ${count} curl commands found in the guides`);
});

test('every error code the guides cite is one the API documents', () => {
  const sample = '| 422 | `insufficient_funds` | x |\n422 `weak_pin`\n\n| code | why |\n| --- | --- |\n| `program_inactive` | x |\n';
  assert.deepEqual(citedErrorCodes(sample).sort(), ['insufficient_funds', 'program_inactive', 'weak_pin']);
  let count = 0;
  for (const file of guideFiles) {
    for (const code of citedErrorCodes(read(file))) {
      count++;
      assert.ok(code in ERROR_CODES, `${file} cites the error code ${code}, which is not in ERROR_CODES (src/platform/errors.ts)`);
    }
  }
  assert.ok(count >= 20, `only ${count} error codes cited in the guides`);
});
