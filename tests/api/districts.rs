//! P11: a city desk and its district desks. Each party is played with exactly its access: the
//! district investigator (their export, queue, search, statistics), the city investigator, the
//! admin, the public board. A report goes to its district desk and the city desk; a city-only
//! report reaches the city desk alone and leaves the district desk no trace.

use crate::helpers::{
    element_text, link_in, report_fields, spawn_app, spawn_app_with, Resp, Staff, TestApp, ADMIN,
    ADMIN_PASSWORD, INVESTIGATOR, INVESTIGATOR_PASSWORD,
};

pub const DISTRICT: &str = "xihu";
pub const DISTRICT_NAME: &str = "西湖区委社会工作部";
pub const DISTRICT_USER: &str = "xihu1";
pub const DISTRICT_PASSWORD: &str = "district password 1";

/// The city desk's first investigator and an admin, then district desk `xihu` (owning the
/// township 城关镇) and its first investigator, who creates the district's key.
pub fn city_and_district(app: &TestApp) {
    app.add_staff();
    add_district(app, &["城关镇", "北山街道"]);
}

/// District desk `xihu` owning `townships`, and its first investigator (who creates its key).
fn add_district(app: &TestApp, townships: &[&str]) {
    let mut args = vec!["desk", "add", "--code", DISTRICT, "--name", DISTRICT_NAME];
    for t in townships {
        args.extend(["--township", t]);
    }
    app.cli_ok(&args, "");
    app.cli_ok(
        &[
            "user",
            "add",
            "--username",
            DISTRICT_USER,
            "--role",
            "investigator",
            "--desk",
            DISTRICT,
            "--password-stdin",
        ],
        &format!("{DISTRICT_PASSWORD}\n"),
    );
}

/// Files a report with `extra` fields added to the usual ones; asserts it was stored.
fn file_with(app: &TestApp, card: &str, body: &str, extra: &[(&str, &str)]) {
    let mut fields = report_fields(card, body);
    fields.extend_from_slice(extra);
    let r = app.post_form("/report", &fields);
    assert_eq!(r.status, 303, "{}", r.body);
}

/// Files each report (its body and the fields added to the usual ones), each with a card of
/// its own; asserts each was stored.
fn file_all(app: &TestApp, reports: &[(&str, &[(&str, &str)])]) {
    let cards = app.issue_cards(reports.len() as u32);
    for (card, (body, extra)) in cards.iter().zip(reports) {
        file_with(app, card, body, extra);
    }
}

/// An admin adds a district desk on the console (调查组 → 新增); the page that answers.
fn add_desk_on_console(admin: &Staff<'_>, code: &str, name: &str, townships: &str) -> Resp {
    admin.post_csrf(
        "/staff/desks",
        &[("code", code), ("name", name), ("townships", townships)],
    )
}

