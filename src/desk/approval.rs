//! P5, P11: which district desks receive reports. An admin can add a desk on the console,
//! enrol as its first investigator through a link they open themselves and move townships to
//! it; if that desk received reports, the admin would read them. So a district desk receives
//! reports (is offered on the form and named by its townships) only while it is exactly as
//! an investigator holding the city desk key approved it: its code, name, townships and public
//! key, whose fingerprint the city investigator checks with the district's head in person. Any
//! change made on the console takes it off the form until the city approves it again; a
//! rotation of its key by its own investigators keeps the approval (they hold the old key).
//!
//! The command line (`jianfu desk add`, run by the operator on the server, for scripted
//! set-ups and tests) approves the desk as it adds it, and the first key its first
//! investigator creates — as `user add --password-stdin` trusts whoever runs it.

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{fingerprint, DeskError};
use crate::crypto::PublicKey;
use crate::store::desks::{self, Desk};
use crate::store::{audit, StoreError};

/// The digest of a district desk as it is: what an approval covers.
fn digest(desk: &Desk, townships: &[String], key: Option<&PublicKey>) -> String {
    let mut townships: Vec<&str> = townships.iter().map(String::as_str).collect();
    townships.sort_unstable();
    let mut h = Sha256::new();
    h.update(b"jianfu desk approval v1");
    // Each field length-prefixed, so no two desks encode alike.
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(desk.code.as_bytes());
    field(desk.name.as_bytes());
    field(key.map(|k| &k.as_bytes()[..]).unwrap_or_default());
    for t in townships {
        field(t.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Whether district desk `desk` (with these townships) receives reports now. The city desk
/// always does.
pub fn is_routable(desk: &Desk, townships: &[String]) -> bool {
    desk.is_city()
        || desk.public_key.as_ref().is_some_and(|key| {
            desk.approved.as_deref() == Some(digest(desk, townships, Some(key)).as_str())
        })
}

/// District desk `desk` as the city investigator is shown it: its digest as it is now, and
/// the accounts that hold its key (`holders`), so that whoever approves sees who holds it
/// (P5: an admin could enrol an account of their own first and make the key). Carried in the
/// approval form, so a change made meanwhile is caught.
pub fn as_shown(desk: &Desk, townships: &[String], holders: &[String]) -> String {
    let mut holders: Vec<&str> = holders.iter().map(String::as_str).collect();
    holders.sort_unstable();
    let mut h = Sha256::new();
    h.update(digest(desk, townships, desk.public_key.as_ref()).as_bytes());
    for name in holders {
        h.update((name.len() as u64).to_be_bytes());
        h.update(name.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The accounts of desk `desk_id` that hold its key (granted, enabled).
pub fn holders(conn: &Connection, desk_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(crate::store::staff::desk_members(conn, desk_id)?
        .into_iter()
        .filter(|m| m.granted)
        .map(|m| m.username)
        .collect())
}

/// Where a district desk stands, for the console and `jianfu desk list`.
pub fn status(desk: &Desk, townships: &[String]) -> &'static str {
    if is_routable(desk, townships) {
        "approved"
    } else if desk.public_key.is_none() {
        "no key"
    } else {
        "awaiting approval"
    }
}

/// The command line's approval of a desk it adds: of the desk as it is now, and of the first
/// key it gets (`key_created`) if nothing changes before.
pub fn approve_by_operator(conn: &Connection, desk_id: i64) -> Result<(), StoreError> {
    let desk = desks::get(conn, desk_id)?;
    let townships = desks::townships_of(conn, desk_id)?;
    desks::set_approved(conn, desk_id, Some(&digest(&desk, &townships, None)))
}

/// After desk `desk_id`'s first key pair is made: approved with it if the operator approved
/// the desk without a key and it has not changed since.
pub fn key_created(conn: &Connection, desk_id: i64, key: &PublicKey) -> Result<(), StoreError> {
    let desk = desks::get(conn, desk_id)?;
    let townships = desks::townships_of(conn, desk_id)?;
    if desk.approved.as_deref() == Some(digest(&desk, &townships, None).as_str()) {
        desks::set_approved(conn, desk_id, Some(&digest(&desk, &townships, Some(key))))?;
    }
    Ok(())
}

/// After a rotation by the desk's own investigator: an approval of the old key carries to
/// the new one.
pub fn key_rotated(
    conn: &Connection,
    desk_id: i64,
    old: &PublicKey,
    new: &PublicKey,
) -> Result<(), StoreError> {
    let desk = desks::get(conn, desk_id)?;
    let townships = desks::townships_of(conn, desk_id)?;
    if desk.approved.as_deref() == Some(digest(&desk, &townships, Some(old)).as_str()) {
        desks::set_approved(conn, desk_id, Some(&digest(&desk, &townships, Some(new))))?;
    }
    Ok(())
}

/// A city investigator's approval of district desk `desk_id` as it was shown to them (`seen`,
/// from `as_shown`), once the first group of its key fingerprint — read out by the district's
/// head — matches. A desk changed since the page was shown is not approved (`Changed`). The
/// caller has checked that `actor` holds the city desk key.
pub fn approve_checked(
    conn: &Connection,
    actor: &str,
    desk_id: i64,
    seen: &str,
    typed: &str,
) -> Result<(), DeskError> {
    let desk = desks::get(conn, desk_id)?;
    if desk.is_city() {
        return Err(StoreError::NotFound.into());
    }
    let townships = desks::townships_of(conn, desk_id)?;
    if as_shown(&desk, &townships, &holders(conn, desk_id)?) != seen {
        return Err(DeskError::Changed);
    }
    let key = desk.public_key.ok_or(DeskError::NoDeskKey)?;
    if !super::first_group_matches(&fingerprint(&key), typed) {
        audit::record(
            conn,
            actor,
            "desk.approve_refused",
            &format!("desk:{desk_id}"),
        )?;
        return Err(DeskError::FingerprintMismatch);
    }
    desks::set_approved(conn, desk_id, Some(&digest(&desk, &townships, Some(&key))))?;
    audit::record(conn, actor, "desk.approve", &format!("desk:{desk_id}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk(code: &str, name: &str) -> Desk {
        Desk {
            id: 2,
            code: code.into(),
            name: name.into(),
            public_key: Some(PublicKey::from_bytes([7; 32])),
            approved: None,
        }
    }

    #[test]
    fn any_change_of_code_name_townships_or_key_changes_the_digest() {
        let d = desk("xihu", "西湖区");
        let t = vec!["城关镇".to_string(), "河西街道".to_string()];
        let base = digest(&d, &t, d.public_key.as_ref());
        // Township order does not matter; everything else does.
        let reordered = vec![t[1].clone(), t[0].clone()];
        assert_eq!(base, digest(&d, &reordered, d.public_key.as_ref()));
        let other_key = PublicKey::from_bytes([8; 32]);
        for changed in [
            digest(&desk("xihu2", "西湖区"), &t, d.public_key.as_ref()),
            digest(&desk("xihu", "西湖区委"), &t, d.public_key.as_ref()),
            digest(&d, &t[..1], d.public_key.as_ref()),
            digest(&d, &t, Some(&other_key)),
            digest(&d, &t, None),
            // Fields cannot run into each other.
            digest(
                &desk("xihu", "西湖区城关镇"),
                &t[1..],
                d.public_key.as_ref(),
            ),
        ] {
            assert_ne!(base, changed);
        }
    }

    #[test]
    fn a_desk_routes_only_as_approved_and_with_a_key() {
        let t = vec!["城关镇".to_string()];
        let mut d = desk("xihu", "西湖区");
        assert!(!is_routable(&d, &t));
        d.approved = Some(digest(&d, &t, d.public_key.as_ref()));
        assert!(is_routable(&d, &t));
        assert!(!is_routable(&d, &["城关镇".into(), "新桥乡".into()]));
        d.public_key = None;
        d.approved = Some(digest(&d, &t, None));
        assert!(
            !is_routable(&d, &t),
            "approved without a key still needs one"
        );
    }
}
