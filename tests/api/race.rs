//! P1 and SPEC §4: exactly one of 200 concurrent submissions of one card succeeds.

use std::sync::{Arc, Barrier};

use crate::helpers::{report_fields, spawn_app_with};

#[test]
fn two_hundred_concurrent_submissions_of_one_card_store_exactly_one() {
    // The per-address throttle would answer 429 to most of one client's refused attempts;
    // here every refusal must be the card's.
    let app = spawn_app_with(&[
        ("JIANFU_POOL_RELEASE_EVERY", "1s"),
        ("JIANFU_REPORT_ATTEMPTS", "100000"),
    ]);
    app.add_staff();
    for round in 0..3 {
        let card = app.issue_cards(1).remove(0);
        let barrier = Arc::new(Barrier::new(200));
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..200)
                .map(|i| {
                    let barrier = barrier.clone();
                    let card = card.clone();
                    let app = &app;
                    s.spawn(move || {
                        let body = format!("并发提交第 {round} 轮第 {i} 份，内容不同。");
                        let fields = report_fields(&card, &body);
                        let agent = crate::helpers::agent();
                        barrier.wait();
                        match agent
                            .post(&format!("{}/report", app.url))
                            .send_form(&fields)
                        {
                            Ok(r) => r.status(),
                            Err(ureq::Error::Status(code, _)) => code,
                            Err(e) => panic!("{e}"),
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let stored = statuses.iter().filter(|s| **s == 303).count();
        let refused = statuses.iter().filter(|s| **s == 403).count();
        assert_eq!(stored, 1, "round {round}: {statuses:?}");
        assert_eq!(refused, 199, "round {round}: {statuses:?}");
    }
    assert_eq!(app.wait_released(3).len(), 3);
}
