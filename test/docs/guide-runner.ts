// Runs a guide the way a reader does: every shell block from top to bottom, with $PAYGEN_URL and
// $PAYGEN_API_KEY set. Each curl command is sent with fetch, and must answer 2xx unless the line
// right under it says otherwise (the conventions are in docs/guides/README.md):
//
//   # → 422 insufficient_funds      the expected status and error code
//   # not run: <reason>             not sent (it needs a receiver or a background worker)
//
// Ids travel as a reader's shell carries them: `NAME=$(curl … | jq -r .data.id)`, whose simple
// path filter is evaluated here, so neither curl nor jq is needed. Other commands (npm start, echo,
// node -e …) are the reader's business and are skipped; printf into a file makes the file.
import { basename } from 'node:path';
import { ERROR_CODES } from '../../src/platform/errors.ts';
import { pipeline, shellWords, statements } from './shell.ts';

/** Variables the runner provides itself: a guide's own `export` of them is for the reader. */
const PROVIDED = new Set(['PAYGEN_URL', 'PAYGEN_API_KEY']);
/** How much of an unexpected answer goes into the failure message. */
const ANSWER_EXCERPT_CHARS = 600;
const EXPECTATION = /^#\s*→\s*(\d{3})(?:\s+([a-z][a-z0-9_]*))?\s*$/;
const NOT_RUN = /^#\s*not run:\s*(\S.*)$/;
const CAPTURE = /^([A-Za-z_]\w*)=\$\(([\s\S]*)\)$/;
const SIMPLE_FILTER = /^(\.[A-Za-z_]\w*|\[\d+\])+$/;
/** curl options that take the next word as their value. */
const VALUE_OPTIONS = new Set([
  '-X', '--request', '-H', '--header', '-d', '--data', '--data-raw', '--data-binary', '-F', '--form',
  '-o', '--output', '--url',
]);
/** curl options that change only what the reader sees (progress, headers shown, saving to a file). */
const DISPLAY_OPTIONS = /^-[siOJLv]+$|^--(silent|include|fail|show-error|remote-name|remote-header-name)$/;

export interface Step {
  where: string;
  text: string;
  expect?: { status: number; code?: string };
  notRun?: string;
}

export interface RunReport {
  sent: number;
  notRun: string[];
  variables: Record<string, string>;
}

interface Answer {
  status: number;
  text: string;
  body: unknown;
}

/** The statements of every shell block of a guide, each with the expectation written under it. */
export function stepsOf(markdown: string, file: string): Step[] {
  const steps: Step[] = [];
  for (const block of markdown.matchAll(/^```([\w-]*)[^\n]*\n([\s\S]*?)^```/gm)) {
    if (!['sh', 'bash', 'shell'].includes(block[1])) continue;
    const codeLine = markdown.slice(0, block.index).split('\n').length + 1;
    let previous: Step | undefined; // the statement just above, in this block only
    for (const statement of statements(block[2])) {
      const where = `${file}:${codeLine + statement.line}`;
      const expectation = EXPECTATION.exec(statement.text);
      const notRun = NOT_RUN.exec(statement.text);
      if ((expectation || notRun) && !previous) throw new Error(`${where}: "${statement.text}" is under no command`);
      if (expectation && previous) previous.expect = { status: Number(expectation[1]), code: expectation[2] };
      else if (notRun && previous) previous.notRun = notRun[1];
      else if (!statement.text.startsWith('#')) steps.push((previous = { where, text: statement.text }));
      else previous = undefined;
    }
  }
  return steps;
}

/** `.data.documents[0].id` applied to a parsed answer, as `jq` would (a missing key is null). */
export function applyFilter(value: unknown, filter: string): unknown {
  if (!SIMPLE_FILTER.test(filter)) throw new Error(`the jq filter ${filter} is not a simple path like .data.id`);
  let current = value;
  for (const [, key, index] of filter.matchAll(/\.([A-Za-z_]\w*)|\[(\d+)\]/g)) {
    if (current === null || current === undefined) return null;
    current = key !== undefined ? (current as Record<string, unknown>)[key] : (current as unknown[])[Number(index)];
  }
  return current ?? null;
}

/** jq's output for a value: raw strings with -r, JSON otherwise. */
function jqOutput(value: unknown, raw: boolean): string {
  return raw && typeof value === 'string' ? value : JSON.stringify(value);
}

