//! SPEC §3.1 `reports export`: a report goes in through the form and comes out of the
//! export byte for byte; csv has the same fields.

use crate::helpers::{spawn_app, INVESTIGATOR, INVESTIGATOR_PASSWORD};

#[test]
fn a_report_round_trips_byte_exact_through_export() {
    let app = spawn_app();
    app.add_staff();
    let card = &app.issue_cards(1)[0];
    let body = "要求开具“生活困难证明”，并加盖村委会公章。\n第二段：<b>不是标签</b> & \"引号\" 'single' \\ 反斜杠\t制表符 😀";
    let fields = [
        ("token", card.as_str()),
        ("category", "certificate"),
        ("channel", "document"),
        ("department", "县住房和城乡建设局"),
        ("township", "河西街道"),
        ("occurred", "2026-09"),
        ("listed", "unsure"),
        ("body", body),
    ];
    assert_eq!(app.post_form("/report", &fields).status, 303);
    let rows = app.wait_released(1);
    let row = rows[0].as_object().unwrap();
    let mut keys: Vec<&str> = row.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "body",
            "category",
            "channel",
            "department",
            "id",
            "listed",
            "occurred",
            "released",
            "status",
            "township"
        ]
    );
    assert_eq!(row["body"], body);
    assert_eq!(row["category"], "certificate");
    assert_eq!(row["channel"], "document");
    assert_eq!(row["department"], "县住房和城乡建设局");
    assert_eq!(row["township"], "河西街道");
    assert_eq!(row["occurred"], "2026-09");
    assert_eq!(row["listed"], "unsure");
    assert_eq!(row["status"], "new");
    // P3: the only date is the release day.
    assert_eq!(row["released"].as_str().unwrap().len(), 10);

    let csv = app.cli_ok(
        &[
            "reports",
            "export",
            "--username",
            INVESTIGATOR,
            "--password-stdin",
            "--format",
            "csv",
        ],
        &format!("{INVESTIGATOR_PASSWORD}\n"),
    );
    assert!(csv.starts_with(
        "\u{feff}id,category,channel,department,township,occurred,listed,body,released,status\r\n"
    ));
    assert!(csv.contains(
        "\"要求开具“生活困难证明”，并加盖村委会公章。\n第二段：<b>不是标签</b> & \"\"引号\"\""
    ));
}

#[test]
fn export_refuses_a_wrong_password_and_admins() {
    let app = spawn_app();
    app.add_staff();
    let out = app.cli(
        &[
            "reports",
            "export",
            "--username",
            INVESTIGATOR,
            "--password-stdin",
        ],
        "not the password\n",
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let out = app.cli(
        &[
            "reports",
            "export",
            "--username",
            crate::helpers::ADMIN,
            "--password-stdin",
        ],
        &format!("{}\n", crate::helpers::ADMIN_PASSWORD),
    );
    assert!(!out.status.success());
}
