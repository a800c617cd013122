//! `user add`, `user set-password` and `user reset-2fa`.

use std::io::{BufRead, IsTerminal};

use serde_json::{json, Value};

use super::args::emit;
use crate::db::Conn;
use crate::domain::{accounts, passkeys, two_step};
use crate::error::{AppError, AppResult};

/// `user add`: creates a user; a generated password is printed.
pub(super) fn add(
    c: &mut Conn,
    email: &str,
    name: &str,
    password_stdin: bool,
    json: bool,
) -> AppResult<()> {
    let (password, generated) = password(password_stdin)?;
    let user = accounts::create_user(c, email, name, &password)?;
    let mut v = json!({"id": user.id, "user_id": user.id, "email": user.email, "name": user.name});
    let mut human = vec![format!(
        "Created user {} ({}), id {}",
        user.email, user.name, user.id
    )];
    if generated {
        show_password(&mut v, &mut human, &password);
    }
    emit(json, v, &human);
    Ok(())
}

/// `user set-password`: sets a password, which ends the user's sessions; a
/// generated password is printed.
pub(super) fn set_password(
    c: &mut Conn,
    email_or_id: &str,
    password_stdin: bool,
    json: bool,
) -> AppResult<()> {
    let user = accounts::find_user(c, email_or_id)?;
    let (password, generated) = password(password_stdin)?;
    accounts::set_password(c, &user, &password)?;
    let mut v = json!({"id": user.id, "user_id": user.id, "email": user.email});
    let mut human = vec![format!(
        "Password of {} changed; their sessions have ended.",
        user.email
    )];
    if generated {
        show_password(&mut v, &mut human, &password);
    }
    emit(json, v, &human);
    Ok(())
}

/// `user reset-2fa`: turns off a user's two-step verification (audited).
pub(super) fn reset_two_step(c: &mut Conn, email_or_id: &str, json: bool) -> AppResult<()> {
    let user = accounts::find_user(c, email_or_id)?;
    let was_on = two_step::reset(c, &user)?;
    let password_back = passkeys::reset_password_off(c, &user)?;
    let v = json!({"id": user.id, "user_id": user.id, "email": user.email,
        "two_step_was_on": was_on, "password_sign_in_restored": password_back});
    let mut human = Vec::new();
    if was_on {
        human.push(format!(
            "Two-step verification of {} is off; they sign in with their password alone until they set it up again.",
            user.email
        ));
    }
    if password_back {
        human.push(format!(
            "Password sign-in of {} is back on (it had been turned off for passkeys only).",
            user.email
        ));
    }
    if human.is_empty() {
        human.push(format!(
            "{} had no two-step verification and password sign-in was on; nothing changed.",
            user.email
        ));
    }
    emit(json, v, &human);
    Ok(())
}

/// The password from standard input, or a generated one (then `true`).
fn password(from_stdin: bool) -> AppResult<(String, bool)> {
    if from_stdin {
        Ok((read_password_stdin()?, false))
    } else {
        Ok((accounts::generate_password(), true))
    }
}

/// Adds a generated password to both outputs: it is shown only this once.
fn show_password(v: &mut Value, human: &mut Vec<String>, password: &str) {
    v["password"] = json!(password);
    human.push(format!("Password: {password}"));
}

fn read_password_stdin() -> AppResult<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| AppError::invalid(format!("reading the password from stdin: {e}")))?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        return Err(AppError::invalid("no password on standard input"));
    }
    Ok(pw)
}
