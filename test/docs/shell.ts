// The small part of the shell that the guides' examples use, read the way sh reads it: words with
// quotes, escapes and continuations; variables; pipes; and the statements of a code block. The
// static guide checks (guides.test.ts) and the guide runner (guide-runner.ts) share it.

const NAME = /^[A-Za-z_]\w*/;

/** Reads `$NAME` or `${NAME}` at command[i] (a `$`); returns the name and where it ends. */
function variableAt(command: string, i: number): { name: string; end: number } | null {
  const braced = command[i + 1] === '{';
  const match = NAME.exec(command.slice(i + (braced ? 2 : 1)));
  if (!match) return null;
  const end = i + (braced ? 2 : 1) + match[0].length;
  if (braced && command[end] !== '}') return null;
  return { name: match[0], end: braced ? end + 1 : end };
}

/**
 * Splits a shell command into words (quotes, escapes, continuations), stopping at an unquoted
 * newline, | ; & ) < or >. With `variables`, `$NAME` and `${NAME}` outside single quotes are
 * replaced by their values, and an unset variable throws, as `set -u` would: a guide that uses a
 * variable it never set does not run as written. Without `variables` they stay as written.
 */
export function shellWords(command: string, variables?: Record<string, string>): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  const expand = (i: number): number => {
    const variable = variables ? variableAt(command, i) : null;
    if (!variable) {
      word += '$';
      return i;
    }
    const value = variables?.[variable.name];
    if (value === undefined) throw new Error(`the variable $${variable.name} is not set`);
    word += value;
    return variable.end - 1;
  };
  for (let i = 0; i < command.length; i++) {
    const ch = command[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1])) word += command[++i];
      else if (ch === '$') i = expand(i);
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && command[i + 1] === '\n') {
      i++; // a line continuation
    } else if (ch === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(ch) || '|;&)<>'.includes(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      if (ch === '\n' || !/\s/.test(ch)) return words;
    } else if (ch === '$') {
      i = expand(i);
      inWord = true;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

export interface Statement {
  /** The statement's text, trailing comments removed, continuations kept. */
  text: string;
  /** Its first line, counted from the start of the code given. */
  line: number;
}

/**
 * Splits shell code into statements: one per line, except that quotes, `$( … )` and line
 * continuations carry a statement over several lines. A whole-line comment is a statement of its
 * own (the guides put expectations there); a comment after a command is dropped.
 */
export function statements(code: string): Statement[] {
  const result: Statement[] = [];
  let text = '';
  let line = 0;
  let startLine = 0;
  let quote: '"' | "'" | null = null;
  let depth = 0;
  const flush = () => {
    if (text.trim()) result.push({ text: text.trim(), line: startLine });
    text = '';
  };
  for (let i = 0; i < code.length; i++) {
    const ch = code[i];
    if (!text.trim()) startLine = line;
    if (ch === '\n') line++;
    if (quote) {
      if (ch === quote) quote = null;
      else if (quote === '"' && ch === '\\') text += code[i++];
      text += code[i];
      if (code[i] === '\n' && ch !== '\n') line++;
      continue;
    }
    if (ch === '\n' && depth === 0) {
      flush();
      continue;
    }
    if (ch === '#' && (!text.trim() || /\s/.test(code[i - 1]))) {
      const end = code.indexOf('\n', i);
      const comment = code.slice(i, end < 0 ? code.length : end);
      if (!text.trim()) text = comment; // a whole-line comment: a statement of its own
      i += comment.length - 1;
      continue;
    }
    if (ch === '\\' && i + 1 < code.length) {
      text += ch + code[++i];
      if (code[i] === '\n') line++;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '$' && code[i + 1] === '(') depth++;
    else if (ch === ')' && depth > 0) depth--;
    text += ch;
  }
  flush();
  return result;
}

/** Splits a command at its unquoted pipes: `curl … | jq -r .data.id` → ['curl …', 'jq -r .data.id']. */
export function pipeline(command: string): string[] {
  const parts: string[] = [];
  let part = '';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (quote === '"' && ch === '\\') part += command[i++];
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '\\') {
      part += command[i++];
    } else if (ch === '|' && command[i + 1] !== '|') {
      parts.push(part.trim());
      part = '';
      continue;
    }
    part += command[i];
  }
  parts.push(part.trim());
  return parts;
}
