//! The signed-in staff member of a request, role checks and the CSRF check.

use std::future::{ready, Ready};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use subtle::ConstantTimeEq;

use super::StaffError;
use crate::authentication::session::{Session, COOKIE};
use crate::crypto::SecretKey;
use crate::state::AppState;
use crate::store::reader;
use crate::store::staff::{self, Role};

pub const SETUP_PATH: &str = "/staff/setup/";

/// The session of the staff member making the request; `LoginRequired` without one (or when
/// its account changed since the login: `still_valid`), and
/// `SecondFactorDue` on every page but the set-up page and logout while a required second
/// factor is not set up yet.
pub struct CurrentStaff(pub Arc<Session>);

impl FromRequest for CurrentStaff {
    type Error = StaffError;
    type Future = Ready<Result<CurrentStaff, StaffError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req
            .app_data::<web::Data<AppState>>()
            .zip(req.cookie(COOKIE))
            .and_then(|(state, cookie)| {
                let session = state.sessions.get(cookie.value())?;
                Some(match still_valid(state, &session) {
                    Ok(true) => Ok(session),
                    Ok(false) => {
                        // P5: reset, disabled or given a new password by another process (the
                        // command line): the session and its desk key go now.
                        state.sessions.end(cookie.value());
                        tracing::info!(
                            staff_id = session.staff_id,
                            "staff session ended: the account was reset, disabled or changed since its login"
                        );
                        Err(StaffError::LoginRequired)
                    }
                    Err(e) => Err(e),
                })
            });
        ready(match session.transpose() {
            Err(e) => Err(e),
            Ok(None) => Err(StaffError::LoginRequired),
            Ok(Some(s))
                if s.second_factor_due.load(Ordering::SeqCst)
                    && ![super::second_factor::PATH, "/staff/logout"].contains(&req.path()) =>
            {
                Err(StaffError::SecondFactorDue)
            }
            Ok(Some(s)) => Ok(CurrentStaff(s)),
        })
    }
}

/// The account behind `session`, read again from the database: one primary-key read on this
/// worker's reader connection (as the card check does), no hop to another thread.
fn still_valid(state: &AppState, session: &Session) -> Result<bool, StaffError> {
    let now = reader::with(&state.db, |conn| staff::standing(conn, session.staff_id))?;
    Ok(session.still_matches(
        now.as_ref()
            .map(|(hash, disabled)| (hash.as_deref(), *disabled)),
    ))
}

impl CurrentStaff {
    pub fn require(&self, role: Role) -> Result<&Session, StaffError> {
        if self.0.role == role {
            Ok(&self.0)
        } else {
            Err(StaffError::Forbidden)
        }
    }

    /// The unwrapped desk key and its desk: investigators only.
    pub fn desk(&self) -> Result<SecretKey, StaffError> {
        self.require(Role::Investigator)?;
        self.0.desk.clone().ok_or(StaffError::NotGranted)
    }

    /// The investigator's desk (P11).
    pub fn desk_id(&self) -> Result<i64, StaffError> {
        self.require(Role::Investigator)?;
        self.0.desk_id.ok_or(StaffError::Forbidden)
    }

    /// Checks the form's CSRF token against the session's, in constant time.
    pub fn check_csrf(&self, sent: &str) -> Result<(), StaffError> {
        if bool::from(sent.as_bytes().ct_eq(self.0.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(StaffError::Csrf)
        }
    }

    pub fn actor(&self) -> String {
        format!("staff:{}", self.0.staff_id)
    }

    /// The context every staff page needs: who is signed in, their role, the CSRF token.
    pub fn context(&self) -> tera::Context {
        let mut ctx = tera::Context::new();
        ctx.insert("me", &self.0.username);
        ctx.insert("role", &self.0.role);
        ctx.insert("csrf", &self.0.csrf);
        ctx.insert("unlocked", &self.0.desk.is_some());
        ctx.insert(
            "city_desk",
            &(self.0.desk_id == Some(crate::store::desks::CITY_ID)),
        );
        ctx
    }
}

/// Refuses a POST sent from another site (login CSRF, before a session exists). Browsers
/// say where a request comes from in `Sec-Fetch-Site`; older ones only in `Origin`, which
/// our `Referrer-Policy: no-referrer` turns into `null` — so `Origin` counts only when it
/// names a site.
pub fn same_origin(req: &HttpRequest) -> Result<(), StaffError> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err(StaffError::Csrf),
        };
    }
    match header("origin") {
        None | Some("null") => Ok(()),
        Some(origin) => {
            let host = req.connection_info().host().to_string();
            if origin.split("://").nth(1) == Some(host.as_str()) {
                Ok(())
            } else {
                Err(StaffError::Csrf)
            }
        }
    }
}
