// KYC document uploads: what a file is, decided from its first bytes (never from the declared
// type or the extension), and a display name that is safe to show and to offer as a download
// name. File names are never used as paths: documents live in the database under generated ids.
// Dispute evidence files follow the same rules with their own file fields (`kinds`).
import { ApiError, unprocessable } from '../../platform/errors.ts';
import type { Upload } from '../../platform/multipart.ts';
import { DOCUMENT_KINDS, type DocumentKind } from './card-holders.schemas.ts';

export const MAX_FILE_NAME_BYTES = 255;
/** An extension longer than this is not worth keeping when a long name is cut. */
const MAX_KEPT_EXTENSION_BYTES = 16;

export type DocumentContentType = 'image/jpeg' | 'image/png' | 'application/pdf';

/**
 * The allow-list with the magic bytes of the WHATWG MIME Sniffing standard. Three fixed
 * signatures are checked by hand: a sniffing library would recognise many types that are refused
 * anyway.
 */
const SIGNATURES: Array<{ type: DocumentContentType; magic: Buffer; extensions: string[] }> = [
  { type: 'image/png', magic: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), extensions: ['png'] },
  { type: 'image/jpeg', magic: Buffer.from([0xff, 0xd8, 0xff]), extensions: ['jpg', 'jpeg'] },
  { type: 'application/pdf', magic: Buffer.from('%PDF-', 'latin1'), extensions: ['pdf'] },
];

/** Declared types that say nothing about the content (curl sends octet-stream for unknown extensions). */
const UNDECLARED = new Set(['', 'application/octet-stream']);
const DECLARED_ALIASES: Record<string, string> = { 'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg', 'image/x-png': 'image/png', 'application/x-pdf': 'application/pdf' };

export interface CheckedFile<K extends string = DocumentKind> {
  kind: K;
  fileName: string;
  contentType: DocumentContentType;
  data: Buffer;
  sha256: string;
}

export function sniff(data: Buffer): DocumentContentType | undefined {
  return SIGNATURES.find((s) => data.length >= s.magic.length && data.subarray(0, s.magic.length).equals(s.magic))?.type;
}

function declaredEssence(declared: string): string {
  const essence = declared.split(';')[0].trim().toLowerCase();
  return DECLARED_ALIASES[essence] ?? essence;
}

function checkFile<K extends string>(upload: Upload, kinds: readonly K[]): CheckedFile<K> {
  const field = upload.field;
  if (!(kinds as readonly string[]).includes(field)) {
    throw new ApiError(422, 'validation_failed', `The file field ${displayFileName(field, '?').slice(0, 100)} is not accepted; use ${kinds.join(', ')}.`,
      [{ field, message: 'is not a known file field' }]);
  }
  if (upload.data.length === 0) throw unprocessable('invalid_file', `The file ${field} is empty.`, field);
  const contentType = sniff(upload.data);
  if (!contentType) {
    throw new ApiError(415, 'unsupported_file_type', `The file ${field} is not a JPEG, PNG or PDF (decided by its content).`, [{ field, message: 'content is not JPEG, PNG or PDF' }]);
  }
  const declared = declaredEssence(upload.declaredType ?? '');
  if (!UNDECLARED.has(declared) && declared !== contentType) {
    throw new ApiError(415, 'unsupported_file_type', `The file ${field} is declared as ${declared.slice(0, 100)} but its content is ${contentType}.`,
      [{ field, message: `declared type does not match the content (${contentType})` }]);
  }
  return { kind: field as K, fileName: displayFileName(upload.fileName ?? '', field), contentType, data: upload.data, sha256: upload.sha256 };
}

/**
 * Checks every file of a request against the file fields `kinds` (the card-holder document kinds
 * unless told); a request sends each kind at most once.
 */
export function checkFiles(uploads: Upload[]): CheckedFile[];
export function checkFiles<K extends string>(uploads: Upload[], kinds: readonly K[]): CheckedFile<K>[];
export function checkFiles(uploads: Upload[], kinds: readonly string[] = DOCUMENT_KINDS): CheckedFile<string>[] {
  const seen = new Set<string>();
  return uploads.map((upload) => {
    if (seen.has(upload.field)) {
      throw new ApiError(422, 'validation_failed', `The file ${upload.field} was sent twice.`, [{ field: upload.field, message: 'sent twice' }]);
    }
    seen.add(upload.field);
    return checkFile(upload, kinds);
  });
}

/** Cuts a name to `maxBytes` of UTF-8 on a code point boundary, keeping a short extension. */
function truncate(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && Buffer.byteLength(name.slice(dot)) <= MAX_KEPT_EXTENSION_BYTES ? name.slice(dot) : '';
  let budget = maxBytes - Buffer.byteLength(extension);
  let stem = '';
  for (const codePoint of name.slice(0, name.length - extension.length)) {
    budget -= Buffer.byteLength(codePoint);
    if (budget < 0) break;
    stem += codePoint;
  }
  return stem + extension;
}

/**
 * The display name of an upload: percent-escapes decoded (so an encoded NUL is caught), the last
 * path segment only, control / bidi / line-separator characters removed, characters that are
 * unsafe in HTML or in file names (< > : " | ? *) replaced by "_", at most 255 bytes.
 */
export function displayFileName(raw: string, fallback: string): string {
  let name = raw;
  if (/%[0-9a-f]{2}/i.test(name)) {
    try {
      name = decodeURIComponent(name);
    } catch {
      // Not valid percent-encoding: keep the name as sent.
    }
  }
  name = name.normalize('NFC').replace(/[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/gu, '');
  name = (name.split(/[/\\]/).pop() ?? '').replace(/[<>:"|?*]/g, '_').trim();
  if (name === '' || name === '.' || name === '..') name = fallback;
  return truncate(name, MAX_FILE_NAME_BYTES);
}

/** The download name: the display name, with the extension of the real type appended if it lacks it. */
export function downloadFileName(fileName: string, contentType: string): string {
  const extensions = SIGNATURES.find((s) => s.type === contentType)?.extensions ?? [];
  const lower = fileName.toLowerCase();
  if (extensions.length === 0 || extensions.some((e) => lower.endsWith(`.${e}`))) return fileName;
  return truncate(`${fileName}.${extensions[0]}`, MAX_FILE_NAME_BYTES);
}

/** RFC 6266 attachment with an ASCII fallback name and the exact UTF-8 name (RFC 8187). */
export function attachmentHeader(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
