//! The investigators' queue: tabs, filters, text search and pagination over the released
//! reports a session has decrypted. Parsing is lenient: an unknown filter value is ignored.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::Connection;
use serde::Serialize;

use crate::crypto::desk_box::BoxKey;
use crate::crypto::SecretKey;
use crate::desk::{self, DeskError, OpenedReport};
use crate::domain::{Category, Channel, Listed, ReportStatus};
use crate::store::reports::{self, StoredReport};

pub const PAGE_SIZE: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tab {
    #[default]
    New,
    Open,
    Closed,
    All,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::New, Tab::Open, Tab::Closed, Tab::All];

    pub fn parse(s: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.code() == s)
    }

    pub fn code(self) -> &'static str {
        match self {
            Tab::New => "new",
            Tab::Open => "open",
            Tab::Closed => "closed",
            Tab::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::New => "新收",
            Tab::Open => "核查中",
            Tab::Closed => "已办结",
            Tab::All => "全部",
        }
    }

    pub fn contains(self, status: ReportStatus) -> bool {
        match self {
            Tab::New => status == ReportStatus::New,
            Tab::Open => status == ReportStatus::Investigating,
            Tab::Closed => !matches!(status, ReportStatus::New | ReportStatus::Investigating),
            Tab::All => true,
        }
    }
}

/// The filters of a session's queue. P8: they are set by a POST and kept in the session, so
/// nothing typed from a report (a department, a search) is ever in a URL or a proxy's log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filter {
    pub tab: Tab,
    pub category: Option<Category>,
    pub channel: Option<Channel>,
    pub department: String,
    pub township: String,
    pub month: String,
    pub listed: Option<Listed>,
    pub status: Option<ReportStatus>,
    /// The case the reports were grouped into, by id.
    pub case_id: Option<i64>,
    /// The investigator who handles them, by staff id.
    pub assignee: Option<i64>,
    /// P11, the city desk's: the desk the reports were filed to, by code.
    pub desk: String,
    pub q: String,
    pub page: usize,
}

/// The longest filter or search text kept (characters).
const TEXT_MAX: usize = 100;

impl Filter {
    /// The filters of a posted filter form (the tab and page come from the URL).
    pub fn from_form(q: &HashMap<String, String>) -> Filter {
        let get = |k: &str| q.get(k).map(|v| v.trim()).unwrap_or("");
        let text = |k: &str| get(k).chars().take(TEXT_MAX).collect::<String>();
        Filter {
            tab: Tab::default(),
            category: Category::parse(get("category")),
            channel: Channel::parse(get("channel")),
            department: text("department"),
            township: text("township"),
            month: text("month"),
            listed: Listed::parse(get("listed")),
            status: ReportStatus::parse(get("status")),
            case_id: get("case_id").parse().ok(),
            assignee: get("assignee").parse().ok(),
            desk: text("desk"),
            q: text("q"),
            page: 1,
        }
    }

