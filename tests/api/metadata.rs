//! P4 and SPEC §3.4: no cookie on reporter routes, the security headers everywhere, no
//! third-party resource, no inline script — and, after a release, nothing from a reporter
//! request (address, user agent, card code, text) in any file of the data dir or anywhere
//! in the server's output, even at `RUST_LOG=trace`.

use std::io::{Read, Write};
use std::net::SocketAddr;

use crate::helpers::{all_files, contains, spawn_app, spawn_app_with};

const CLIENT_ADDRESS: &str = "127.0.0.77";
const USER_AGENT: &str = "Mozilla/5.0 (Linux; Android 12) MicroMessenger/8.0.99 ForensicMarkerUA";

/// A raw HTTP request from a chosen loopback source address.
fn post_from(server: &str, path: &str, body: &str) -> String {
    let addr: SocketAddr = server.trim_start_matches("http://").parse().unwrap();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let source: SocketAddr = format!("{CLIENT_ADDRESS}:0").parse().unwrap();
    socket.bind(&source.into()).unwrap();
    socket.connect(&addr.into()).unwrap();
    let mut stream: std::net::TcpStream = socket.into();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {USER_AGENT}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn encode(fields: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (k, v) in fields {
        if !s.is_empty() {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() {
                s.push(b as char);
            } else {
                s.push_str(&format!("%{b:02X}"));
            }
        }
    }
    s
}

fn released_rows(app: &crate::helpers::TestApp, n: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM reports", [], |r| r.get(0))
            .unwrap();
        if count == n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{count} of {n} released"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn no_trace_of_a_reporter_request_in_the_data_dir_or_the_output() {
    let mut app = spawn_app_with(&[("JIANFU_POOL_RELEASE_EVERY", "1s"), ("RUST_LOG", "trace")]);
    app.add_staff();
    let cards = app.issue_cards(3);
    let body = "取证测试：镇里用便函要求各村每周报送七类台账，独特标记甲乙丙丁。";
    let department = "独特的部门名称戊己庚";
    for card in &cards[..2] {
        let fields = crate::helpers::report_fields(card, body);
        let mut fields: Vec<_> = fields
            .into_iter()
            .filter(|(k, _)| *k != "department")
            .collect();
        fields.push(("department", department));
        let response = post_from(&app.url, "/report", &encode(&fields));
        assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    }
    // A refused attempt and a warned one leave no trace either.
    let response = post_from(
        &app.url,
        "/report",
        &encode(&crate::helpers::report_fields(&cards[0], body)),
    );
    assert!(response.starts_with("HTTP/1.1 403"));
    let response = post_from(
        &app.url,
        "/report",
        &encode(&crate::helpers::report_fields(
            &cards[2],
            "我是东风村的会计，电话13812345678",
        )),
    );
    assert!(response.starts_with("HTTP/1.1 422"));
    // Counted in the database rather than through the export, so that this test looks at
    // the files even if what was stored could not be opened.
    released_rows(&app, 2);
    // Restart, so everything the server holds has gone through a shutdown to disk.
    app.terminate();
    app.start();
    released_rows(&app, 2);

    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("client address".into(), CLIENT_ADDRESS.as_bytes().to_vec()),
        ("user agent".into(), b"ForensicMarkerUA".to_vec()),
        ("report text".into(), "独特标记甲乙丙丁".as_bytes().to_vec()),
        ("department".into(), department.as_bytes().to_vec()),
        ("warned text".into(), "13812345678".as_bytes().to_vec()),
    ];
    for card in &cards {
        needles.push(("card code".into(), card.as_bytes().to_vec()));
        needles.push(("card code".into(), card.replace('-', "").into_bytes()));
    }
    for (path, bytes) in all_files(&app.data_dir()) {
        for (what, needle) in &needles {
            assert!(
                !contains(&bytes, needle),
                "{what} found in {}",
                path.display()
            );
        }
    }
    let output = app.output();
    for (what, needle) in &needles {
        assert!(
            !contains(output.as_bytes(), needle),
            "{what} found in the server output:\n{output}"
        );
    }
    assert!(
        output.contains("TRACE") || output.contains("DEBUG") || output.contains("INFO"),
        "the log level took effect"
    );
}

