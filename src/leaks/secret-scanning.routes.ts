import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { AppError, validationFailed } from '../errors/catalogue.js';
import { problems } from '../http/schemas.js';
import type { App } from '../http/types.js';
import type { GithubKeys } from './github-keys.js';
import { signatureValid } from './github-keys.js';
import type { SecretScanningService } from './secret-scanning.service.js';

const Text = (max: number) => Type.String({ maxLength: max });
/** GitHub's secret-scanning partner format: the matches of one or more tokens. */
const ReportSchema = Type.Array(Type.Object({ token: Text(1000), type: Text(200), url: Text(2048), source: Text(200) }, { additionalProperties: true }), {
  minItems: 1,
  maxItems: 1000,
});
const LabelsSchema = Type.Array(
  Type.Object({
    token_hash: Type.String({ description: 'SHA-256 of the token, hex' }),
    token_type: Type.String(),
    label: Type.Union([Type.Literal('true_positive'), Type.Literal('false_positive')]),
  }),
);

/**
 * `POST /v1/secret-scanning/github` (CONTRACT §11): the signature is checked on the raw body
 * before anything is read from it; an unsigned or wrongly signed report is 401 and changes nothing.
 * No API key is asked for: GitHub's signature is the credential.
 */
export function secretScanningRoutes(app: App, deps: { keys: GithubKeys; scanning: SecretScanningService }): void {
  app.register(async (scope: App) => {
    // The body as it arrived: the signature covers its exact bytes.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    scope.post(
      '/v1/secret-scanning/github',
      {
        schema: {
          hide: true,
          summary: "GitHub secret scanning: report tokens found in public (GitHub's partner format, ECDSA-signed)",
          response: { 200: LabelsSchema, ...problems(400, 401, 503) },
        },
      },
      async (request) => {
        const keyId = request.headers['github-public-key-identifier'];
        const signature = request.headers['github-public-key-signature'];
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        if (typeof keyId !== 'string' || typeof signature !== 'string' || keyId === '' || signature === '') {
          throw new AppError('signature_invalid', 'This report is not signed: send Github-Public-Key-Identifier and Github-Public-Key-Signature.');
        }
        const key = await deps.keys.find(keyId);
        if (!key || !signatureValid(key, body, signature)) {
          throw new AppError('signature_invalid', 'The signature of this report does not verify with the public key it names.');
        }
        let report: unknown;
        try {
          report = JSON.parse(body.toString('utf8'));
        } catch {
          throw validationFailed([{ path: '', message: 'The body is not JSON.' }], 'The body is not JSON: send an array of {token, type, url, source}.');
        }
        if (!Value.Check(ReportSchema, report)) {
          const errors = [...Value.Errors(ReportSchema, report)].slice(0, 10).map((e) => ({ path: e.instancePath, message: e.message }));
          throw validationFailed(errors, 'The report must be an array of {token, type, url, source}.');
        }
        return deps.scanning.report(report, request.ip);
      },
    );
  });
}