    /// The names of the filters that are set, never their values (P8: what the audit log
    /// records of a filter).
    pub fn field_names(&self) -> Vec<&'static str> {
        [
            ("category", self.category.is_some()),
            ("channel", self.channel.is_some()),
            ("department", !self.department.is_empty()),
            ("township", !self.township.is_empty()),
            ("month", !self.month.is_empty()),
            ("listed", self.listed.is_some()),
            ("status", self.status.is_some()),
            ("case", self.case_id.is_some()),
            ("assignee", self.assignee.is_some()),
            ("desk", !self.desk.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// Whether any filter or a search narrows the queue.
    pub fn is_filtered(&self) -> bool {
        !self.field_names().is_empty() || !self.q.is_empty()
    }

    /// The tab and page of a queue URL, on these filters.
    pub fn at(&self, tab: Option<&str>, page: Option<&str>) -> Filter {
        Filter {
            tab: tab.and_then(Tab::parse).unwrap_or(self.tab),
            page: page.and_then(|p| p.parse().ok()).unwrap_or(1).max(1),
            ..self.clone()
        }
    }

    /// Every filter but the tab.
    fn matches(&self, r: &OpenedReport) -> bool {
        self.category.is_none_or(|c| r.category == c)
            && self.channel.is_none_or(|c| r.channel == c)
            && (self.department.is_empty() || r.department.contains(&self.department))
            && (self.township.is_empty() || r.township.contains(&self.township))
            && (self.month.is_empty() || r.occurred.to_string() == self.month)
            && self.listed.is_none_or(|l| r.listed == l)
            && self.status.is_none_or(|s| r.status == s)
            && self.case_id.is_none_or(|c| r.case_id == Some(c))
            && self.assignee.is_none_or(|a| r.assignee == Some(a))
            && (self.desk.is_empty() || r.desk == self.desk)
            && (self.q.is_empty()
                || r.body.contains(&self.q)
                || r.department.contains(&self.q)
                || r.township.contains(&self.q))
    }
}

/// One page of the queue, with the count of each tab under the same filters.
pub struct Page<'a> {
    pub rows: Vec<&'a Arc<OpenedReport>>,
    pub counts: Vec<(Tab, usize)>,
    pub pages: usize,
}

pub fn apply<'a>(reports: &'a [Arc<OpenedReport>], filter: &Filter) -> Page<'a> {
    let matching: Vec<&Arc<OpenedReport>> = reports.iter().filter(|r| filter.matches(r)).collect();
    let counts = Tab::ALL
        .into_iter()
        .map(|t| (t, matching.iter().filter(|r| t.contains(r.status)).count()))
        .collect();
    let in_tab: Vec<&Arc<OpenedReport>> = matching
        .into_iter()
        .filter(|r| filter.tab.contains(r.status))
        .collect();
    let pages = in_tab.len().div_ceil(PAGE_SIZE).max(1);
    let start = (filter.page.min(pages) - 1) * PAGE_SIZE;
    let rows = in_tab.into_iter().skip(start).take(PAGE_SIZE).collect();
    Page {
        rows,
        counts,
        pages,
    }
}

/// The released reports as one investigator's session has decrypted them (held in the
/// session, so they go when it ends — P5), and the desk generation they reflect.
pub struct Snapshot {
    pub generation: u64,
    pub reports: Vec<Arc<OpenedReport>>,
    /// The names behind every report's `facets`.
    pub labels: Labels,
}

/// A report's department, township and release day as numbers into `Labels`: statistics
/// count 100,000 reports without reading a string of theirs (each would be a cache miss).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facets {
    pub department: u32,
    pub township: u32,
    pub day: u32,
    /// P11: the desk the report was filed to, and whether it was kept from that district
    /// (`desk_facet`).
    pub desk: u32,
}

/// The label a report's desk facet numbers: the desk's code, marked when city-only.
pub fn desk_facet(desk: &str, city_only: bool) -> String {
    if city_only {
        format!("{desk}{CITY_ONLY_MARK}")
    } else {
        desk.to_string()
    }
}

/// Ends a desk facet label of a report sent to the city desk only.
pub const CITY_ONLY_MARK: &str = "\u{0}city_only";

/// Where a city-only report that names no district was filed, as the city desk's pages and
/// statistics show it: the reporter said the district itself is involved and named none (its
/// desk is the city's, but it is no city department's task).
pub const UNNAMED_DISTRICT: &str = "未注明区（县）";

/// The distinct department, township and day strings of a session's reports, numbered in
/// the order first seen; zeroized when the session's snapshot goes.
#[derive(Clone, Default)]
pub struct Labels {
    names: Vec<String>,
    numbers: HashMap<String, u32>,
}

impl Labels {
    fn number(&mut self, name: &str) -> u32 {
        if let Some(n) = self.numbers.get(name) {
            return *n;
        }
        let n = self.names.len() as u32;
        self.names.push(name.to_string());
        self.numbers.insert(name.to_string(), n);
        n
    }

