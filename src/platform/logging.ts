// How the log is written: JSON lines for machines (files, pipes, log shippers), or pino-pretty's
// coloured one-line-per-event text for a person watching a terminal. Redaction happens in pino
// before either is written, so both formats hide the same fields.
import pretty from 'pino-pretty';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What pino-pretty leaves out of each line: constant per process, noise in a terminal. */
const PRETTY_IGNORED_FIELDS = 'pid,hostname';
const PRETTY_TIME_FORMAT = 'SYS:HH:MM:ss.l';

/**
 * LOG_FORMAT decides when it is set. Otherwise a terminal gets pretty text, and anything else
 * JSON lines, so that `npm start > log.jsonl` or a container's log collector still parses.
 */
export function chooseLogFormat(configured: LogFormat | undefined, isTerminal: boolean): LogFormat {
  return configured ?? (isTerminal ? 'pretty' : 'json');
}

/** A stream that turns pino's JSON lines into pretty text on `destination` (colours on a terminal only). */
export function prettyStream(destination: NodeJS.WritableStream = process.stdout): NodeJS.WritableStream {
  const isTerminal = (destination as { isTTY?: boolean }).isTTY === true;
  return pretty({
    destination, colorize: isTerminal, translateTime: PRETTY_TIME_FORMAT, ignore: PRETTY_IGNORED_FIELDS,
  });
}
