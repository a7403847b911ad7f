//! Issue #3's optional second factor for staff (RFC 6238, P8): set up with a code from the
//! authenticator, needed at every later login, each code accepted once, required by an admin
//! setting, cleared by an admin when a phone is lost — and the secret never in the database.

use crate::helpers::{
    spawn_app, spawn_app_with, Staff, TestApp, ADMIN, ADMIN_PASSWORD, INVESTIGATOR,
    INVESTIGATOR_PASSWORD,
};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The authenticator app: the secret as the set-up page shows it, in base32.
struct Authenticator(totp_rs::Totp);

impl Authenticator {
    fn from_page(page: &str) -> (Authenticator, String) {
        let marker = "<code class=\"secret\">";
        let at = page.find(marker).expect("the secret is shown") + marker.len();
        let shown = &page[at..at + page[at..].find('<').unwrap()];
        let base32: String = shown.chars().filter(|c| !c.is_whitespace()).collect();
        let secret = totp_rs::Secret::try_from_base32(&base32).unwrap();
        let totp = totp_rs::Builder::new()
            .with_secret(secret)
            .build_noncompliant();
        (Authenticator(totp), base32)
    }

    /// The code for the time step `steps` away from now.
    fn code(&self, steps: i64) -> String {
        self.0
            .generate((now() as i64 + steps * 30) as u64)
            .to_string()
    }

    /// A code that matches no step in the accepted window.
    fn wrong_code(&self) -> String {
        let near: Vec<String> = (-2..=2).map(|s| self.code(s)).collect();
        (0..1_000_000)
            .map(|n| format!("{n:06}"))
            .find(|c| !near.contains(c))
            .unwrap()
    }
}

fn login_with<'a>(
    app: &'a TestApp,
    username: &str,
    password: &str,
    code: &str,
) -> Result<Staff<'a>, u16> {
    let r = app.post_form(
        "/staff/login",
        &[
            ("username", username),
            ("password", password),
            ("code", code),
        ],
    );
    if r.status != 303 {
        return Err(r.status);
    }
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    Ok(Staff { app, cookie })
}

/// Sets up the second factor; returns the app, the secret in base32 and the code that
/// confirmed it.
fn enrol(session: &Staff<'_>, password: &str) -> (Authenticator, String, String) {
    let page = session.get("/staff/totp").body;
    assert!(page.contains("<svg"), "a QR code for the app");
    let (app, base32) = Authenticator::from_page(&page);
    assert!(page.contains("otpauth") || page.contains("<path"), "{page}");
    let wrong = session.post_csrf(
        "/staff/totp",
        &[
            ("action", "enable"),
            ("password", password),
            ("code", &app.wrong_code()),
        ],
    );
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("动态码不对"));
    let again = Authenticator::from_page(&wrong.body).1;
    assert_eq!(
        again, base32,
        "the same secret stays on the page until confirmed"
    );
    let confirming = app.code(0);
    // A session alone is not enough: the password is asked again.
    let no_password = session.post_csrf(
        "/staff/totp",
        &[
            ("action", "enable"),
            ("password", "not my password"),
            ("code", &confirming),
        ],
    );
    assert_eq!(no_password.status, 422);
    let ok = session.post_csrf(
        "/staff/totp",
        &[
            ("action", "enable"),
            ("password", password),
            ("code", &confirming),
        ],
    );
    assert!(ok.status == 200 || ok.status == 303, "{}", ok.status);
    (app, base32, confirming)
}

#[test]
fn a_fresh_code_with_a_wrong_password_is_refused() {
    let app = spawn_app();
    app.add_staff();
    let first = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let (authenticator, _, _) = enrol(&first, INVESTIGATOR_PASSWORD);
    let next = authenticator.code(1);
    assert_eq!(
        login_with(&app, INVESTIGATOR, "wrong password!!", &next).err(),
        Some(401)
    );
    login_with(&app, INVESTIGATOR, INVESTIGATOR_PASSWORD, &next)
        .expect("the code was not spent by the refused login");
}

#[test]
fn a_second_factor_is_needed_at_every_later_login_and_each_code_works_once() {
    let app = spawn_app();
    app.add_staff();
    let first = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let (authenticator, base32, confirming) = enrol(&first, INVESTIGATOR_PASSWORD);
    assert!(first.get("/staff/totp").body.contains("已启用两步验证"));

    assert_eq!(
        login_with(&app, INVESTIGATOR, INVESTIGATOR_PASSWORD, "").err(),
        Some(401)
    );
    let wrong = authenticator.wrong_code();
    assert_eq!(
        login_with(&app, INVESTIGATOR, INVESTIGATOR_PASSWORD, &wrong).err(),
        Some(401)
    );
    assert_eq!(
        login_with(&app, INVESTIGATOR, INVESTIGATOR_PASSWORD, &confirming).err(),
        Some(401),
        "the code that confirmed the set-up is used"
    );
    // The set-up's wrong password and these three failures are four of the account's five
    // guesses in this window (P9): the wrong password with a fresh code has its own test.
    let next = authenticator.code(1);
    let desk = login_with(&app, INVESTIGATOR, INVESTIGATOR_PASSWORD, &next)
        .expect("password and a fresh code");
    assert_eq!(desk.get("/staff/reports").status, 200);
    assert_eq!(
        login_with(&app, INVESTIGATOR, INVESTIGATOR_PASSWORD, &next).err(),
        Some(401),
        "a code is accepted once"
    );

    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let audit = admin.get("/staff/audit.csv").body;
    assert!(audit.contains("totp.enable"));
    assert!(
        audit.contains("second factor"),
        "failed second factors are audited"
    );

    let secret = base32_decode(&base32);
    for (path, bytes) in crate::helpers::all_files(&app.data_dir()) {
        assert!(
            !crate::helpers::contains(&bytes, base32.as_bytes()),
            "{path:?}"
        );
        assert!(
            !crate::helpers::contains(&bytes, &secret),
            "{path:?} holds the raw secret"
        );
    }
}

