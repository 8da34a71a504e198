// The response envelope of API.md: {statusCode, message, data, meta?}. Schemas built here feed
// both response serialization and the OpenAPI document.
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    message: Type.String(),
    data: Type.Null(),
    error: Type.Object({
      code: Type.String({ description: 'Stable snake_case error code.' }),
      details: Type.Array(
        Type.Object({ field: Type.Optional(Type.String()), message: Type.String() }),
      ),
    }),
    requestId: Type.String(),
  },
  { $id: 'Error', description: 'Every error uses this envelope.' },
);

export const ListMeta = Type.Object(
  {
    limit: Type.Integer(),
    hasMore: Type.Boolean(),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
    sort: Type.String(),
    filters: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'ListMeta' },
);

/** The `:id` path parameter of every resource route. */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export function envelope<T extends TSchema>(data: T) {
  return Type.Object({
    statusCode: Type.Integer(),
    message: Type.String(),
    data,
  });
}

export function listEnvelope<T extends TSchema>(item: T) {
  return Type.Object({
    statusCode: Type.Integer(),
    message: Type.String(),
    data: Type.Array(item),
    meta: Type.Ref(ListMeta),
  });
}

/** Error responses every authenticated route can give; routes add their own 4xx. */
const errorRef = Type.Ref(ErrorBody);
export const commonErrors = {
  400: errorRef,
  401: errorRef,
  403: errorRef,
  404: errorRef,
  409: errorRef,
  413: errorRef,
  415: errorRef,
  422: errorRef,
  429: errorRef,
};

/** Response schemas for a route: the success envelope plus the common errors. */
export function responses(status: number, data: TSchema, description: string) {
  return { [status]: { ...data, description }, ...commonErrors };
}

/** A list answer: the page's items as data and its paging as meta. */
export function sendPage<T>(reply: FastifyReply, page: { data: T[]; meta: unknown }) {
  return send(reply, 200, 'Data fetched successfully.', page.data, page.meta);
}

export function send<T>(reply: FastifyReply, statusCode: number, message: string, data: T, meta?: unknown) {
  const body = meta === undefined ? { statusCode, message, data } : { statusCode, message, data, meta };
  return reply.code(statusCode).send(body);
}
