/**
 * The shape of every expected failure in this codebase: a `code` a caller can branch on and a
 * message that says what to do next. Subclasses only name themselves and their codes.
 */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string) {
    super(message);
    this.code = code;
  }
}
