// multipart/form-data (@fastify/multipart) for the routes that opt in with `config.multipart`.
// Before validation the parts are read into `request.body` (text fields, so one schema validates
// JSON and multipart alike) and `request.uploads` (files, bounded in size and count). Files are
// held in memory: at most MAX_FILES × MAX_UPLOAD_BYTES per request.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { ApiError } from './errors.ts';

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const MAX_FILES = 4;
export const MAX_FIELDS = 40;
export const MAX_FIELD_BYTES = 64 * 1024;
const MAX_HEADER_PAIRS = 100;

export interface Upload {
  field: string;
  fileName: string;
  declaredType: string;
  data: Buffer;
  sha256: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    uploads: Upload[];
  }
}

export async function registerMultipart(app: FastifyInstance) {
  await app.register(multipart, {
    limits: {
      fileSize: MAX_UPLOAD_BYTES, files: MAX_FILES, fields: MAX_FIELDS, parts: MAX_FILES + MAX_FIELDS,
      headerPairs: MAX_HEADER_PAIRS, fieldSize: MAX_FIELD_BYTES,
    },
    throwFileSizeLimit: true,
  });
  app.decorateRequest('uploads', null as unknown as Upload[]);
  app.addHook('preValidation', async (request) => {
    request.uploads = [];
    if (!request.isMultipart() || request.is404) return;
    if (!request.routeOptions.config?.multipart) {
      throw new ApiError(415, 'unsupported_media_type', 'This route accepts application/json only.');
    }
    const fields: Record<string, string> = {};
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          const data = await part.toBuffer();
          const sha256 = createHash('sha256').update(data).digest('hex');
          request.uploads.push({ field: part.fieldname, fileName: part.filename, declaredType: part.mimetype, data, sha256 });
        } else {
          if (part.fieldname in fields) {
            throw new ApiError(422, 'validation_failed', `The field ${part.fieldname} was sent twice.`, [{ field: part.fieldname, message: 'sent twice' }]);
          }
          if (part.valueTruncated) throw new ApiError(413, 'payload_too_large', `The field ${part.fieldname} is too long.`);
          fields[part.fieldname] = String(part.value);
        }
      }
    } catch (error) {
      if (error instanceof ApiError || (error as { statusCode?: number }).statusCode) throw error;
      // busboy reports malformed bodies (no boundary, truncated parts) as plain errors.
      throw new ApiError(400, 'invalid_multipart', `The multipart body is malformed: ${(error as Error).message}`);
    }
    request.body = fields;
    request.uploadDigests = request.uploads.map((u) => `${u.field}:${u.sha256}`);
  });
}
