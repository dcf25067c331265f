//! `pilotage keys`: professional API keys (create, list, revoke) and their access log.

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};

use crate::keys::{self, Perimeter, Role};
use crate::storage::{self, Store, date, keys as stored};

/// Options of `pilotage keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// The store: a SQLite file path (default `./data/pilotage.sqlite`) or a `postgres://` URL.
    #[arg(long, env = storage::DATABASE_URL_ENV, global = true)]
    pub database_url: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// The `pilotage keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its token, once (the store keeps only its SHA-256).
    Create {
        /// Who holds it: siae, departement, ddets, dreets or national.
        #[arg(long, value_parser = role)]
        role: Role,
        /// What it reads: structure ids (`123,456`) for siae, `DEP-xx` for departement and
        /// ddets, `REG-xx` for dreets, `FR` for national.
        #[arg(long, value_parser = perimeter)]
        perimeter: Perimeter,
        /// A label saying who holds the key (printed by `list` and `log`).
        #[arg(long)]
        label: String,
        /// Last day the key works (`YYYY-MM-DD`, UTC, included), or the exact instant it stops
        /// (`YYYY-MM-DDTHH:MM:SSZ`). No expiry by default.
        #[arg(long, value_parser = expiry)]
        expires: Option<String>,
    },
    /// List the keys: id, role, perimeter, label, dates, state (never a token).
    List,
    /// Revoke a key: servers refuse it from their next poll of the store, without restart.
    Revoke {
        /// The key's id (as `list` prints it).
        id: i64,
    },
    /// Print the access log of professional requests, oldest first.
    Log {
        /// Only this key's requests.
        #[arg(long)]
        key: Option<i64>,
        /// The last N requests.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

fn role(text: &str) -> Result<Role, String> {
    Role::from_code(text).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
        format!("unknown role {text:?}: one of {}", all.join(", "))
    })
}

fn perimeter(text: &str) -> Result<Perimeter, String> {
    Perimeter::parse(text).map_err(|e| e.to_string())
}

/// `YYYY-MM-DD` (the key works through that day, UTC) or `YYYY-MM-DDTHH:MM:SSZ` (the first
/// instant it no longer works), as the stored RFC 3339 instant.
pub fn expiry(text: &str) -> Result<String, String> {
    if let Some(days) = date::parse_iso_date(text) {
        return Ok(format!("{}T00:00:00Z", date::format_iso_date(days + 1)));
    }
    let valid = text.len() == 20
        && text.ends_with('Z')
        && text.as_bytes()[10] == b'T'
        && date::parse_iso_date(&text[..10]).is_some()
        && text[11..19]
            .split(':')
            .map(|p| p.parse::<u8>().ok())
            .zip([24u8, 60, 60])
            .all(|(v, max)| v.is_some_and(|v| v < max));
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a date (YYYY-MM-DD) or a UTC instant (YYYY-MM-DDTHH:MM:SSZ)"
        ))
    }
}

/// Runs `pilotage keys`.
pub fn run(args: KeysArgs) -> anyhow::Result<()> {
    let database_url = storage::resolve_database_url(args.database_url.as_deref());
    let mut store = Store::open(&database_url)?;
    match args.command {
        KeysCommand::Create {
            role,
            perimeter,
            label,
            expires,
        } => {
            perimeter.check_role(role)?;
            if label.trim().is_empty() {
                bail!("--label is empty: say who holds the key");
            }
            let token = keys::new_token().context("drawing a random token")?;
            let hash = keys::token_sha256(&token);
            let id = stored::insert_key(
                &mut store,
                &stored::NewKey {
                    token_sha256: &hash,
                    role: role.code(),
                    perimeter: &perimeter.to_string(),
                    label: label.trim(),
                    expires_at: expires.as_deref(),
                },
            )?;
            eprintln!(
                "key {id} created ({role}, {perimeter}); its token follows, shown this once only:"
            );
            println!("{token}");
        }
        KeysCommand::List => {
            let now = date::now_utc_text();
            println!("id\trole\tperimeter\tlabel\tcreated\texpires\tstate");
            for k in stored::list_keys(&mut store)? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else if k.active_at(&now) {
                    "active"
                } else {
                    "expired"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{state}",
                    k.id,
                    k.role,
                    k.perimeter,
                    k.label,
                    k.created_at,
                    k.expires_at.as_deref().unwrap_or("-"),
                );
            }
        }
        KeysCommand::Revoke { id } => {
            if !stored::revoke_key(&mut store, id)? {
                bail!("no key has id {id} (see `pilotage keys list`)");
            }
            println!("key {id} revoked");
        }
        KeysCommand::Log { key, limit } => {
            println!("at\tkey\troute\tasked\tstatus\trows");
            for r in stored::read_log(&mut store, key, limit.max(1))? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    r.at, r.key_id, r.route, r.asked, r.status, r.rows_returned
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_takes_a_day_or_an_instant() {
        assert_eq!(expiry("2027-06-30").expect("valid"), "2027-07-01T00:00:00Z");
        assert_eq!(
            expiry("2027-06-30T12:00:00Z").expect("valid"),
            "2027-06-30T12:00:00Z"
        );
        for bad in [
            "2027-13-01",
            "tomorrow",
            "2027-06-30T25:00:00Z",
            "2027-06-30 12:00",
        ] {
            assert!(expiry(bad).is_err(), "{bad}");
        }
    }
}
