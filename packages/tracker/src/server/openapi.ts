// Builds the OpenAPI 3.0 document served at /api/openapi.json from the routes' own JSON schemas.

export interface RouteDoc {
  method: string | string[];
  url: string;
  schema?: { body?: unknown; querystring?: { properties?: Record<string, any>; required?: string[] }; summary?: string; errorResponses?: Record<string, string> };
}

export function buildOpenApi(routes: RouteDoc[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
    for (const m of methods) {
      const op: Record<string, unknown> = {
        summary: r.schema?.summary ?? r.url,
        security: [{ apiKey: [] }],
        responses: { 200: { description: 'OK' }, 400: { description: 'invalid request: `{msg, sdk_error_code}` naming the field' }, 401: { description: 'missing or invalid API key' }, 404: { description: 'unknown experiment/project' } },
      };
      // routes that declare their error replies list exactly those
      if (r.schema?.errorResponses)
        op.responses = { 200: { description: 'OK' }, ...Object.fromEntries(Object.entries(r.schema.errorResponses).map(([c, d]) => [c, { description: d }])) };
      const q = r.schema?.querystring;
      if (q?.properties)
        op.parameters = Object.entries(q.properties).map(([name, schema]) => ({
          name,
          in: 'query',
          required: q.required?.includes(name) ?? false,
          schema,
        }));
      if (r.schema?.body) op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } };
      (paths[r.url] ??= {})[m.toLowerCase()] = op;
    }
  }
  return {
    openapi: '3.0.3',
    info: { title: 'ocrops tracker', version: '0.1.0', description: 'Comet REST v2 subset, dashboard API and optimizer resource' },
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'Authorization' } } },
    paths,
  };
}
