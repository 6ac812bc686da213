import type * as z from 'zod';

// How the gateway words what zod found wrong, everywhere it says so (API errors, the Worker's
// configuration problems, operator commands): the field by its dotted path, then zod's message.

/** The field an issue is about, as `a.b`; `whole` when it is about the value itself. */
export function issueField(issue: z.core.$ZodIssue | undefined, whole: string): string {
  return issue?.path.join('.') || whole;
}

/** The first problem zod found, as `field: message` (`whole` when it is not one field). */
export function firstIssue(error: z.ZodError, whole: string): string {
  const issue = error.issues[0];
  return `${issueField(issue, whole)}: ${issue?.message ?? 'invalid'}`;
}

/** The first problem's message alone, for input that is one value (a name, a time). */
export function firstIssueMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'is invalid';
}