/** printf's escapes: \NNN (octal), \n, \r, \t, \\ and %%; the guides pass no arguments. */
export function printfBytes(format: string): Buffer {
  const bytes: number[] = [];
  const escapes: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92 };
  for (let i = 0; i < format.length; i++) {
    const octal = format[i] === '\\' ? /^[0-7]{1,3}/.exec(format.slice(i + 1)) : null;
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += octal[0].length;
    } else if (format[i] === '\\' && format[i + 1] in escapes) {
      bytes.push(escapes[format[++i]]);
    } else if (format[i] === '%' && format[i + 1] === '%') {
      bytes.push(37);
      i++;
    } else {
      bytes.push(...Buffer.from(format[i]));
    }
  }
  return Buffer.from(bytes);
}

interface Request {
  method: string;
  url: string;
  headers: Headers;
  body?: string | Buffer | FormData;
}

/** `name=value` or `name=@file[;type=…]` of curl -F. */
function addFormField(form: FormData, field: string, files: Map<string, Buffer>) {
  const equals = field.indexOf('=');
  const name = field.slice(0, equals);
  const value = field.slice(equals + 1);
  if (!value.startsWith('@')) return form.append(name, value);
  const [path, ...options] = value.slice(1).split(';');
  const type = options.find((o) => o.startsWith('type='))?.slice('type='.length);
  const content = files.get(path);
  if (!content) throw new Error(`the file ${path} was never made in this guide`);
  form.append(name, new Blob([new Uint8Array(content)], type ? { type } : {}), basename(path));
}

/** A body of -d or --data-binary: the text, or the bytes of an `@file`. */
function dataValue(value: string, files: Map<string, Buffer>): string | Buffer {
  if (!value.startsWith('@')) return value;
  const content = files.get(value.slice(1));
  if (!content) throw new Error(`the file ${value.slice(1)} was never made in this guide`);
  return content;
}

/** The request a curl command line sends (the options the guides use). */
export function curlRequest(words: string[], files: Map<string, Buffer>): Request {
  const request: Request = { method: '', url: '', headers: new Headers() };
  let form: FormData | undefined;
  for (let i = 1; i < words.length; i++) {
    const word = words[i];
    const value = VALUE_OPTIONS.has(word) ? words[++i] ?? '' : '';
    if (word === '-X' || word === '--request') request.method = value.toUpperCase();
    else if (word === '-H' || word === '--header') {
      const colon = value.indexOf(':');
      request.headers.append(value.slice(0, colon).trim(), value.slice(colon + 1).trim());
    } else if (word === '--data-raw') request.body = value;
    else if (word === '-d' || word === '--data' || word === '--data-binary') request.body = dataValue(value, files);
    else if (word === '-F' || word === '--form') addFormField((form ??= new FormData()), value, files);
    else if (word === '--url') request.url = value;
    else if (!word.startsWith('-') && !request.url) request.url = word;
    else if (word.startsWith('-') && !DISPLAY_OPTIONS.test(word)) {
      throw new Error(`the curl option ${word} is not one the runner knows`);
    }
  }
  if (form) request.body = form;
  request.method ||= request.body === undefined ? 'GET' : 'POST';
  return request;
}

async function send(request: Request): Promise<Answer> {
  const { method, headers } = request;
  const response = await fetch(request.url, { method, headers, body: request.body as BodyInit });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a downloaded document, an HTML page): keep the text.
  }
  return { status: response.status, text, body };
}

/** Checks an answer against the guide's expectation: 2xx, or the status and code written under it. */
function checkAnswer(step: Step, request: Request, answer: Answer) {
  const code = (answer.body as { error?: { code?: string } } | null)?.error?.code;
  const said = `${step.where}: ${request.method} ${request.url} answered ${answer.status}${code ? ` ${code}` : ''}`;
  const excerpt = answer.text.slice(0, ANSWER_EXCERPT_CHARS);
  if (!step.expect) {
    if (answer.status < 200 || answer.status > 299) throw new Error(`${said}, not 2xx: ${excerpt}`);
    return;
  }
  if (step.expect.code && !(step.expect.code in ERROR_CODES)) {
    throw new Error(`${step.where}: the guide expects ${step.expect.code}, which is not in ERROR_CODES`);
  }
  if (answer.status !== step.expect.status || (step.expect.code && code !== step.expect.code)) {
    throw new Error(`${said}; the guide says ${step.expect.status} ${step.expect.code ?? ''}: ${excerpt}`);
  }
}

