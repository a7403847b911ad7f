//! The parsers of sealed boxes, on bytes as they could be found in (or written into) the
//! database: padding, the sealed boxes to the desk key for each purpose, the release box, the
//! desk's own boxes, a stored report, a case, a note and a TOTP secret. Arbitrary bytes never
//! open and never panic: every one is refused with an error. And any plaintext sealed by the
//! service opens as itself, or, inside a report or a case, is refused as malformed.
#![no_main]

use jianfu::authentication::totp::TotpSealer;
use jianfu::crypto::desk_box::{self, BoxKey};
use jianfu::crypto::{padding, sealing, CardHasher, Purpose, SecretKey};
use jianfu::desk::{open_case, open_note, open_report};
use jianfu::domain::ReportStatus;
use jianfu::store::reports::{Boxed, StoredReport};
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use zeroize::Zeroizing;

const PURPOSES: [Purpose; 5] = [
    Purpose::Report,
    Purpose::Grant,
    Purpose::Note,
    Purpose::Case,
    Purpose::Release,
];

fn stored(sealed: Vec<u8>, boxed: Boxed) -> StoredReport {
    StoredReport {
        id: 42,
        desk_id: 1,
        released_on: "2026-11-24".into(),
        status: ReportStatus::New,
        sealed,
        boxed,
        assignee: None,
        case_id: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let desk = SecretKey::from_bytes(Zeroizing::new([7u8; 32]));
    let box_key = BoxKey::derive(&desk);
    if mode % 2 == 0 {
        // Bytes as stored.
        if let Ok(inner) = padding::unpad(bytes) {
            assert!(inner.len() + 4 <= bytes.len());
        }
        for purpose in PURPOSES {
            assert!(sealing::open(&desk, purpose, bytes).is_err());
        }
        assert!(sealing::open_released(&desk, bytes).is_err());
        assert!(desk_box::open(&box_key, 42, bytes).is_err());
        assert!(open_case(&desk, bytes).is_err());
        assert!(open_note(&desk, bytes).is_err());
        for boxed in [Boxed::Public, Boxed::Desk] {
            assert!(open_report(&desk, &box_key, &stored(bytes.to_vec(), boxed)).is_err());
        }
        let sealer = TotpSealer::new(&CardHasher::new(Zeroizing::new([9u8; 32])));
        assert!(sealer.open(3, bytes).is_err());
    } else {
        // A plaintext the service seals (a report's JSON, a case's, a note).
        let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(mode));
        let public = desk.public_key();
        let sealed = sealing::seal(&public, Purpose::Note, bytes, &mut rng);
        assert_eq!(sealed.len(), 32 + padding::pad(bytes).len() + 16);
        assert_eq!(
            sealing::open(&desk, Purpose::Note, &sealed)
                .expect("opens")
                .as_slice(),
            bytes
        );
        if let Ok(note) = open_note(&desk, &sealed) {
            assert_eq!(note.as_bytes(), bytes);
        }
        let _ = open_case(
            &desk,
            &sealing::seal(&public, Purpose::Case, bytes, &mut rng),
        );
        let filed = sealing::seal(&public, Purpose::Report, bytes, &mut rng);
        let released = sealing::reseal(&public, &filed, &mut rng);
        let public_box = open_report(&desk, &box_key, &stored(released, Boxed::Public));
        let boxed = desk_box::seal(&box_key, 42, bytes, &mut rng);
        let desk_box = open_report(&desk, &box_key, &stored(boxed, Boxed::Desk));
        assert_eq!(public_box.is_ok(), desk_box.is_ok());
        if let (Ok(a), Ok(b)) = (public_box, desk_box) {
            assert_eq!(a.body, b.body);
        }
    }
});