    fn facets(&mut self, r: &OpenedReport) -> Facets {
        Facets {
            department: self.number(&r.department),
            township: self.number(&r.township),
            day: self.number(&r.released),
            desk: self.number(&desk_facet(&r.desk, r.city_only)),
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, number: u32) -> &str {
        self.names.get(number as usize).map_or("", String::as_str)
    }
}

impl Drop for Labels {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.names.zeroize();
        for (mut name, _) in self.numbers.drain() {
            name.zeroize();
        }
    }
}

/// A refreshed snapshot, and the reports it found still sealed as filed, boxed again under
/// the desk key for the caller to store (`reports::store_desk_boxes`).
pub struct Refreshed {
    pub snapshot: Snapshot,
    pub desk_boxes: Vec<(i64, Vec<u8>)>,
}

/// Brings a session's reports up to date with the database: the desk's own fields (status,
/// assignee, case) are re-read for every report, and only reports the session has not
/// opened yet are decrypted, on both cores.
pub fn refresh(
    conn: &Connection,
    key: &SecretKey,
    desk_id: i64,
    old: Option<&Snapshot>,
    generation: u64,
) -> Result<Refreshed, DeskError> {
    // A session unlocked before a rotation holds a key that opens nothing any more.
    desk::is_current(conn, desk_id, key)?;
    let known: HashMap<i64, &Arc<OpenedReport>> = old
        .map(|s| {
            s.reports
                .iter()
                .filter_map(|r| r.id.parse().ok().map(|id| (id, r)))
                .collect()
        })
        .unwrap_or_default();
    let fields = reports::desk_fields(conn, desk_id)?;
    let missing: Vec<i64> = fields
        .iter()
        .map(|f| f.id)
        .filter(|id| !known.contains_key(id))
        .collect();
    let box_key = BoxKey::derive(key);
    let mut labels = old.map(|s| s.labels.clone()).unwrap_or_default();
    let mut desk_boxes = Vec::new();
    let mut fresh: HashMap<i64, OpenedReport> = HashMap::with_capacity(missing.len());
    reports::with_ids_in_batches(
        conn,
        &missing,
        OPEN_BATCH,
        |stored| -> Result<(), DeskError> {
            let opened = open_in_parallel(key, &box_key, &stored)?;
            for ((mut report, reboxed), stored) in opened.into_iter().zip(&stored) {
                if let Some(b) = reboxed {
                    desk_boxes.push((stored.id, b));
                }
                report.facets = labels.facets(&report);
                fresh.insert(stored.id, report);
            }
            Ok(())
        },
    )?;
    let reports = fields
        .into_iter()
        .filter_map(|f| {
            // Copied in queue order, so that a search walks memory in order (the opened
            // ones were allocated in storage order; they are zeroized as `fresh` drops, after
            // the copies, which must not reuse their places).
            let current = match fresh.get(&f.id) {
                Some(opened) => Arc::new(opened.clone()),
                None => Arc::clone(known.get(&f.id)?),
            };
            if current.status == f.status
                && current.assignee == f.assignee
                && current.case_id == f.case_id
            {
                return Some(current);
            }
            let mut updated = (*current).clone();
            updated.status = f.status;
            updated.assignee = f.assignee;
            updated.case_id = f.case_id;
            Some(Arc::new(updated))
        })
        .collect();
    Ok(Refreshed {
        snapshot: Snapshot {
            generation,
            reports,
            labels,
        },
        desk_boxes,
    })
}

type Opened = (OpenedReport, Option<Vec<u8>>);

/// Reports opened per pass: their ciphertexts are all a refresh holds at once.
const OPEN_BATCH: usize = 4096;

fn open_in_parallel(
    key: &SecretKey,
    box_key: &BoxKey,
    stored: &[StoredReport],
) -> Result<Vec<Opened>, DeskError> {
    let half = stored.len().div_ceil(2).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = stored
            .chunks(half)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|r| desk::open_report_reboxing(key, box_key, r))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(stored.len());
        for part in parts {
            all.extend(
                part.join()
                    .map_err(|_| DeskError::Crypto(crate::crypto::CryptoError::Malformed))??,
            );
        }
        Ok(all)
    })
}
