//! Released reports as a desk opens them (P5): from the box they were released in (sealed
//! again at the release to the desk public key) or the box a session put them in since (under
//! a key derived from the desk private key).

use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::DeskError;
use crate::crypto::desk_box::{self, BoxKey};
use crate::crypto::{sealing, CryptoError, Purpose, SecretKey};
use crate::store::reports::{Boxed, StoredReport};

/// A released report, decrypted for an unlocked session or an export. Serializes with the
/// keys of `jianfu reports export` (SPEC §3.1).
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenedReport {
    pub id: String,
    pub category: crate::domain::Category,
    pub channel: crate::domain::Channel,
    pub department: String,
    pub township: String,
    pub occurred: crate::domain::Month,
    pub listed: crate::domain::Listed,
    pub body: String,
    pub released: String,
    pub status: crate::domain::ReportStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_item: Option<String>,
    /// P11: the desk the report was filed to (a district's code, or `city`). Exported only
    /// where district desks exist, so a one-desk export keeps SPEC §3.1's keys exactly.
    #[serde(skip)]
    pub desk: String,
    /// P11: kept from that district: only the city desk has it.
    #[serde(skip)]
    pub city_only: bool,
    /// The desk's own fields; not part of the export (SPEC §3.1 keys).
    #[serde(skip)]
    pub assignee: Option<i64>,
    #[serde(skip)]
    pub case_id: Option<i64>,
    /// The strings statistics count by, as numbers into the session's `queue::Labels`.
    #[serde(skip)]
    pub facets: crate::queue::Facets,
}

impl Drop for OpenedReport {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.department.zeroize();
        self.township.zeroize();
        self.body.zeroize();
        self.certificate.zeroize();
        self.admission_item.zeroize();
    }
}

/// Opens one stored report with the desk key, in whichever box it is stored.
pub fn open_report(
    key: &SecretKey,
    box_key: &BoxKey,
    stored: &StoredReport,
) -> Result<OpenedReport, DeskError> {
    decode_report(&open_plaintext(key, box_key, stored)?, stored)
}

/// Opens a released report and, if it is still sealed to the desk public key as released, boxes
/// it again under the desk key (`crypto::desk_box`) so that later unlocks are quick.
pub fn open_report_reboxing(
    key: &SecretKey,
    box_key: &BoxKey,
    stored: &StoredReport,
) -> Result<(OpenedReport, Option<Vec<u8>>), DeskError> {
    let plain = open_plaintext(key, box_key, stored)?;
    let reboxed = (stored.boxed == Boxed::Public)
        .then(|| desk_box::seal(box_key, stored.id, &plain, &mut OsRng));
    Ok((decode_report(&plain, stored)?, reboxed))
}

pub(super) fn open_plaintext(
    key: &SecretKey,
    box_key: &BoxKey,
    stored: &StoredReport,
) -> Result<Zeroizing<Vec<u8>>, DeskError> {
    Ok(match stored.boxed {
        Boxed::Desk => desk_box::open(box_key, stored.id, &stored.sealed)?,
        // Sealed again at the release (P2): the outer box holds the box it was filed in.
        Boxed::Public => {
            let filed = sealing::open_released(key, &stored.sealed)?;
            sealing::open(key, Purpose::Report, &filed)?
        }
    })
}

fn decode_report(plain: &[u8], stored: &StoredReport) -> Result<OpenedReport, DeskError> {
    let mut report: crate::domain::Report =
        serde_json::from_slice(plain).map_err(|_| DeskError::Crypto(CryptoError::Malformed))?;
    // Moved, not copied: `Report` zeroizes what is left in it when dropped.
    let take = std::mem::take::<String>;
    Ok(OpenedReport {
        id: stored.id.to_string(),
        category: report.category,
        channel: report.channel,
        department: take(&mut report.department),
        township: take(&mut report.township),
        occurred: report.occurred,
        listed: report.listed,
        body: take(&mut report.body),
        released: stored.released_on.clone(),
        status: stored.status,
        certificate: report.certificate.take(),
        admission_item: report.admission_item.take(),
        desk: report
            .desk
            .take()
            .unwrap_or_else(|| crate::reference::CITY_DESK.to_string()),
        city_only: report.city_only,
        assignee: stored.assignee,
        case_id: stored.case_id,
        facets: Default::default(),
    })
}
