//! SPEC §3.2: every status code of `POST /report`, with the values kept.

use crate::helpers::{report_fields, spawn_app, spawn_app_with};

const BODY: &str = "镇里在工作群里要求每天上报秸秆巡查照片。";

#[test]
fn a_valid_report_is_stored_with_303_to_thanks() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    let r = app.file(card, BODY);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/thanks"));
    let thanks = app.get("/thanks");
    assert_eq!(thanks.status, 200);
    assert!(thanks.body.contains("已收到"));
    assert_eq!(app.wait_released(1)[0]["body"], BODY);
}

#[test]
fn card_entry_forgives_case_spaces_hyphens_and_full_width() {
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(3);
    let lower_spaced = cards[0].to_lowercase().replace('-', " ");
    assert_eq!(app.file(&lower_spaced, BODY).status, 303);
    let squashed = cards[1].replace('-', "");
    assert_eq!(app.file(&format!("  {squashed}  "), BODY).status, 303);
    let full_width: String = cards[2]
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect();
    assert_eq!(app.file(&full_width, BODY).status, 303);
}

#[test]
fn a_used_or_unknown_card_gets_403_with_one_message_and_values_kept() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    assert_eq!(app.file(card, BODY).status, 303);
    let used = app.file(card, "第二次提交的内容，不应保存。");
    assert_eq!(used.status, 403);
    assert!(used.body.contains("第二次提交的内容，不应保存。"));
    assert!(used.body.contains("县农业农村局"));
    // A well-formed code that was never issued: the same message as a used card.
    let other = spawn_app();
    let never = &other.issue_cards(1)[0];
    let unknown = app.file(never, BODY);
    assert_eq!(unknown.status, 403);
    let message = |b: &str| {
        let at = b.find("class=\"notice\"").unwrap();
        let end = at + b[at..].find("</p>").unwrap();
        b[at..end].to_string()
    };
    assert_eq!(message(&used.body), message(&unknown.body));
}

#[test]
fn revoked_and_expired_cards_get_403() {
    let app = spawn_app();
    app.add_staff();
    let revoked = app.issue_cards(2);
    app.cli_ok(&["tokens", "revoke", "--batch", "1"], "");
    assert_eq!(app.file(&revoked[0], BODY).status, 403);
    // A batch that expired yesterday: written directly, since the CLI refuses past dates.
    let expired = app.issue_cards(1);
    let conn = rusqlite::Connection::open(app.data_dir().join("jianfu.db")).unwrap();
    conn.execute(
        "UPDATE batches SET expires_on = '2000-01-01' WHERE id = 2",
        [],
    )
    .unwrap();
    assert_eq!(app.file(&expired[0], BODY).status, 403);
    let list = app.cli_ok(&["tokens", "list"], "");
    assert!(list.lines().nth(1).unwrap().contains(&chrono_today()));
}

fn chrono_today() -> String {
    let out = std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn missing_or_invalid_fields_get_422_beside_the_field_with_everything_kept() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    let mut fields = report_fields(card, "要求我们重复填报同一张表格，每周三次。");
    fields.retain(|(k, _)| *k != "department");
    fields.push(("occurred", "2099-01"));
    let r = app.post_form("/report", &fields);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("请填写布置任务的部门"));
    assert!(r.body.contains("月份不能晚于本月"));
    assert!(r.body.contains("要求我们重复填报同一张表格，每周三次。"));
    assert!(r.body.contains(&format!("value=\"{card}\"")));
    assert!(r.body.contains("value=\"城关镇\""));
    assert!(r.body.contains("value=\"chat_group\" selected"));
    assert!(r.body.contains("value=\"no\" checked"));
    // The card was not spent by the rejected attempt.
    assert_eq!(app.file(card, BODY).status, 303);
}

#[test]
fn a_mistyped_card_gets_its_own_422_message() {
    let app = spawn_app();
    app.add_staff();
    let card = app.issue_cards(1).remove(0);
    let mut typo: Vec<char> = card.chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let r = app.file(&typo, BODY);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("编码核对不上"));
    let short = app.file("ABCD-EFGH", BODY);
    assert_eq!(short.status, 422);
    assert!(short.body.contains("编码应为 20 位"));
}

