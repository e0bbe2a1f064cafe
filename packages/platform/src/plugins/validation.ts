/**
 * Request validation. Query strings and path parameters arrive as text, so
 * they are coerced to the schema's types; bodies are JSON and must already
 * have them — `"false"` is not a boolean and `["x"]` is not a name. Unknown
 * fields are rejected everywhere, never silently dropped.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

const common: Options = {
  removeAdditional: false,
  useDefaults: true,
  allErrors: false,
  strict: false,
};

export function installValidators(app: FastifyInstance): void {
  const strict = withFormats(new Ajv({ ...common, coerceTypes: false }));
  const coercing = withFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
}

function withFormats(ajv: Ajv): Ajv {
  // ajv-formats is CommonJS; its default export is the plugin function.
  (addFormatsPlugin as unknown as (a: Ajv) => Ajv)(ajv);
  return ajv;
}
