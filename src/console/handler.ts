import type { Context } from 'hono';
import type * as z from 'zod';
import { browserOrigin } from '../changes/http-origin.ts';
import type { ChangeOrigin } from '../changes/origin.ts';
import { consoleCsrfToken } from '../crypto/console-csrf.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { AppEnv } from '../http/context.ts';
import { statusOf } from '../http/error-handler.ts';
import { readSmallForm } from '../http/form-body.ts';
import { invalidInput } from '../http/invalid-input.ts';
import { brandingOf } from '../pages/branding.ts';
import { consoleRefusedPage } from '../pages/console.ts';
import { type ConsoleViewer, consoleErrorPage } from '../pages/console-layout.ts';
import { isAcceptedConsolePost } from './csrf.ts';
import type { ConsoleOperator } from './gate.ts';
import { consoleStatus } from './status.ts';

export type ConsoleHandler = (c: Context<AppEnv>, operator: ConsoleOperator) => Promise<Response>;

type Section = 'people' | 'services' | 'audit';

/** Who a page is for: the operator, their session's CSRF token, and the status line. */
export async function viewerOf(c: Context<AppEnv>, operator: ConsoleOperator): Promise<ConsoleViewer> {
  const [csrfToken, status] = await Promise.all([
    consoleCsrfToken(operator.sessionId, c.var.config.SESSION_SECRET),
    consoleStatus(c.var.database()),
  ]);
  return { login: operator.login, csrfToken, status };
}

/**
 * A console change's origin: the operator, as the person they are, where they came from, and
 * `via: 'console'` in the record's details (an operator's sign-out of a person is told apart from
 * the person's own).
 */
export function consoleOrigin(c: Context<AppEnv>, operator: ConsoleOperator): ChangeOrigin {
  return { ...browserOrigin(c, operator.userId), via: 'console' };
}

/** The form's fields through the admin API's schema: a field that does not fit is a 400 naming it. */
export function parseWith<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput('json', parsed.error);
  return parsed.data;
}

/** A refused input with its words, as a GatewayError the console shows on its "Not done" page. */
export function refuse(code: string, message: string): never {
  throw new GatewayError(code, 'input', message);
}

/** What the change says of the outcome: where to 303 to, or its own answer (a key shown once). */
export type ChangeOutcome = { redirect: string } | Response;

/** The errors a change answers on its own page: the operator's input, or the state it met. */
const SHOWN_KINDS = new Set(['input', 'not_found', 'conflict', 'forbidden', 'upstream', 'rate_limited']);

/**
 * A console POST: refused with a 403 page, changing nothing, unless it passes the CSRF checks
 * (src/console/csrf.ts); then the change, and a 303 back (a reload does not post again). A refused
 * input or a state that refuses it (a rotation in progress, an unknown service) answers the
 * console's "Not done" page with the error's status and message.
 */
export function consolePost(
  section: Section,
  change: (c: Context<AppEnv>, operator: ConsoleOperator, form: URLSearchParams) => Promise<ChangeOutcome>,
): ConsoleHandler {
  return async (c, operator) => {
    const form = await readSmallForm(c);
    if (!(await isAcceptedConsolePost(c, operator, form)))
      return c.html(consoleRefusedPage(brandingOf(c.var.config)), 403);
    try {
      const outcome = await change(c, operator, form);
      return outcome instanceof Response ? outcome : c.redirect(outcome.redirect, 303);
    } catch (error) {
      if (!(error instanceof GatewayError) || !SHOWN_KINDS.has(error.kind)) throw error;
      return consoleErrorAnswer(c, operator, section, error);
    }
  };
}

/** The console's "Not done" page for a refused input or state, with the error's status and message. */
export async function consoleErrorAnswer(
  c: Context<AppEnv>,
  operator: ConsoleOperator,
  section: Section,
  error: GatewayError,
): Promise<Response> {
  const page = consoleErrorPage(
    brandingOf(c.var.config),
    await viewerOf(c, operator),
    section,
    error.message,
    error.code,
  );
  return c.html(page, statusOf(error));
}

/** A form field that is given once, or not at all (a repeated field is refused, not guessed at). */
export function single(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  if (values.length > 1) refuse('invalid_body', `${name}: give it once.`);
  return values[0];
}