export class GuideRun {
  readonly variables: Record<string, string>;
  readonly files = new Map<string, Buffer>();
  sent = 0;
  readonly notRun: string[] = [];

  constructor(variables: Record<string, string>) {
    this.variables = { ...variables };
  }

  /** Runs one statement; throws, naming the guide's line, when it does not run as written. */
  async run(step: Step): Promise<void> {
    try {
      await this.dispatch(step);
    } catch (error) {
      const message = (error as Error).message;
      const where = message.startsWith(step.where) ? message : `${step.where}: ${message}\n  ${step.text}`;
      throw new Error(where, { cause: error });
    }
  }

  private async dispatch(step: Step) {
    const capture = CAPTURE.exec(step.text);
    if (capture) return this.capture(step, capture[1], capture[2].trim());
    const [command] = pipeline(step.text);
    if (/^curl\s/.test(command)) return this.curl(step, command);
    if (step.expect || step.notRun) throw new Error('an expectation (# → … or # not run: …) belongs under a curl command');
    if (/(^|[\s(|])curl\s/.test(step.text)) throw new Error('a curl command in a form the runner does not read');
    if (/^printf\s/.test(step.text)) return this.printf(step.text);
    this.assign(step.text);
  }

  private async curl(step: Step, command: string): Promise<Answer | undefined> {
    if (step.notRun) {
      this.notRun.push(`${step.where}: ${step.notRun}`);
      return undefined;
    }
    const request = curlRequest(shellWords(command, this.variables), this.files);
    const answer = await send(request);
    this.sent++;
    checkAnswer(step, request, answer);
    return answer;
  }

  /** NAME=$(curl … | jq [-r] .path): the one way a guide keeps a value for later commands. */
  private async capture(step: Step, name: string, inner: string) {
    const [command, filter, ...rest] = pipeline(inner);
    const jq = filter === undefined ? [] : shellWords(filter);
    const raw = jq[1] === '-r';
    if (!/^curl\s/.test(command) || jq[0] !== 'jq' || rest.length || jq.length !== (raw ? 3 : 2)) {
      throw new Error(`keep values with ${name}=$(curl … | jq -r .path), the guides' one convention`);
    }
    if (step.notRun) throw new Error('a command whose output a later command needs must run');
    const answer = await this.curl(step, command);
    const value = applyFilter(answer?.body, jq.at(-1) as string);
    if (value === null || value === '') {
      throw new Error(`${jq.at(-1)} of the answer is empty, so $${name} would be "${jqOutput(value, raw)}"`);
    }
    this.variables[name] = jqOutput(value, raw);
  }

  private printf(text: string) {
    const redirect = /\s>\s*(\S+)$/.exec(text);
    const [, format] = shellWords(text, this.variables);
    if (!redirect || format === undefined) throw new Error('printf is only read as printf FORMAT > FILE');
    this.files.set(redirect[1], printfBytes(format));
  }

  /**
   * `NAME=value` and `export NAME=value`. Any other command is the reader's, not an API call: it
   * is not run, but the variables it uses must be set (an `echo $ACCOUNT_ID` of nothing is a bug).
   */
  private assign(text: string) {
    const words = shellWords(text.replace(/^export\s+/, ''));
    if (!words.length || !words.every((word) => /^[A-Za-z_]\w*=/.test(word))) {
      shellWords(text, this.variables);
      return;
    }
    for (const word of shellWords(text.replace(/^export\s+/, ''), this.variables)) {
      const name = word.slice(0, word.indexOf('='));
      if (!PROVIDED.has(name)) this.variables[name] = word.slice(name.length + 1);
    }
  }
}

/** Runs every step of a guide in order; throws at the first one that does not run as written. */
export async function runGuide(
  markdown: string, file: string, variables: Record<string, string>,
): Promise<RunReport> {
  const run = new GuideRun(variables);
  for (const step of stepsOf(markdown, file)) await run.run(step);
  return { sent: run.sent, notRun: run.notRun, variables: run.variables };
}
