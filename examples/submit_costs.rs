//! What one submission must cost on this machine, step by step (issue #12: know the limit
//! before optimizing). Each step of `POST /report` that does not depend on the network or the
//! disk is run many times on one core and its mean reported in microseconds: decoding the
//! form, parsing it, the P7 scan, the card's keyed hash, the JSON that is sealed, and the
//! X25519 seal itself. `bench/run.py` prints these beside the measured throughput.
//!
//! Usage: `cargo run --release --example submit_costs [ROUNDS]`

use std::time::Instant;

use jianfu::crypto::{self, CardHasher, KeyPair, Purpose};
use jianfu::domain::{identifying, BatchNumber, CardCode, RawReport};
use jianfu::reference::Choices;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// Mean microseconds of `f` over `rounds` runs (after a warm-up of a tenth of them).
fn time<T>(rounds: u32, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..rounds / 10 {
        std::hint::black_box(f());
    }
    let start = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(f());
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
}

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let batch = BatchNumber::new(1).expect("batch 1 exists");
    let code = CardCode::generate(batch, &mut OsRng);
    // The form the benchmark's load tool sends (bench/report.lua), with this card.
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &code.grouped())
        .append_pair("category", "verbal")
        .append_pair("channel", "chat_group")
        .append_pair("department", "县农业农村局")
        .append_pair("township", "")
        .append_pair("occurred", "2026-10")
        .append_pair("listed", "no")
        .append_pair("body", "镇里在工作群要求每天上报巡查照片，已持续三个月。")
        .finish();
    let today = chrono::Local::now().date_naive();
    let choices = Choices::default();
    let raw = RawReport::from_form(form.as_bytes());
    let (_, report) = raw.parse(today, &choices).expect("the form parses");
    let json = Zeroizing::new(serde_json::to_vec(&report).expect("serializes"));
    let hasher = CardHasher::new(Zeroizing::new([7u8; 32]));
    let key = hasher.batch_key(&[9u8; 16]);
    let desk = KeyPair::generate(&mut OsRng);

    let steps: [(&str, f64); 6] = [
        (
            "decode the form",
            time(rounds, || RawReport::from_form(form.as_bytes())),
        ),
        (
            "parse and validate it",
            time(rounds, || raw.parse(today, &choices).is_ok()),
        ),
        (
            "P7 scan (department, township, body)",
            time(rounds, || {
                identifying::scan("department", &report.department).len()
                    + identifying::scan("township", &report.township).len()
                    + identifying::scan("body", &report.body).len()
            }),
        ),
        ("the card's keyed hash", time(rounds, || key.hash(&code))),
        (
            "the JSON that is sealed",
            time(rounds, || serde_json::to_vec(&report).map(|v| v.len())),
        ),
        (
            "X25519 seal (ephemeral key, agreement, HKDF, ChaCha20-Poly1305)",
            time(rounds / 4, || {
                crypto::seal(&desk.public, Purpose::Report, &json, &mut OsRng).len()
            }),
        ),
    ];
    // The seal's two public-key steps, apart: what no change to this service can remove.
    let keygen = time(rounds / 4, || {
        let e = x25519_dalek::EphemeralSecret::random_from_rng(OsRng);
        x25519_dalek::PublicKey::from(&e).to_bytes()[0]
    });
    let peer = x25519_dalek::PublicKey::from(*desk.public.as_bytes());
    let agreement = time(rounds / 4, || {
        let e = x25519_dalek::StaticSecret::random_from_rng(OsRng);
        e.diffie_hellman(&peer).to_bytes()[0]
    });
    println!(
        "    (of the seal: {keygen:.2} µs the ephemeral key pair, {agreement:.2} µs the agreement)"
    );
    table_agreement(rounds, &peer);
    let mut total = 0.0;
    for (name, us) in steps {
        println!("{us:8.2} µs  {name}");
        total += us;
    }
    println!("{total:8.2} µs  in all, on one core");
}

/// Measured, not used: the same agreement computed with a table precomputed once for the
/// desk's key (curve25519-dalek's `EdwardsBasepointTable` for an arbitrary point), as the
/// ephemeral key pair already is for the base point. The service does not do this: it would
/// assemble X25519 from lower-level curve operations, which the project leaves to a
/// primitive's own crate. Checked against x25519-dalek on the same keys before timing.
fn table_agreement(rounds: u32, peer: &x25519_dalek::PublicKey) {
    use curve25519_dalek::edwards::EdwardsBasepointTable;
    use curve25519_dalek::montgomery::MontgomeryPoint;
    use curve25519_dalek::traits::BasepointTable;
    use rand::RngCore;

    let Some(point) = MontgomeryPoint(peer.to_bytes()).to_edwards(0) else {
        return;
    };
    let build = time(100, || EdwardsBasepointTable::create(&point));
    let table = EdwardsBasepointTable::create(&point);
    for _ in 0..100 {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let dalek = x25519_dalek::StaticSecret::from(secret).diffie_hellman(peer);
        let tabled = table.mul_base_clamped(secret).to_montgomery();
        assert_eq!(
            dalek.to_bytes(),
            tabled.to_bytes(),
            "not the same agreement"
        );
    }
    let agreement = time(rounds / 4, || {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        table.mul_base_clamped(secret).to_montgomery().to_bytes()[0]
    });
    println!(
        "    (not used: with a table precomputed for the desk key, {build:.0} µs once per key, \
         the agreement would take {agreement:.2} µs)"
    );
}