#[test]
fn identifying_text_warns_with_422_and_confirm_stores() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    let body = "我是东风村的会计，有事打13812345678。";
    let r = app.file(card, body);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("<mark>13812345678</mark>"));
    assert!(r.body.contains("name=\"confirm\""));
    assert!(r.body.contains(body));
    let mut fields = report_fields(card, body);
    fields.push(("confirm", "1"));
    assert_eq!(app.post_form("/report", &fields).status, 303);
}

#[test]
fn an_oversized_body_gets_413_and_a_long_account_gets_422() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    let huge = format!("token={card}&body={}", "a".repeat(200 * 1024));
    assert_eq!(app.post_raw("/report", huge.as_bytes()).status, 413);
    let long = "减".repeat(5001);
    let r = app.file(card, &long);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("5001 字"));
    assert!(r.body.contains(&long));
}

#[test]
fn refused_cards_past_the_limit_get_429_with_values_kept_and_a_valid_card_still_files() {
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_REPORT_ATTEMPTS", "3"),
    ]);
    app.add_staff();
    let cards = app.issue_cards(2);
    assert_eq!(app.file(&cards[0], BODY).status, 303);
    for _ in 0..3 {
        assert_eq!(app.file(&cards[0], BODY).status, 403);
    }
    let r = app.file(&cards[0], "被限流时填写的内容");
    assert_eq!(r.status, 429);
    assert!(r.body.contains("被限流时填写的内容"));
    // P9: the throttle stands only between refused cards and the form.
    assert_eq!(app.file(&cards[1], BODY).status, 303);
}

/// P9, as a reported department would try it: behind the README's reverse proxy every
/// reporter shares one address, and replaying a used card must not silence them.
#[test]
fn thirty_replays_of_a_used_card_from_one_address_do_not_stop_a_fresh_card() {
    let app = spawn_app();
    app.add_staff();
    let cards = app.issue_cards(2);
    assert_eq!(app.file(&cards[0], BODY).status, 303);
    for _ in 0..30 {
        let status = app.file(&cards[0], "重放一张用过的凭证。").status;
        assert!(status == 403 || status == 429, "{status}");
    }
    assert_eq!(app.file(&cards[1], "新的凭证照样能提交。").status, 303);
    let bodies: Vec<String> = app
        .wait_released(2)
        .iter()
        .map(|r| r["body"].as_str().unwrap().to_string())
        .collect();
    assert!(bodies.contains(&"新的凭证照样能提交。".to_string()));
}

#[test]
fn without_a_desk_key_submissions_get_503_with_values_kept() {
    let app = spawn_app();
    let card = &app.issue_cards(1)[0];
    let r = app.file(card, "还没有调查人员时提交的内容");
    assert_eq!(r.status, 503);
    assert!(r.body.contains("还没有调查人员时提交的内容"));
    // Nothing was spent: once the desk exists, the card files.
    app.add_staff();
    assert_eq!(app.file(card, BODY).status, 303);
}

#[test]
fn malformed_requests_never_get_a_5xx() {
    let app = spawn_app();
    app.add_staff();
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"%%%&&&===".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        b"token=%ff%fe&body=%C0%AF&category=%00".to_vec(),
        b"confirm=1&confirm=1&token=&token=x".to_vec(),
        "body="
            .bytes()
            .chain(std::iter::repeat_n(b'%', 10_000))
            .collect(),
    ];
    for body in bodies {
        let r = app.post_raw("/report", &body);
        assert!(
            r.status < 500,
            "{} for {:?}",
            r.status,
            &body[..body.len().min(20)]
        );
    }
    for path in [
        "/staff/reports/abc",
        "/staff/reports/-1",
        "/nope",
        "/static/../Cargo.toml",
    ] {
        assert!(app.get(path).status < 500, "{path}");
    }
}
