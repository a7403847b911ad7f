//! `jianfu dev seed`: DEVELOPMENT ONLY. Fills a data dir with synthetic released reports,
//! sealed to the desk key like real ones, to measure the desk at scale. Refused unless the
//! run is marked as development (`dev = true` or `JIANFU_DEV=1`).

use std::path::Path;

use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::CliError;
use crate::crypto::{self, Purpose};
use crate::domain::{Category, Channel, Listed, Month, Report};

const DEPARTMENTS: &[&str] = &[
    "县民政局",
    "县农业农村局",
    "县住房和城乡建设局",
    "县卫生健康局",
    "县教育局",
    "县统计局",
    "县应急管理局",
    "县市场监督管理局",
    "镇政府",
    "街道办事处",
];
const TOWNSHIPS: &[&str] = &["城关镇", "河西街道", "东风镇", "新华乡", "青山镇", ""];
const SENTENCES: &[&str] = &[
    "要求每天在工作群里上报巡查照片。",
    "同一张表格每周要报三次。",
    "要求开具生活困难证明并盖章。",
    "临时通知迎接检查，要求准备台账。",
    "要求下载多个政务APP并每天打卡。",
    "要求在村部挂牌上墙。",
    "电话布置入户调查任务，没有文件。",
    "抽调村干部到镇里帮忙两个月。",
];

pub fn seed(dir: &Path, config: Option<&Path>, reports: u32, desk: &str) -> Result<(), CliError> {
    let (settings, data) = super::open(dir, config)?;
    if !settings.dev {
        return Err(CliError::Usage(
            "`dev seed` writes synthetic reports: only in a development run (JIANFU_DEV=1)".into(),
        ));
    }
    let mut conn = data.db.connect()?;
    // P11: a report filed to a district desk has a copy for it and one for the city desk.
    let filed_to = crate::store::desks::by_code(&conn, desk)?
        .ok_or_else(|| CliError::Usage(format!("there is no desk `{desk}`")))?;
    let mut recipients = vec![filed_to.clone()];
    if !filed_to.is_city() {
        recipients.push(crate::store::desks::city(&conn)?);
    }
    let keys: Vec<(i64, crypto::PublicKey)> = recipients
        .iter()
        .map(|d| {
            d.public_key.map(|k| (d.id, k)).ok_or_else(|| {
                CliError::Usage(format!(
                    "desk `{}` has no key: create its first investigator before seeding",
                    d.code
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let district = (!filed_to.is_city()).then(|| filed_to.code.clone());
    let today = crate::store::today();
    let started = std::time::Instant::now();
    let mut done = 0u32;
    while done < reports {
        let chunk = (reports - done).min(10_000);
        // Sealing is the slow part: both cores, then one transaction per chunk.
        let sealed: Vec<Synthetic> = std::thread::scope(|s| {
            let halves: Vec<_> = (0..2)
                .map(|half| {
                    let (keys, district) = (&keys, &district);
                    s.spawn(move || {
                        let n = chunk / 2 + if half == 0 { chunk % 2 } else { 0 };
                        (0..n)
                            .map(|_| synthetic(keys, district.clone(), today))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            halves
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let tx = conn.transaction().map_err(crate::store::StoreError::from)?;
        {
            let mut insert = tx
                .prepare("INSERT OR IGNORE INTO reports (id, desk_id, released_on, status, sealed) VALUES (?1, ?2, ?3, 'new', ?4)")
                .map_err(crate::store::StoreError::from)?;
            for (copies, released) in &sealed {
                for (desk_id, blob) in copies {
                    while insert
                        .execute(rusqlite::params![
                            OsRng.gen_range(10_000_000i64..100_000_000),
                            desk_id,
                            released,
                            blob
                        ])
                        .map_err(crate::store::StoreError::from)?
                        == 0
                    {}
                    crate::store::board::add_received(&tx, *desk_id, &released[..7], 1)?;
                }
            }
        }
        tx.commit().map_err(crate::store::StoreError::from)?;
        done += chunk;
        eprint!("\rseeded {done}/{reports}");
    }
    eprintln!(
        "\nseeded {reports} synthetic released reports filed to `{desk}` in {:.1} s (development only)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A synthetic report's sealed copies, by desk id, and its release day.
type Synthetic = (Vec<(i64, Vec<u8>)>, String);

/// One synthetic report filed to `district` (or the city's own), sealed to each of `keys`
/// as a real one is: when filed, and again when released.
fn synthetic(
    keys: &[(i64, crypto::PublicKey)],
    district: Option<String>,
    today: chrono::NaiveDate,
) -> Synthetic {
    let mut rng = OsRng;
    let pick = |xs: &[&'static str], rng: &mut OsRng| *xs.choose(rng).unwrap_or(&"");
    let days_ago = rng.gen_range(0..365);
    let released = today - chrono::Duration::days(days_ago);
    let body: String = (0..rng.gen_range(2..8))
        .map(|_| pick(SENTENCES, &mut rng))
        .collect();
    let report = Report {
        category: *Category::ALL.choose(&mut rng).unwrap_or(&Category::Other),
        channel: *Channel::ALL.choose(&mut rng).unwrap_or(&Channel::Other),
        department: pick(DEPARTMENTS, &mut rng).to_string(),
        township: pick(TOWNSHIPS, &mut rng).to_string(),
        occurred: Month::parse(&released.format("%Y-%m").to_string(), today).unwrap_or_else(|_| {
            Month::parse(&today.format("%Y-%m").to_string(), today).expect("this month parses")
        }),
        listed: *Listed::ALL.choose(&mut rng).unwrap_or(&Listed::Unsure),
        body,
        certificate: None,
        admission_item: None,
        desk: district,
        city_only: false,
    };
    let json = serde_json::to_vec(&report).unwrap_or_default();
    let copies = keys
        .iter()
        .map(|(id, key)| {
            let filed = crypto::seal(key, Purpose::Report, &json, &mut rng);
            (*id, crypto::sealing::reseal(key, &filed, &mut rng))
        })
        .collect();
    (copies, released.to_string())
}
