/**
 * What a console page shows after a form was sent: the status to answer with, each field's
 * message (by the field's or form's name), and which change was made (`?done=<code>` after the
 * redirect that follows a change).
 */
export interface FormState {
  readonly status?: number;
  readonly errors?: Readonly<Record<string, string>>;
  readonly done?: string | undefined;
}

/**
 * The page data of a {@link FormState}: `errors` for the fields, `alert` above the page when a
 * field has a message, and the `notice` that `done` names in `notices` (a code from the redirect,
 * never text from the request, so a link cannot make the page say anything else).
 *
 * @example
 * ```ts
 * reply.code(state.status ?? 200).page('system/users', {
 *   title: 'Users and groups',
 *   ...formOutcome(state, DONE, 'Nothing was created: see the message in the form.'),
 * });
 * ```
 */
export function formOutcome(
  state: FormState,
  notices: Readonly<Record<string, string>>,
  alert: string,
): { errors: Readonly<Record<string, string>>; notice?: string; alert?: string } {
  return {
    errors: state.errors ?? {},
    ...(state.done && notices[state.done] ? { notice: notices[state.done] } : {}),
    ...(state.errors ? { alert } : {}),
  };
}