/// `jianfu reports export` as `user`, one parsed object per report.
fn export_as(app: &TestApp, user: &str, password: &str) -> Vec<serde_json::Value> {
    app.cli_ok(
        &["reports", "export", "--username", user, "--password-stdin"],
        &format!("{password}\n"),
    )
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

/// Waits until the city desk holds `n` released reports.
pub fn wait_city(app: &TestApp, n: usize) -> Vec<serde_json::Value> {
    wait_desk(app, INVESTIGATOR, INVESTIGATOR_PASSWORD, n)
}

/// Waits until investigator `user`'s desk holds `n` released reports.
fn wait_desk(app: &TestApp, user: &str, password: &str, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let rows = export_as(app, user, password);
        if rows.len() >= n {
            return rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {n}",
            rows.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

fn body_of(row: &serde_json::Value) -> &str {
    row["body"].as_str().unwrap()
}

/// Random report ids and CSRF tokens replaced, so two runs of the same story compare byte
/// for byte.
fn normalized(text: &str) -> String {
    // The session's CSRF token first (it may hold a run of digits): 64 hex characters after
    // `name="csrf" value="`.
    let mut text = text.to_string();
    while let Some(at) = text.find("name=\"csrf\" value=\"") {
        text.replace_range(at..at + 19 + 64, "<csrf>");
    }
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() == 8 {
            out.push_str("<id>");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    sorted_rows(&without_times(&out))
}

/// Times of day (`HH:MM:SS`, e.g. when the server started, as the schedule's last change)
/// replaced: they differ between two runs.
fn without_times(text: &str) -> String {
    let shape = |b: &[u8]| {
        b.len() == 8
            && b.iter().enumerate().all(|(i, c)| {
                if i % 3 == 2 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 8 <= bytes.len() && shape(&bytes[i..i + 8]) {
            out.extend_from_slice(b"<time>");
            i += 8;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("only ASCII replaced")
}

/// The rows of each table body in sorted order: random ids order a queue differently in two
/// runs of the same story.
fn sorted_rows(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    while let Some(start) = rest.find("<tbody>") {
        let end = start + rest[start..].find("</tbody>").expect("a closed table body");
        out.push_str(&rest[..start + 7]);
        let mut rows: Vec<&str> = rest[start + 7..end].split("</tr>").collect();
        rows.sort();
        out.push_str(&rows.join("</tr>"));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// What the district desk sees of one story: its export (ids blanked, sorted), and its
/// queue, search, statistics and statistics CSV pages, normalized.
fn district_view(with_city_only: bool) -> Vec<String> {
    let app = spawn_app();
    city_and_district(&app);
    let first = (
        "区里布置的第一件事，要求每天拍照上报。",
        &[("desk", DISTRICT)][..],
    );
    let city_only = (
        "区领导本人要求村里开具证明，只交给市里。",
        &[("desk", DISTRICT), ("city_only", "1")][..],
    );
    // No desk chosen: the township 城关镇 belongs to the district.
    let second = ("区里布置的第二件事，重复填报同一张表。", &[][..]);
    let story = if with_city_only {
        vec![first, city_only, second]
    } else {
        vec![first, second]
    };
    file_all(&app, &story);
    let expected = story.len();
    wait_city(&app, expected);
    let mut rows: Vec<String> = export_as(&app, DISTRICT_USER, DISTRICT_PASSWORD)
        .into_iter()
        .map(|mut r| {
            r["id"] = "<id>".into();
            r.to_string()
        })
        .collect();
    rows.sort();
    let desk = app.login(DISTRICT_USER, DISTRICT_PASSWORD);
    let mut view = vec![rows.join("\n")];
    view.push(desk.get("/staff/reports").body);
    view.push(desk.queue_with(&[("q", "要求")]));
    view.push(desk.get("/staff/stats").body);
    view.push(desk.get("/staff/stats/month.csv").body);
    view.push(desk.get("/staff/stats/category.csv").body);
    view.iter().map(|v| normalized(v)).collect()
}

#[test]
fn a_city_only_report_filed_between_two_district_reports_leaves_the_district_desk_no_trace() {
    let without = district_view(false);
    let with = district_view(true);
    assert!(without[0].contains("区里布置的第一件事"), "{}", without[0]);
    assert!(without[0].contains("区里布置的第二件事"), "{}", without[0]);
    assert!(
        !with[0].contains("只交给市里"),
        "the district export holds the city-only report"
    );
    let names = [
        "export",
        "queue",
        "search",
        "statistics",
        "month.csv",
        "category.csv",
    ];
    for (name, (a, b)) in names.iter().zip(without.iter().zip(&with)) {
        assert_eq!(
            a, b,
            "the district desk's {name} differs with a city-only report"
        );
    }
}

#[test]
fn the_city_desk_reads_every_report_with_its_district_and_the_city_only_flag() {
    let app = spawn_app();
    city_and_district(&app);
    file_all(
        &app,
        &[
            ("区里布置的事项，要求每天打卡。", &[("desk", DISTRICT)]),
            (
                "区领导本人要求村里开具证明。",
                &[("desk", DISTRICT), ("city_only", "1")],
            ),
            (
                "市里某局直接布置的台账。",
                &[("desk", "city"), ("township", "")],
            ),
        ],
    );
    let city = wait_city(&app, 3);
    let find = |needle: &str| {
        city.iter()
            .find(|r| body_of(r).contains(needle))
            .unwrap_or_else(|| panic!("{needle} in the city export"))
    };
    assert_eq!(find("每天打卡")["desk"], DISTRICT);
    assert_eq!(find("每天打卡")["city_only"], false);
    assert_eq!(find("区领导本人")["desk"], DISTRICT);
    assert_eq!(find("区领导本人")["city_only"], true);
    assert_eq!(find("市里某局")["desk"], "city");

    let district = export_as(&app, DISTRICT_USER, DISTRICT_PASSWORD);
    assert_eq!(district.len(), 1, "{district:?}");
    assert!(body_of(&district[0]).contains("每天打卡"));
    // Each desk's copy is its own row: no id is shared between the two desks' exports.
    assert!(city.iter().all(|c| c["id"] != district[0]["id"]));

    // The city's queue filters by the desk a report was filed to, and marks city-only ones.
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let queue = desk.queue_with(&[("desk", DISTRICT)]);
    assert!(
        queue.contains("只交市里"),
        "the city-only mark in the city's queue"
    );
    assert_eq!(
        queue.matches("href=\"/staff/reports/").count(),
        2,
        "{queue}"
    );
    let stats = desk.get("/staff/stats").body;
    assert!(stats.contains("按区（县）") && stats.contains(DISTRICT_NAME));
    let by_district = desk.get("/staff/stats/district.csv").body;
    assert!(
        by_district.contains(&format!("{DISTRICT_NAME},1")),
        "{by_district}"
    );
    assert!(
        by_district.contains(&format!("{DISTRICT_NAME}（只交市里）,1")),
        "{by_district}"
    );
    assert!(
        by_district.contains("市级部门（直接交市里）,1"),
        "{by_district}"
    );

    // A district investigator cannot open a city report by its id, nor the admin any.
    let district_desk = app.login(DISTRICT_USER, DISTRICT_PASSWORD);
    for row in &city {
        let id = row["id"].as_str().unwrap();
        assert_eq!(
            district_desk.get(&format!("/staff/reports/{id}")).status,
            404
        );
    }
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    assert_eq!(admin.get("/staff/reports").status, 403);
    assert_eq!(
        admin
            .get(&format!(
                "/staff/reports/{}",
                district[0]["id"].as_str().unwrap()
            ))
            .status,
        403
    );
}

/// The database, opened beside the running server (which may be writing).
fn database(app: &TestApp) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn
}

/// The server's current month and the one before, `YYYY-MM`.
fn this_and_last_month() -> (String, String) {
    use chrono::Datelike;
    let today = chrono::Local::now().date_naive();
    let first = today.with_day(1).unwrap();
    let last = first - chrono::Duration::days(1);
    (
        today.format("%Y-%m").to_string(),
        last.format("%Y-%m").to_string(),
    )
}

/// The count of reports received the board shows for `desk` in `month`, if it shows one.
fn board_count(board: &str, month: &str, desk: &str) -> Option<u32> {
    let start = board.find(&format!("<h3>{month}</h3>"))?;
    let section = &board[start..];
    let section = &section[..section.find("</section>").unwrap_or(section.len())];
    let line = format!("<b>{desk}</b><br>收到反映 <b>");
    let at = section.find(&line)?;
    let rest = &section[at + line.len()..];
    Some(rest[..rest.find('<').unwrap()].parse().unwrap())
}

/// Each release counts what each desk received that release month; the board shows it once
/// the month is over (P11).
#[test]
fn the_board_shows_each_desks_reports_received_per_release_month_once_it_is_over() {
    let app = spawn_app();
    city_and_district(&app);
    file_all(
        &app,
        &[
            ("区里布置的事项一，要求每天打卡。", &[("desk", DISTRICT)]),
            ("区里布置的事项二，要求重复填表。", &[("desk", DISTRICT)]),
            (
                "区领导本人要求村里开具证明。",
                &[("desk", DISTRICT), ("city_only", "1")],
            ),
        ],
    );
    let city = wait_city(&app, 3);
    let month = &city[0]["released"].as_str().unwrap()[..7];
    let district = export_as(&app, DISTRICT_USER, DISTRICT_PASSWORD);
    assert_eq!(district.len(), 2);
    // As many as each desk's export holds for that release month.
    let counted = |desk: &str| -> i64 {
        database(&app)
            .query_row(
                "SELECT reports FROM board_received
                 WHERE month = ?1 AND desk_id = (SELECT id FROM desks WHERE code = ?2)",
                [month, desk],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(counted("city"), 3);
    assert_eq!(counted(DISTRICT), 2);
    // Not shown while the month runs: the page says when it will be.
    let board = app.get("/outcomes").body;
    assert_eq!(
        board_count(&board, month, "市委社会工作部"),
        None,
        "{board}"
    );
    assert_eq!(board_count(&board, month, DISTRICT_NAME), None, "{board}");
    assert!(board.contains("收到反映数下月初公布"), "{board}");
    // Once the month is over (its rows made last month's), the counts are on the board.
    let (_, last_month) = this_and_last_month();
    database(&app)
        .execute(
            "UPDATE board_received SET month = ?1 WHERE month = ?2",
            [&last_month, month],
        )
        .unwrap();
    let board = app.get("/outcomes").body;
    assert_eq!(board_count(&board, &last_month, "市委社会工作部"), Some(3));
    assert_eq!(board_count(&board, &last_month, DISTRICT_NAME), Some(2));
}

/// P11, "nothing that pins a filing": the public board does not change when the pool is
/// released. Polling it used to show each release's count per desk the moment it happened (a
/// release of fewer than `release_min` pins its oldest report to one period, and whether it
/// went to a district). A completed month's counts still show.
#[test]
fn the_board_is_the_same_before_and_after_a_release_in_the_same_month() {
    let app = spawn_app();
    city_and_district(&app);
    let (month, last_month) = this_and_last_month();
    // Last month's record, as its releases counted it.
    database(&app)
        .execute(
            "INSERT INTO board_received (desk_id, month, reports)
             SELECT id, ?1, CASE code WHEN 'city' THEN 7 ELSE 4 END FROM desks",
            [&last_month],
        )
        .unwrap();
    let before = app.get("/outcomes");
    assert_eq!(before.status, 200);
    file_all(
        &app,
        &[(
            "区里布置的事项，要求每天在群里打卡。",
            &[("desk", DISTRICT)],
        )],
    );
    wait_city(&app, 1);
    assert_eq!(export_as(&app, DISTRICT_USER, DISTRICT_PASSWORD).len(), 1);
    let after = app.get("/outcomes");
    if this_and_last_month().0 == month {
        assert_eq!(
            before.body, after.body,
            "the board changed at a release within the month"
        );
    }
    // The release was counted, for the board after the month ends.
    let counted: i64 = database(&app)
        .query_row(
            "SELECT SUM(reports) FROM board_received WHERE month = ?1",
            [&month],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(counted, 2, "one report, two desks' copies");
    // The completed month shows, and the page says plainly when this month's counts will.
    assert_eq!(
        board_count(&after.body, &last_month, "市委社会工作部"),
        Some(7)
    );
    assert_eq!(
        board_count(&after.body, &last_month, DISTRICT_NAME),
        Some(4)
    );
    assert_eq!(board_count(&after.body, &month, DISTRICT_NAME), None);
    assert!(
        after
            .body
            .contains(&format!("本月（{month}）的数字，下个月初在这里公布")),
        "{}",
        after.body
    );
}

/// How many released reports desk `code` holds, read from the database (no sign-in, so at
/// once).
fn released_to(app: &TestApp, code: &str) -> i64 {
    database(app)
        .query_row(
            "SELECT COUNT(*) FROM reports WHERE desk_id = (SELECT id FROM desks WHERE code = ?1)",
            [code],
            |r| r.get(0),
        )
        .unwrap()
}

/// Waits until desk `code` holds `n` released reports.
fn wait_released_to(app: &TestApp, code: &str, n: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while released_to(app, code) < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{code} never got {n} released reports"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The district's export, ids blanked and rows sorted.
fn district_export(app: &TestApp) -> Vec<String> {
    let mut rows: Vec<String> = export_as(app, DISTRICT_USER, DISTRICT_PASSWORD)
        .into_iter()
        .map(|mut r| {
            r["id"] = "<id>".into();
            r.to_string()
        })
        .collect();
    rows.sort();
    rows
}

/// P11 and P3: a district desk's release timing depends only on copies sealed to it. With
/// `release_min` 3, one district report waits `hold_max` periods whether or not two city-only
/// reports were filed beside it: the city-only reports release the city's copies, never the
/// district's early (which would tell the district that city-only reports exist).
#[test]
fn city_only_reports_do_not_release_a_district_report_early() {
    let env = [
        ("JIANFU_POOL_RELEASE_EVERY", "2s"),
        ("JIANFU_POOL_RELEASE_MIN", "3"),
        ("JIANFU_POOL_HOLD_MAX", "5"),
    ];
    let district_report = (
        "区里布置的事项，要求每天拍照上报。",
        &[("desk", DISTRICT)][..],
    );
    let city_only = [
        (
            "区领导本人要求村里开具证明，只交给市里。",
            &[("desk", DISTRICT), ("city_only", "1")][..],
        ),
        (
            "区里的领导要求重复填报，只交给市里。",
            &[("desk", DISTRICT), ("city_only", "1")][..],
        ),
    ];
    // Story A: the district report alone. Story B: the same, and two city-only reports.
    let alone = spawn_app_with(&env);
    let beside = spawn_app_with(&env);
    city_and_district(&alone);
    city_and_district(&beside);
    file_all(&alone, &[district_report]);
    file_all(&beside, &[district_report, city_only[0], city_only[1]]);
    // Story B's city desk has three reports pending: they go at the next release or so.
    wait_released_to(&beside, "city", 3);
    assert_eq!(
        released_to(&alone, "city"),
        0,
        "story A: the city's copy waits"
    );
    // At that moment (the district's copy has waited at most two of its five periods) the
    // district desk sees nothing in either story.
    let (a, b) = (district_export(&alone), district_export(&beside));
    assert!(
        b.is_empty(),
        "the district report was released with the city-only reports: {b:?}"
    );
    assert_eq!(a, b, "the district's view differs with city-only reports");
    // After hold_max periods the district report goes in both stories, the same.
    wait_released_to(&alone, DISTRICT, 1);
    wait_released_to(&beside, DISTRICT, 1);
    let (a, b) = (district_export(&alone), district_export(&beside));
    assert_eq!(a.len(), 1);
    assert_eq!(a, b, "the district's view differs with city-only reports");
    // The city's copy is released no later than the district's.
    assert_eq!(released_to(&alone, "city"), 1);
    assert_eq!(released_to(&beside, "city"), 3);
}

#[test]
fn the_form_asks_for_a_district_and_derives_it_from_the_township() {
    let app = spawn_app();
    // One desk only: the form has no desk field and needs none.
    app.add_staff();
    assert!(!app.get("/").body.contains("name=\"desk\""));
    // A desk made by the command line while the server runs is offered at once.
    add_district(&app, &["北山街道"]);
    let cards = app.issue_cards(3);
    // A township of no district and no desk chosen: asked to choose, everything kept.
    let mut fields = report_fields(&cards[0], "某局要求每周报送同一张表格。");
    fields.retain(|(k, _)| *k != "township");
    fields.push(("township", "不属于任何区的镇"));
    let r = app.post_form("/report", &fields);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("请选择任务所在的区（县）"));
    assert!(r.body.contains("aria-invalid=\"true\"") && r.body.contains("不属于任何区的镇"));
    assert!(r.body.contains("某局要求每周报送同一张表格。"));
    assert!(
        r.body.contains(&format!("<option value=\"{DISTRICT}\"")),
        "the district is offered"
    );
    // An unknown desk code: the same field says so.
    fields.push(("desk", "nowhere"));
    let r = app.post_form("/report", &fields);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("不在列表中了"));
    // The township of the district, no desk chosen: it goes to the district.
    let mut fields = report_fields(&cards[1], "北山街道里布置的事项，要求拍照留痕。");
    fields.retain(|(k, _)| *k != "township");
    fields.push(("township", "北山街道"));
    assert_eq!(app.post_form("/report", &fields).status, 303);
    // City-only with no district named: the city desk's.
    let mut fields = report_fields(&cards[2], "不愿说是哪个区，只交给市里。");
    fields.retain(|(k, _)| *k != "township");
    fields.push(("city_only", "1"));
    assert_eq!(app.post_form("/report", &fields).status, 303);
    wait_city(&app, 2);
    let district = export_as(&app, DISTRICT_USER, DISTRICT_PASSWORD);
    assert_eq!(district.len(), 1);
    assert!(body_of(&district[0]).contains("北山街道里布置的事项"));
}

#[test]
fn an_admin_adds_a_district_desk_with_its_townships_in_the_console() {
    let app = spawn_app();
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let r = add_desk_on_console(
        &admin,
        "binjiang",
        "滨江区委社会工作部",
        "浦沿街道\n长河街道",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("滨江区委社会工作部") && r.body.contains("长河街道"));
    // A township another desk has: refused, everything typed kept.
    let r = add_desk_on_console(&admin, "xiaoshan", "萧山区委社会工作部", "长河街道");
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("已经属于另一个区") && r.body.contains("萧山区委社会工作部"));
    let listed = app.cli_ok(&["desk", "list"], "");
    assert!(
        listed.contains("binjiang") && listed.contains("浦沿街道"),
        "{listed}"
    );
    assert!(!listed.contains("xiaoshan"));
    // Audited, and an investigator cannot add desks.
    assert!(admin.get("/staff/audit").body.contains("desk.add"));
    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let r = desk.post_csrf("/staff/desks", &[("code", "fuyang"), ("name", "富阳")]);
    assert_eq!(r.status, 403);
}

#[test]
fn the_city_desk_reads_a_district_case_and_the_district_cannot_read_the_citys() {
    let app = spawn_app();
    city_and_district(&app);
    let cards = app.issue_cards(1);
    file_with(
        &app,
        &cards[0],
        "区里布置的事项，要求每天打卡。",
        &[("desk", DISTRICT)],
    );
    wait_city(&app, 1);
    let district = app.login(DISTRICT_USER, DISTRICT_PASSWORD);
    let r = district.post_csrf(
        "/staff/cases",
        &[
            ("title", "西湖区打卡群"),
            ("department", "区农业农村局"),
            ("listed", "off"),
            ("outcome", "stopped"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let city = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let r = city.post_csrf(
        "/staff/cases",
        &[
            ("title", "市里自己的事项"),
            ("listed", "unknown"),
            ("outcome", "open"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let cases = city.get("/staff/cases").body;
    assert!(
        cases.contains("西湖区打卡群"),
        "the city reads the district's case: {cases}"
    );
    assert!(cases.contains(DISTRICT_NAME));
    let theirs = district.get("/staff/cases").body;
    assert!(theirs.contains("西湖区打卡群"));
    assert!(!theirs.contains("市里自己的事项"));
    // The district case's title is in no file in the clear.
    for (path, bytes) in crate::helpers::all_files(&app.data_dir()) {
        assert!(
            !crate::helpers::contains(&bytes, "西湖区打卡群".as_bytes()),
            "{} holds the case title",
            path.display()
        );
    }
    // The board counts the district's stopped task.
    assert!(app.get("/outcomes").body.contains(DISTRICT_NAME));
}

/// P5, P11, played by the admin: with the console alone, an admin empties the real district's
/// townships, adds a desk of their own for them and enrols as its first investigator through a
/// link they open themselves. That desk receives nothing — not on the form, not by its
/// townships — until an investigator holding the city desk key approves it after checking its
/// key fingerprint with its head; a wrong group, a district investigator or a city account the
/// admin enrolled without a grant cannot approve. A change on the console suspends it again.
#[test]
fn a_desk_an_admin_adds_on_the_console_receives_nothing_until_the_city_desk_approves_it() {
    let app = spawn_app();
    city_and_district(&app);
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    // The real district is desk 2 (the city desk is 1).
    let r = admin.post_csrf("/staff/desks/2/townships", &[("townships", "")]);
    assert_eq!(r.status, 200, "{}", r.body);
    // A second desk of the district's name would pass for it: refused.
    let r = add_desk_on_console(&admin, "xihu2", DISTRICT_NAME, "城关镇");
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("这个名称已经有调查组在用"), "{}", r.body);
    let r = add_desk_on_console(&admin, "xihu2", "西湖区调查组", "城关镇");
    assert_eq!(r.status, 200, "{}", r.body);
    let link = app
        .cli_ok(
            &[
                "user",
                "invite",
                "--username",
                "mole",
                "--role",
                "investigator",
                "--desk",
                "xihu2",
            ],
            "",
        )
        .trim()
        .to_string();
    assert_eq!(app.enrol(&link, "mole password 1").status, 200);
    assert!(admin.get("/staff/desks").body.contains("等待市调查组核准"));
    assert!(app
        .cli_ok(&["desk", "list"], "")
        .contains("until the city desk approves"));

    // Not offered, not named by its township, not reachable by its code.
    let form = app.get("/").body;
    assert!(!form.contains("value=\"xihu2\"") && !form.contains("西湖区调查组"));
    let cards = app.issue_cards(3);
    let mut fields = report_fields(&cards[0], "镇里要求村里每天拍照上报，已经持续三个月。");
    fields.push(("desk", "xihu2"));
    assert_eq!(app.post_form("/report", &fields).status, 422);
    fields.retain(|(k, _)| *k != "desk");
    fields.push(("desk", "city"));
    assert_eq!(app.post_form("/report", &fields).status, 303);
    wait_city(&app, 1);
    assert!(export_as(&app, "mole", "mole password 1").is_empty());

    // Who cannot approve: a district investigator (no such page), a city account the admin
    // enrolled for themselves (no grant of the city key), a wrong fingerprint group.
    let district = app.login(DISTRICT_USER, DISTRICT_PASSWORD);
    assert_eq!(district.get("/staff/districts").status, 404);
    let mole_team = app.login("mole", "mole password 1").get("/staff/team").body;
    // Its own investigator is told it waits, and what to read out.
    assert!(mole_team.contains("本组暂不接收反映"), "{mole_team}");
    let group = element_text(&mole_team, "desk-fingerprint")[..4].to_string();
    let city_link = app
        .cli_ok(
            &[
                "user",
                "invite",
                "--username",
                "mole-city",
                "--role",
                "investigator",
            ],
            "",
        )
        .trim()
        .to_string();
    assert_eq!(app.enrol(&city_link, "mole city password 1").status, 200);
    let ungranted = app.login("mole-city", "mole city password 1");
    let r = ungranted.post_csrf("/staff/districts/3/approve", &[("fingerprint", &group)]);
    assert_eq!(r.status, 403, "{}", r.body);
    let city = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let page = city.get("/staff/districts");
    assert!(
        page.body.contains("等待核准"),
        "{} {}",
        page.status,
        page.body
    );
    let seen = seen_on(&page.body, 3);
    let wrong = if group == "0000" { "1111" } else { "0000" };
    let r = city.post_csrf(
        "/staff/districts/3/approve",
        &[("fingerprint", wrong), ("seen", &seen)],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(!app.get("/").body.contains("value=\"xihu2\""));
    assert!(app
        .audited("desk.approve_refused")
        .iter()
        .any(|d| d.contains("desk:3")));

    // The admin changes the desk while the city investigator checks it: the approval of the
    // page as it was is refused, and the page shows the desk as it now is.
    let r = admin.post_csrf(
        "/staff/desks/3/townships",
        &[("townships", "城关镇\n西溪街道")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = city.post_csrf(
        "/staff/districts/3/approve",
        &[("fingerprint", &group), ("seen", &seen)],
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("西溪街道") && r.body.contains("被改动过"));
    assert!(!app.get("/").body.contains("value=\"xihu2\""));
    let r = admin.post_csrf("/staff/desks/3/townships", &[("townships", "城关镇")]);
    assert_eq!(r.status, 200, "{}", r.body);

    // Approved as it is, after the check: now it receives reports.
    let seen = seen_on(&city.get("/staff/districts").body, 3);
    let r = city.post_csrf(
        "/staff/districts/3/approve",
        &[("fingerprint", &group), ("seen", &seen)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(app.get("/").body.contains("value=\"xihu2\""));
    let mut fields = report_fields(&cards[1], "区里要求村里开具居住证明，已经是第三次了。");
    fields.push(("desk", "xihu2"));
    assert_eq!(app.post_form("/report", &fields).status, 303);
    wait_city(&app, 2);
    // The approved desk receives.
    wait_desk(&app, "mole", "mole password 1", 1);

    // A change on the console suspends it until approved again, and is audited in full.
    let r = admin.post_csrf(
        "/staff/desks/3/townships",
        &[("townships", "城关镇\n北山街道")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!app.get("/").body.contains("value=\"xihu2\""));
    assert!(app
        .audited("desk.townships")
        .iter()
        .any(|d| d.contains("desk:3") && d.contains("城关镇 → 城关镇、北山街道")));
}

/// Desk `id` as the city desk's approval form for it carries it.
fn seen_on(page: &str, id: i64) -> String {
    let form = &page[page
        .find(&format!("action=\"/staff/districts/{id}/approve\""))
        .expect("an approval form")..];
    let needle = "name=\"seen\" value=\"";
    let at = form.find(needle).expect("the desk as shown") + needle.len();
    form[at..at + 64].to_string()
}

/// The command line's desks receive at once (scripted set-ups), and a rotation by the
/// district's own investigator keeps its approval.
#[test]
fn a_district_desk_keeps_receiving_after_its_own_investigator_rotates_its_key() {
    let app = spawn_app();
    city_and_district(&app);
    assert!(app.get("/").body.contains("value=\"xihu\""));
    app.cli_ok(
        &[
            "desk",
            "rotate",
            "--username",
            DISTRICT_USER,
            "--password-stdin",
        ],
        &format!("{DISTRICT_PASSWORD}\n"),
    );
    assert!(app.get("/").body.contains("value=\"xihu\""));
    let cards = app.issue_cards(1);
    file_with(
        &app,
        &cards[0],
        "区里布置的事项，要求每天打卡。",
        &[("desk", DISTRICT)],
    );
    wait_city(&app, 1);
    // The district receives.
    wait_desk(&app, DISTRICT_USER, DISTRICT_PASSWORD, 1);
}

/// Makes a case on `desk`'s cases page; its id, from where the page sends back to.
fn create_case(desk: &Staff<'_>, title: &str) -> i64 {
    let r = desk.post_csrf(
        "/staff/cases",
        &[("title", title), ("listed", "unknown"), ("outcome", "open")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.header("location").expect("to the case");
    let id = to
        .strip_prefix("/staff/cases/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("a case page: {to}"));
    id.parse().unwrap_or_else(|_| panic!("a case id: {to}"))
}

/// P11: case ids are not one sequence all desks share. A district investigator who makes a
/// case, waits, and makes another must not learn from the two ids how many cases the city
/// desk (or any other) made in between. With one shared sequence the district's second id
/// would be its first plus the city's count plus one; random ids are spread over eight
/// digits like report ids, so that difference comes up by chance about once in 10^7 runs.
#[test]
fn a_districts_case_ids_say_nothing_of_the_cases_other_desks_made_in_between() {
    let app = spawn_app();
    city_and_district(&app);
    let district = app.login(DISTRICT_USER, DISTRICT_PASSWORD);
    let city = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let first = create_case(&district, "区里的第一个事项");
    const N: i64 = 3;
    let city_ids: Vec<i64> = (0..N)
        .map(|i| create_case(&city, &format!("市里的事项{i}")))
        .collect();
    let second = create_case(&district, "区里的第二个事项");
    assert_ne!(
        (second - first).abs(),
        N + 1,
        "the district's two case ids ({first}, {second}) count the city's {N} cases"
    );
    for id in [first, second].iter().chain(&city_ids) {
        assert!(
            (10_000_000..100_000_000).contains(id),
            "case id {id} is not a random eight-digit id"
        );
    }
    // Each desk's pages still list and open its own cases, and only those.
    let theirs = district.get("/staff/cases").body;
    assert!(theirs.contains("区里的第一个事项") && theirs.contains("区里的第二个事项"));
    assert!(!theirs.contains("市里的事项"));
    for id in [first, second] {
        assert_eq!(district.get(&format!("/staff/cases/{id}")).status, 200);
        assert_eq!(city.get(&format!("/staff/cases/{id}")).status, 404);
    }
    for id in &city_ids {
        assert_eq!(district.get(&format!("/staff/cases/{id}")).status, 404);
        assert_eq!(city.get(&format!("/staff/cases/{id}")).status, 200);
    }
}

/// P11: a district investigator gets the same answer for a city investigator's (or an
/// admin's) staff id as for one that does not exist, on each route of theirs that takes a
/// staff id: granting the desk key from the team page, and assigning a report. A 403 for an
/// account of another desk against a 404 for a missing one would let the district count the
/// accounts of every other desk.
#[test]
fn a_district_desk_cannot_tell_another_desks_staff_id_from_a_missing_one() {
    let app = spawn_app();
    city_and_district(&app);
    file_all(
        &app,
        &[("区里布置的事项，要求每天打卡。", &[("desk", DISTRICT)])],
    );
    wait_city(&app, 1);
    let theirs = export_as(&app, DISTRICT_USER, DISTRICT_PASSWORD);
    let report = theirs[0]["id"].as_str().unwrap().to_string();
    let (city_investigator, admin, missing) = {
        let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
        let id_of = |name: &str| -> i64 {
            conn.query_row("SELECT id FROM staff WHERE username = ?1", [name], |r| {
                r.get(0)
            })
            .unwrap()
        };
        let missing: i64 = conn
            .query_row("SELECT MAX(id) + 1000 FROM staff", [], |r| r.get(0))
            .unwrap();
        (id_of(INVESTIGATOR), id_of(ADMIN), missing)
    };
    let desk = app.login(DISTRICT_USER, DISTRICT_PASSWORD);
    let grant = |id: i64| {
        desk.post_csrf(
            &format!("/staff/team/{id}/grant"),
            &[("fingerprint", "ABCD")],
        )
    };
    let assign = |id: i64| {
        desk.post_csrf(
            &format!("/staff/reports/{report}"),
            &[("assignee_was", ""), ("assignee", &id.to_string())],
        )
    };
    for (route, answer) in [
        ("grant", &grant as &dyn Fn(i64) -> crate::helpers::Resp),
        ("assign", &assign),
    ] {
        let none = answer(missing);
        assert_eq!(none.status, 404, "{route} to a missing account");
        for (whose, id) in [
            ("a city investigator", city_investigator),
            ("an admin", admin),
        ] {
            let other = answer(id);
            assert_eq!(
                (other.status, &other.body),
                (none.status, &none.body),
                "{route} to {whose}'s id answers unlike a missing one"
            );
        }
    }
    // Nothing was granted or assigned.
    assert!(app.audited("desk.grant").is_empty());
    assert!(app.audited("desk.grant_refused").is_empty());
    assert!(app.audited("report.assign").is_empty());
}

/// P11: a reporter who ticks that the district itself is involved, but names no district
/// and no township, sends the report to the city desk alone, and the city desk still reads
/// the tick: the export carries `city_only`, the report page and the queue the mark, and
/// the statistics count it on a row of its own, not as a city department's task.
#[test]
fn a_city_only_tick_without_a_district_reaches_the_city_desk_with_its_mark() {
    let app = spawn_app();
    city_and_district(&app);
    let cards = app.issue_cards(1);
    let mut fields = report_fields(&cards[0], "不愿说是哪个区，区领导本人要求开证明。");
    fields.retain(|(k, _)| *k != "township");
    fields.push(("city_only", "1"));
    let r = app.post_form("/report", &fields);
    assert_eq!(r.status, 303, "{}", r.body);
    let city = wait_city(&app, 1);
    assert_eq!(city.len(), 1);
    assert_eq!(city[0]["desk"], "city");
    assert_eq!(city[0]["city_only"], true, "{:?}", city[0]);
    assert!(export_as(&app, DISTRICT_USER, DISTRICT_PASSWORD).is_empty());

    let desk = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let id = city[0]["id"].as_str().unwrap();
    let page = desk.get(&format!("/staff/reports/{id}")).body;
    assert!(
        page.contains("未注明区（县） <b class=\"mark\">只交市里</b>"),
        "{page}"
    );
    assert!(!page.contains("市级部门（直接交市里）"), "{page}");
    let queue = desk.get("/staff/reports?tab=all").body;
    assert!(queue.contains("只交市里"), "{queue}");
    let by_district = desk.get("/staff/stats/district.csv").body;
    assert!(
        by_district.contains("未注明区（县）（只交市里）,1"),
        "{by_district}"
    );
    assert!(
        by_district.contains("市级部门（直接交市里）,0"),
        "{by_district}"
    );
}

/// P5, P11, played by the admin without stealing a link: on a desk added on the console, and on
/// one the operator added with `jianfu desk add`, the admin enrols an account of their own
/// first, so that it makes the desk key, and then lets the real head enrol. Neither desk
/// receives anything: the console link's key is not the operator's, so only the city desk can
/// approve it; the head, who holds no grant, has no fingerprint to read out and is told what
/// it means; the city desk sees which account holds the key and is not shown the fingerprint
/// it should hear. An operator's own link still makes an approved key.
#[test]
fn an_account_an_admin_enrols_first_makes_a_key_that_receives_nothing_unapproved() {
    let app = spawn_app();
    app.add_staff();
    let admin = app.login(ADMIN, ADMIN_PASSWORD);
    let r = add_desk_on_console(&admin, "binjiang", "滨江区委社会工作部", "浦沿街道");
    assert_eq!(r.status, 200, "{}", r.body);
    app.cli_ok(
        &[
            "desk",
            "add",
            "--code",
            "fuyang",
            "--name",
            "富阳区委社会工作部",
            "--township",
            "银湖街道",
        ],
        "",
    );
    for desk in ["binjiang", "fuyang"] {
        // The admin's own account first, then the real head, both through console links.
        for (user, password) in [
            (format!("{desk}-setup"), "setup password 1"),
            (format!("{desk}-head"), "head password 1"),
        ] {
            let r = admin.post_csrf(
                "/staff/accounts",
                &[
                    ("username", &user),
                    ("role", "investigator"),
                    ("desk", desk),
                ],
            );
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(app.enrol(&link_in(&r.body), password).status, 200);
        }
        let head = app.login(&format!("{desk}-head"), "head password 1");
        let team = head.get("/staff/team").body;
        assert!(!team.contains("id=\"desk-fingerprint\""), "{team}");
        assert!(team.contains("您也还没有获得本组密钥的授权"), "{team}");
    }
    let form = app.get("/").body;
    assert!(!form.contains("value=\"binjiang\"") && !form.contains("value=\"fuyang\""));
    assert!(app
        .cli_ok(&["desk", "list"], "")
        .contains("until the city desk approves"));
    let city = app.login(INVESTIGATOR, INVESTIGATOR_PASSWORD);
    let page = city.get("/staff/districts").body;
    assert!(page.contains("binjiang-setup") && page.contains("fuyang-setup"));
    for code in ["binjiang", "fuyang"] {
        let fingerprint = app.cli_ok(&["desk", "fingerprint", "--desk", code], "");
        assert!(
            !page.contains(fingerprint.trim()),
            "{code}'s fingerprint is shown"
        );
    }

    // The operator's own link on an operator's desk: approved with its first key.
    app.cli_ok(
        &[
            "desk",
            "add",
            "--code",
            "xiaoshan",
            "--name",
            "萧山区委社会工作部",
        ],
        "",
    );
    let link = app
        .cli_ok(
            &[
                "user",
                "invite",
                "--username",
                "xiaoshan-head",
                "--role",
                "investigator",
                "--desk",
                "xiaoshan",
            ],
            "",
        )
        .trim()
        .to_string();
    assert_eq!(app.enrol(&link, "head password 1").status, 200);
    assert!(app.get("/").body.contains("value=\"xiaoshan\""));
}
