/** The text of an SDK request body, which may be a string or bytes. */
export function requestText(body: unknown): string {
  return body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body);
}
