// The OpenAPI 3.1 document, generated from the route schemas (@fastify/swagger) and rendered at
// /docs (@fastify/swagger-ui). Error codes are listed from ERROR_CODES so they cannot drift.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ErrorBody, ListMeta } from './envelope.ts';
import { ERROR_CODES } from './errors.ts';

const codeTable = Object.entries(ERROR_CODES).map(([code, text]) => `| \`${code}\` | ${text} |`).join('\n');

export async function registerOpenApi(app: FastifyInstance) {
  app.addSchema(ErrorBody);
  app.addSchema(ListMeta);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Paygen Cards API',
        version: '0.1.0',
        description: `Self-hostable card issuing. Every JSON response uses the envelope {statusCode, message, data, meta}.\n\n## Error codes\n| code | meaning |\n| --- | --- |\n${codeTable}`,
      },
      servers: [{ url: 'http://127.0.0.1:3000', description: 'Local sandbox' }],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}