#[test]
fn reporter_routes_set_no_cookie_and_send_the_privacy_headers() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    let mut responses = vec![
        ("/", app.get("/")),
        ("/thanks", app.get("/thanks")),
        ("/outcomes", app.get("/outcomes")),
        ("/static/site.css", app.get("/static/site.css")),
        ("/nope", app.get("/nope")),
        ("/staff/login", app.get("/staff/login")),
        ("POST /report 422", app.file("", "x")),
        (
            "POST /report 303",
            app.file(card, "无 Cookie 与头部检查的反映内容。"),
        ),
        (
            "POST /report 403",
            app.file(card, "无 Cookie 与头部检查的反映内容。"),
        ),
    ];
    responses.push((
        "staff 403",
        app.login(crate::helpers::ADMIN, crate::helpers::ADMIN_PASSWORD)
            .get("/staff/reports"),
    ));
    for (what, r) in &responses {
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{what}: no CSP"));
        assert!(csp.contains("default-src 'self'"), "{what}");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}");
        assert!(!csp.contains("unsafe-inline"), "{what}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
        assert!(r.header("server").is_none(), "{what}: server banner");
        if !what.starts_with("staff") {
            assert!(r.header("set-cookie").is_none(), "{what} sets a cookie");
            assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
        }
    }
}

#[test]
fn the_entry_page_is_small_self_contained_and_works_without_script() {
    let app = spawn_app();
    let page = app.get("/");
    assert_eq!(page.status, 200);
    let css = app.get("/static/site.css");
    let total = page.body.len() + css.body.len();
    assert!(total <= 30 * 1024, "entry page weighs {total} bytes");
    let lower = page.body.to_lowercase();
    assert!(!lower.contains("<script"), "no script at all");
    assert!(!has_inline_handler(&lower), "no inline event handler");
    for attr in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "src=\"//",
        "href=\"//",
    ] {
        assert!(!lower.contains(attr), "third-party resource: {attr}");
    }
    assert!(!css.body.contains("url("), "the stylesheet loads nothing");
    assert!(page
        .body
        .contains("form method=\"post\" action=\"/report\""));
    // The promises are stated plainly on the page (P6, P7).
    for text in ["不反馈", "凭证与内容不关联", "保护不了的"] {
        assert!(page.body.contains(text), "{text}");
    }
}

#[test]
fn the_thanks_page_is_the_same_for_everyone() {
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(2);
    assert_eq!(app.file(&cards[0], "第一份反映的内容。").status, 303);
    let first = app.get("/thanks").body;
    assert_eq!(app.file(&cards[1], "第二份反映的内容。").status, 303);
    assert_eq!(app.get("/thanks").body, first, "P6: no receipt or number");
}

/// Whether the HTML has an attribute like ` onclick=`.
fn has_inline_handler(html: &str) -> bool {
    html.match_indices(" on").any(|(i, _)| {
        let rest = &html[i + 3..];
        let name_len = rest.chars().take_while(|c| c.is_ascii_lowercase()).count();
        name_len > 0 && rest[name_len..].starts_with('=')
    })
}

/// P5: a report is sealed to the desk key at the moment of submission. While it waits in the
/// pool, no file of the data dir holds a word of it (the release seals it again; a copy taken
/// before the release must not be the place where it lies open).
#[test]
fn a_pending_report_is_sealed_in_every_file_before_its_release() {
    let app = spawn_app_with(&[("JIANFU_POOL_RELEASE_EVERY", "24h")]);
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    let body = "等待交付时也加密：独特标记辛壬癸子丑寅。";
    assert_eq!(app.file(card, body).status, 303);
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    let pending: i64 = conn
        .query_row("SELECT COUNT(*) FROM pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 1, "the report waits (else this checks nothing)");
    for (path, bytes) in crate::helpers::all_files(&app.data_dir()) {
        for word in ["辛壬癸子丑寅", "县农业农村局", "城关镇"] {
            assert!(
                !crate::helpers::contains(&bytes, word.as_bytes()),
                "{word} in {}",
                path.display()
            );
        }
    }
}
