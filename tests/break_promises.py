#!/usr/bin/env python3
"""Breaks each promise of SPEC §2 on purpose, one at a time, and runs the tests that
SECURITY.md names for it: every one must fail. Issue #5 asks for this to be shown; this script
is how it was shown, and how to show it again after the code moves on.

Usage (from a clean work tree; it edits src/ and templates/ and restores them with git):
    python3 tests/break_promises.py > /tmp/breaks.md     # every case
    python3 tests/break_promises.py P5                   # the cases whose name starts so
    python3 tests/break_promises.py "P5 (link)" "P2 ("   # several names or prefixes

A patch whose text is no longer in the code stops the script with the file and the text: update
the patch to the new code rather than dropping the promise.
"""
import os, re, subprocess, sys

os.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if subprocess.run("git diff --quiet -- src templates", shell=True).returncode != 0:
    sys.exit("src/ or templates/ has uncommitted changes: this script restores them with git")
def sh(cmd):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr
def patch(path, old, new):
    s = open(path).read()
    assert old in s, (path, old[:60])
    open(path, 'w').write(s.replace(old, new, 1))
CASES = [
 ("P1", "writer.rs store_group: spending a card no longer deletes it (UPDATE ... SET hash = hash)",
  [("src/store/writer.rs", '"DELETE FROM cards WHERE hash = ?1 AND {}"', '"UPDATE cards SET hash = hash WHERE hash = ?1 AND {}"')],
  ["race::", "report_statuses::a_used_or_unknown_card"]),
 ("P1 (batch column)", "schema.rs, cards.rs: a card row keeps its batch number again",
  [("src/store/schema.rs", "CREATE TABLE cards (hash BLOB PRIMARY KEY) WITHOUT ROWID;", "CREATE TABLE cards (hash BLOB PRIMARY KEY, batch INTEGER) WITHOUT ROWID;"),
   ("src/store/cards.rs", '"INSERT OR IGNORE INTO cards (hash) VALUES (?1)"', '"INSERT OR IGNORE INTO cards (hash, batch) VALUES (?1, ?2)"'),
   ("src/store/cards.rs", "insert.execute([&hash[..]])?", "insert.execute(params![&hash[..], next])?")],
  ["forensics::copies_taken"]),
 ("P2", "writer.rs: pending keys from the clock, release in key order without shuffling, report ids counting up",
  [("src/store/pending.rs", "    (OsRng.next_u64() >> 1).max(1) as i64\n", "    let _ = OsRng.next_u64(); (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() >> 1) as i64\n"),
   ("src/store/writer.rs", "pending.shuffle(&mut OsRng);", ""),
   ("src/store/pending.rs", '"SELECT desk_id, sealed FROM pending WHERE desk_id = ?1"', '"SELECT desk_id, sealed FROM pending WHERE desk_id = ?1 ORDER BY id"'),
   ("src/store/writer.rs", "super::random_id(),", "10_000_000i64 + tx.query_row(\"SELECT count(*) FROM reports\", [], |r| r.get::<_, i64>(0))?,")],
  ["forensics::a_copy", "pool::released_reports_carry_random_ids"]),
 ("P2 (re-seal)", "writer.rs release: the pending ciphertext is released as it was filed",
  [("src/store/writer.rs", "let released = sealing::reseal(key, filed, &mut OsRng);", "let released = { let _ = key; filed.clone() };"),
   ("src/desk/reports.rs", "let filed = sealing::open_released(key, &stored.sealed)?;", "let filed = zeroize::Zeroizing::new(stored.sealed.clone());")],
  ["forensics::copies_taken"]),
 ("P2 (free pages)", "store/mod.rs connect: secure_delete off",
  [("src/store/mod.rs", "PRAGMA secure_delete = ON;", "PRAGMA secure_delete = OFF;")],
  ["forensics::a_copy"]),
 ("P5 (retention)", "writer.rs retain: no VACUUM, and secure_delete off",
  [("src/store/writer.rs", '        conn.execute_batch("VACUUM")?;\n', ""),
   ("src/store/mod.rs", "PRAGMA secure_delete = ON;", "PRAGMA secure_delete = OFF;")],
  ["desk::closed_reports_past_retention"]),
 ("P3", "writer.rs store_group: the pool is released right after each group commit",
  [("src/store/writer.rs", "    tx.commit()?;\n    Ok(outcomes)\n}", "    tx.commit()?;\n    let _ = release(conn, ReleaseRule { min: 1, hold_max: 1 });\n    Ok(outcomes)\n}")],
  ["pool::pending_reports_are_invisible"]),
 ("P3 (threshold)", "writer.rs plan_release: `pool.release_min` is ignored",
  [("src/store/writer.rs", "copies >= i64::from(rule.min) || waited", "copies >= 1 || waited")],
  ["pool::two_pending_reports_wait", "forensics::copies_taken"]),
 ("P11", "report.rs recipients: the district desk gets its copy even when the reporter ticked city-only",
  [("src/domain/report.rs", "self.desk.as_deref().filter(|_| !self.city_only)", "self.desk.as_deref().filter(|_| true)")],
  ["districts::a_city_only_report_filed_between", "districts::the_city_desk_reads_every_report"]),
 ("P11 (board)", "board.rs record: the current month's received counts are on the board as releases add them",
  [("src/store/board.rs", "FROM board_received WHERE month < ?1", "FROM board_received WHERE month <= ?1")],
  ["districts::the_board_is_the_same"]),
 ("P11 (timing)", "writer.rs plan_release: every desk's release threshold counts the city's pending copies (city-only reports included)",
  [("src/store/writer.rs", "copies >= i64::from(rule.min) || waited", "pending.get(&city).copied().unwrap_or(0).max(copies) >= i64::from(rule.min) || waited")],
  ["districts::city_only_reports_do_not_release"]),
 ("P3 (file times)", "writer.rs run: the files' times are not put back after a filing",
  [("src/store/writer.rs", "    // when the submitters hear \"stored\".\n    clock.reset();\n", "    // when the submitters hear \"stored\".\n    let _ = clock;\n")],
  ["forensics::copies_taken"]),
 ("P3 (console)", "settings.rs refusal: a period under an hour is accepted",
  [("src/routes/staff/settings.rs", "Ok(period) if period < SHORTEST_CONSOLE_PERIOD =>", "Ok(period) if period < SHORTEST_CONSOLE_PERIOD / 3600 =>")],
  ["schedule::an_admin_cannot"]),
 ("P4", "report/submit.rs post: logs the user agent at info",
  [("src/routes/report/submit.rs", "    body: Result<web::Bytes, actix_web::Error>,\n) -> HttpResponse {\n", "    body: Result<web::Bytes, actix_web::Error>,\n) -> HttpResponse {\n    tracing::info!(agent = ?req.headers().get(\"user-agent\"), \"report received\");\n")],
  ["metadata::no_trace"]),
 ("P5", "report/submit.rs post: the report JSON is stored instead of its sealed box",
  [("src/routes/report/submit.rs", "sealed: crypto::seal(key, crypto::Purpose::Report, json, &mut OsRng),", "sealed: { let _ = key; json.to_vec() },")],
  ["metadata::a_pending_report_is_sealed"]),
 ("P5 (own key)", "desk/mod.rs change_password: the same own key is wrapped again under the new password",
  [("src/desk/mod.rs", "    let desk_key = unlock(conn, staff_id, old)?;\n    new_own_key(conn, staff_id, new)?;\n", "    let desk_key = unlock(conn, staff_id, old)?;\n    let own = own_key(conn, staff_id, old)?;\n    let w = wrapping::wrap(new.as_bytes(), &own.to_bytes(), &own_key_label(staff_id), WrapParams::DESK, &mut OsRng)?;\n    staff::put_investigator_key(conn, staff_id, own.public_key().as_bytes(), &w)?;\n")],
  ["separation::an_investigator_who_changed_password"]),
 ("P5 (disable)", "accounts.rs destroy_access: a disabled account keeps its own key and grant",
  [("src/accounts.rs", "    staff::delete_grant(conn, id)?;\n    staff::delete_investigator_key(conn, id)?;\n", "")],
  ["separation::disabling_an_account"]),
 ("P5 (rotation)", "desk/mod.rs rotate: notes are not sealed again",
  [("src/desk/mod.rs", "    for (id, sealed) in crate::store::reports::notes_of_desk(conn, desk_id)? {", "    for (id, sealed) in crate::store::reports::notes_of_desk(conn, desk_id)?.into_iter().filter(|_| false) {")],
  ["separation::after_a_rotation"]),
 ("P5 (case text)", "desk/cases.rs seal_case: the case's fields are stored as plain JSON",
  [("src/desk/cases.rs", "    super::seal_text(conn, desk_id, Purpose::Case, &json)", "    let _ = (conn, desk_id, Purpose::Case); Ok(json.to_vec())")],
  ["separation::case_titles"]),
 ("P5 (fingerprint)", "desk/mod.rs grant_checked: the typed fingerprint group is not compared",
  [("src/desk/mod.rs", "    typed.len() == 4 && fingerprint.starts_with(&typed)", "    !typed.is_empty() || fingerprint.starts_with(&typed)")],
  ["console::an_investigator_invited", "districts::a_desk_an_admin_adds"]),
 ("P5 (desk approval)", "desk/approval.rs is_routable: any district desk with a key receives reports, approved or not",
  [("src/desk/approval.rs", "            desk.approved.as_deref() == Some(digest(desk, townships, Some(key)).as_str())", "            { let _ = (townships, key); true }")],
  ["districts::a_desk_an_admin_adds"]),
 ("P5 (link)", "accounts.rs enrol: the link is not deleted when used",
  [("src/accounts.rs", "    staff::delete_enrolments(&tx, id)?;\n    staff::set_password_hash(&tx, id, Some(&hash))?;", "    staff::set_password_hash(&tx, id, Some(&hash))?;")],
  ["separation::an_enrolment_link_works_once"]),
 ("P8 (search)", "staff/reports.rs filter: the search text is written into the audit log",
  [("src/routes/staff/reports.rs", 'record(&state, &current, "queue.search", String::new())', 'record(&state, &current, "queue.search", filter.q.clone())')],
  ["separation::reading_filtering_and_searching"]),
 ("P6", "thanks.html: a receipt number under the heading",
  [("src/routes/report/pages.rs", '        "thanks.html",\n        &Context::new(),', '        "thanks.html",\n        &{ let mut c = Context::new(); c.insert("receipt", &rand::random::<u32>()); c },'),
   ("templates/thanks.html", "<h1>已收到</h1>", "<h1>已收到</h1><p>回执号 {{ receipt }}</p>")],
  ["metadata::the_thanks_page_is_the_same"]),
 ("P7", "identifying.rs scan: finds nothing",
  [("src/domain/identifying.rs", "pub fn scan(field: &'static str, text: &str) -> Vec<Finding> {\n", "pub fn scan(field: &'static str, text: &str) -> Vec<Finding> {\n    if !text.is_empty() { return Vec::new(); }\n")],
  ["report_statuses::identifying_text"]),
 ("P8", "staff/reports.rs show: viewing a report is no longer audited",
  [("src/routes/staff/reports.rs", '        audit::record(conn, &actor, "report.view", &format!("report:{id}"))?;\n', "        let _ = &actor;\n")],
  ["staff::the_investigator_reads_a_released_report"]),
 ("P8 (TOTP)", "store/staff.rs claim_totp_step: a used step can be claimed again",
  [("src/store/staff.rs", "WHERE staff_id = ?1 AND last_step < ?2", "WHERE staff_id = ?1")],
  ["second_factor::a_second_factor_is_needed"]),
]


def run(test):
    code, text = sh(f"cargo test --release --test api {test} 2>&1")
    if "could not compile" in text:
        return "BUILD FAILED: " + " ".join(re.findall(r"error\[.*", text)[:2])
    if code == 0:
        return "**still passes**"
    summary = re.findall(r"test result: \w+\. (\d+) passed; (\d+) failed", text)
    panics = re.findall(r"panicked at [^\n]*\n([^\n]*)", text)
    if not summary:
        return "error: " + text[-300:]
    passed, failed = map(int, summary[-1])
    return f"fails ({failed} of {passed + failed}): " + (panics[0][:160] if panics else "")


print("| promise | the break | test | result |\n|---|---|---|---|")
only = sys.argv[1:] or [""]
for name, desc, patches, tests in CASES:
    if not any(name.startswith(o) for o in only):
        continue
    try:
        for path, old, new in patches:
            patch(path, old, new)
        for test in tests:
            result = run(test).replace("|", "/")
            print(f"| {name} | {desc} | `{test}` | {result} |", flush=True)
    finally:
        sh("git checkout -- src templates")
