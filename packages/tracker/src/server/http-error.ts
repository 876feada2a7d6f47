/** An error a route turns into a Comet-style reply `{msg, sdk_error_code}` with an HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly sdkErrorCode = statusCode * 100,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string) => new HttpError(404, what);
export const badRequest = (what: string) => new HttpError(400, what);