fn base32_decode(text: &str) -> Vec<u8> {
    totp_rs::Secret::try_from_base32(text)
        .unwrap()
        .as_bytes()
        .to_vec()
}

#[test]
fn when_required_an_account_without_one_sets_it_up_before_anything_else() {
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_REQUIRE_TOTP", "1"),
    ]);
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    for path in [
        "/staff/",
        "/staff/accounts",
        "/staff/audit",
        "/staff/settings",
    ] {
        let r = admin.get(path);
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/staff/totp"), "{path}");
    }
    assert!(admin
        .get("/staff/totp")
        .body
        .contains("要求所有工作人员启用两步验证"));
    let (authenticator, _, _) = enrol(&admin, ADMIN_PASSWORD);
    assert_eq!(admin.get("/staff/accounts").status, 200);
    let disable = admin.post_csrf(
        "/staff/totp",
        &[("action", "disable"), ("code", &authenticator.code(1))],
    );
    assert_eq!(
        disable.status, 403,
        "a required second factor cannot be switched off"
    );
    assert_eq!(
        login_with(&app, ADMIN, ADMIN_PASSWORD, &authenticator.code(1)).map(|_| ()),
        Ok(())
    );
    // The only admin lost the phone: the command line clears it, and the next login is
    // sent to set up a new one.
    let out = app.cli_ok(&["user", "clear-second-factor", "--username", ADMIN], "");
    assert!(out.contains("Cleared"), "{out}");
    let again = login_with(&app, ADMIN, ADMIN_PASSWORD, "").expect("password only");
    assert_eq!(
        again.get("/staff/accounts").header("location"),
        Some("/staff/totp")
    );
}

#[test]
fn an_admin_clears_a_lost_second_factor_and_investigators_cannot() {
    let app = spawn_app();
    app.add_staff();
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    enrol(&desk, INVESTIGATOR_PASSWORD);
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let accounts = admin.get("/staff/accounts").body;
    let at = accounts
        .find("/second-factor\"")
        .expect("a clear button for the enrolled account");
    let start = accounts[..at].rfind("/staff/accounts/").unwrap() + "/staff/accounts/".len();
    let id = &accounts[start..at];
    assert_eq!(
        desk.post_csrf(&format!("/staff/accounts/{id}/second-factor"), &[])
            .status,
        403
    );
    assert_eq!(
        login_with(&app, INVESTIGATOR, INVESTIGATOR_PASSWORD, "").err(),
        Some(401)
    );
    let cleared = admin.post_csrf(&format!("/staff/accounts/{id}/second-factor"), &[]);
    assert_eq!(cleared.status, 200);
    assert!(cleared.body.contains("已清除"));
    assert!(login_with(&app, INVESTIGATOR, INVESTIGATOR_PASSWORD, "").is_ok());
    assert!(admin
        .get("/staff/audit.csv")
        .body
        .contains("account.totp_reset"));
}

/// The command line's sign-in (`reports export`, `desk rotate`) asks for the second factor
/// too: the code is the stdin line after the password. Without it each command fails with
/// one line saying so and does nothing; with a fresh code it works.
#[test]
fn the_command_line_wants_the_code_on_the_line_after_the_password() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    assert_eq!(app.file(card, "命令行导出要两步验证。").status, 303);
    app.wait_released(1);
    let desk1 = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let (desk1_app, _, _) = enrol(&desk1, INVESTIGATOR_PASSWORD);
    // A second investigator with a factor of their own rotates (each code works once).
    let desk2_password = "desk2 password 1";
    assert_eq!(
        app.enrol(&app.invite("desk2", "investigator"), desk2_password)
            .status,
        200
    );
    let desk2 = app.login("desk2", desk2_password);
    assert_eq!(desk1.grant("desk2", &desk2.fingerprint_group()).status, 200);
    let desk2 = app.login("desk2", desk2_password);
    let (desk2_app, _, _) = enrol(&desk2, desk2_password);

    let export = |stdin: &str| {
        app.cli(
            &[
                "reports",
                "export",
                "--username",
                INVESTIGATOR,
                "--password-stdin",
            ],
            stdin,
        )
    };
    let rotate = |stdin: &str| {
        app.cli(
            &["desk", "rotate", "--username", "desk2", "--password-stdin"],
            stdin,
        )
    };
    for (what, out) in [
        ("export", export(&format!("{INVESTIGATOR_PASSWORD}\n"))),
        ("rotate", rotate(&format!("{desk2_password}\n"))),
    ] {
        assert!(!out.status.success(), "{what} without the code");
        assert!(out.stdout.is_empty(), "{what} printed something");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: {stderr}");
        assert!(stderr.contains("second-factor code"), "{what}: {stderr}");
    }
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let rotations: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'desk.rotate'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rotations, 0, "nothing rotated without the code");

    let exported = export(&format!("{INVESTIGATOR_PASSWORD}\n{}\n", desk1_app.code(1)));
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    assert!(String::from_utf8(exported.stdout)
        .unwrap()
        .contains("命令行导出要两步验证。"));
    let rotated = rotate(&format!("{desk2_password}\n{}\n", desk2_app.code(1)));
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let code = String::from_utf8(rotated.stdout).unwrap();
    assert!(jianfu::crypto::RecoveryCode::parse(code.lines().last().unwrap()).is_some());
}
