// Builds the OpenAPI 3.0 document served at /api/openapi.json from the routes' own JSON schemas and configs: every
// route gets its query parameters, its body (JSON schema, or `config.requestBody` for bodies the route reads itself,
// such as multipart uploads), its security (from `config.auth`) and the error replies every route can give.

export interface RouteDoc {
  method: string | string[];
  url: string;
  schema?: {
    body?: unknown;
    querystring?: { properties?: Record<string, unknown>; required?: string[] };
    summary?: string;
    description?: string;
    errorResponses?: Record<string, string>;
  };
  config?: {
    auth?: 'public' | 'read' | 'key';
    requestBody?: Record<string, { schema: Record<string, unknown> }>;
    longLived?: boolean;
  };
}

const ERROR_REPLY = { $ref: '#/components/schemas/Error' };
const error = (description: string) => ({ description, content: { 'application/json': { schema: ERROR_REPLY } } });

/** Replies any route may give besides 200, with what they mean here. */
function errorResponses(doc: RouteDoc, hasBody: boolean): Record<string, unknown> {
  const r: Record<string, unknown> = {
    400: error('invalid request: `msg` names the field and what is wrong'),
    404: error('unknown experiment, project, sweep or asset (or one this API key may not see)'),
    409: error('conflicts with the stored state (e.g. an experiment key that already exists)'),
    421: error('the Host header is not a name this server answers to (`tracker serve --allowed-hosts`)'),
    429: error('too many failed authentications from this address; retry later'),
    431: { description: 'request header fields too large' },
    500: error('internal error: the body carries only a request id, the server log has the details'),
    501: error('the server runs without this feature (e.g. no optimizer algorithm)'),
  };
  if (doc.config?.auth !== 'public') {
    r[401] = error('missing, invalid or revoked API key (or a write without one)');
    r[403] = error('the API key belongs to another workspace than the one named');
  }
  if (hasBody) {
    r[413] = error('body larger than the server accepts (`tracker serve --body-limit-mb`, `--max-asset-mb`)');
    r[415] = error('unsupported Content-Type');
  }
  return r;
}

/** The 200/204 replies of a route: JSON, or bytes for asset downloads, or an event stream. */
function successResponses(doc: RouteDoc): Record<string, unknown> {
  if (doc.url.endsWith('/get-asset'))
    return {
      200: {
        description: 'the asset bytes',
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
    };
  if (doc.config?.longLived)
    return {
      200: { description: 'server-sent events', content: { 'text/event-stream': { schema: { type: 'string' } } } },
    };
  const ok: Record<string, unknown> = { 200: { description: 'OK', content: { 'application/json': { schema: {} } } } };
  if (doc.url.endsWith('/optimizer/next')) ok[204] = { description: 'the sweep is done: no more suggestions' };
  return ok;
}

export function buildOpenApi(routes: RouteDoc[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD' && m !== 'OPTIONS');
    const url = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const m of methods) {
      const body =
        r.config?.requestBody ?? (r.schema?.body ? { 'application/json': { schema: r.schema.body } } : undefined);
      const op: Record<string, unknown> = {
        summary: r.schema?.summary ?? r.url,
        security: r.config?.auth === 'public' ? [] : [{ apiKey: [] }, { cometSdkApi: [] }],
        responses: { ...successResponses(r), ...errorResponses(r, !!body) },
      };
      if (r.schema?.description) op.description = r.schema.description;
      // routes that declare their error replies say what those mean for them, beside the replies any route may give
      if (r.schema?.errorResponses)
        Object.assign(
          op.responses as object,
          Object.fromEntries(Object.entries(r.schema.errorResponses).map(([c, d]) => [c, error(d)])),
        );
      const q = r.schema?.querystring;
      if (q?.properties)
        op.parameters = Object.entries(q.properties).map(([name, schema]) => ({
          name,
          in: 'query',
          required: q.required?.includes(name) ?? false,
          schema,
        }));
      if (body) op.requestBody = { required: true, content: body };
      (paths[url] ??= {})[m.toLowerCase()] = op;
    }
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'ocrops tracker',
      version: '0.1.0',
      description: 'Comet REST v2 subset, dashboard API and optimizer resource',
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'Authorization' },
        cometSdkApi: { type: 'apiKey', in: 'header', name: 'Comet-Sdk-Api' },
      },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            msg: { type: 'string' },
            sdk_error_code: { type: 'integer' },
            field: { type: 'string' },
            requestId: { type: 'string' },
          },
          required: ['msg'],
        },
      },
    },
    paths,
  };
}
