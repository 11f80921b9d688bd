//! Owns the warnings of a valid scenario: combinations every field of which is valid but
//! which cannot do what the scenario says (`sockspec check` prints them; they fail nothing).

use super::plan::{AuthPlan, HandshakePlan, Plan, TokenPlacement};
use crate::diagnostic::Diagnostic;

/// The warnings of `plan` and of each environment's override, each located.
pub fn warnings(plan: &Plan) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let overrides = plan
        .overrides
        .iter()
        .map(|(env, p)| (Some(env.as_str()), p));
    for (env, p) in std::iter::once((None, plan)).chain(overrides) {
        if let Some(d) = rejection_with_message_credential(p, env) {
            // An override that did not change these fields repeats its scenario's warning.
            if !out
                .iter()
                .any(|o: &Diagnostic| o.pos == d.pos && o.file == d.file)
            {
                out.push(d);
            }
        }
    }
    out
}

/// An HTTP rejection expected of a credential sent after the upgrade: a server that checks
/// it in a message can only refuse it with a close.
fn rejection_with_message_credential(plan: &Plan, env: Option<&str>) -> Option<Diagnostic> {
    let HandshakePlan::Rejected { statuses, .. } = &plan.handshake else {
        return None;
    };
    // (`token_in` without a credential is invalid already.) A credential header written in
    // `connect.headers` is checked at the upgrade: then an HTTP rejection can be right.
    if plan.connect.token_in != TokenPlacement::Message
        || matches!(plan.auth, AuthPlan::None)
        || plan.connect.credential_header().is_some()
    {
        return None;
    }
    let statuses: Vec<String> = statuses.iter().map(u16::to_string).collect();
    let mut d = Diagnostic::new(
        format!(
            "this scenario expects the upgrade to be refused with {}{}, but its credential is sent in a message after the upgrade (`token_in: message`)",
            statuses.join(" or "),
            env.map(|e| format!(" in environment '{e}'")).unwrap_or_default()
        ),
        &plan.file,
    )
    .as_warning()
    .with_source(plan.source.clone())
    .at(plan.handshake_pos)
    .with_label("an HTTP rejection")
    .with_note(
        "a server that reads the credential from a message answers the upgrade with 101 and refuses the credential with a close (4401, 4403, 1008)",
    )
    .with_help(
        "send the credential in a step and expect the refusal as a close: `- send: {type: auth, token: \"{{ auth.token }}\"}` then `- expect_close: {code: 4401}`; or, if the server does check the upgrade, put the credential there (`token_in: header`)",
    );
    if plan.auth_pos.is_known() {
        d = d.with_context(plan.auth_pos, "the credential");
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::warnings;

    fn plan(yaml: &str) -> super::Plan {
        crate::scenario::parse(yaml, Path::new("scenarios/x.yaml"), "x")
            .unwrap_or_else(|ds| panic!("{}", ds[0].render()))
    }

    #[test]
    fn an_http_rejection_of_a_message_credential_is_a_warning() {
        let p = plan(
            "auth: {jwt: {secret: jwt, claims: {sub: a}}}\nconnect: {token_in: message}\nhandshake: {rejected: 403}\n",
        );
        let w = warnings(&p);
        assert_eq!(w.len(), 1);
        let text = w[0].render();
        assert!(text.starts_with("warning: this scenario expects the upgrade to be refused with 403, but its credential is sent in a message"), "{text}");
        assert!(text.contains("scenarios/x.yaml:3:12"), "{text}");
        assert!(text.contains("expect_close"), "{text}");
    }

    #[test]
    fn header_credentials_closes_and_overrides_that_fix_it_are_quiet() {
        for yaml in [
            "auth: {jwt: {secret: jwt, claims: {sub: a}}}\nhandshake: {rejected: 403}\n",
            "auth: {jwt: {secret: jwt, claims: {sub: a}}}\nconnect: {token_in: message}\nsteps: []\n",
            "auth: {jwt: {secret: jwt, claims: {sub: a}}}\nconnect: {token_in: message, headers: {X-Api-Key: k}}\nhandshake: {rejected: 401}\n",
            "auth: {jwt: {secret: jwt, claims: {sub: a}}}\nconnect: {token_in: message, headers: {X-Dev: k}, credential_headers: [X-Dev]}\nhandshake: {rejected: 401}\n",
        ] {
            assert!(warnings(&plan(yaml)).is_empty(), "{yaml}");
        }
        let p = plan(
            "auth: {jwt: {secret: jwt, claims: {sub: a}}}\nconnect: {token_in: message}\nsteps: []\noverrides:\n  staging:\n    handshake: {rejected: 403}\n",
        );
        let w = warnings(&p);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].render().contains("in environment 'staging'"));
    }
}
