//! The desk's statistics: counts of released reports by week, month, category, channel,
//! department and township, and of cases by outcome — the figures a department reports
//! upward. Each table is drawn as an SVG bar chart on the server and exports as CSV.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::domain::{Category, Channel, Listed};
use crate::queue::Snapshot;
use crate::store::cases::{self, StoredCase};

/// One labelled count, with its bar length as a share of the table's largest.
#[derive(Debug, Serialize)]
pub struct Bar {
    pub label: String,
    pub count: usize,
    /// 0–100, for drawing.
    pub width: usize,
}

#[derive(Debug, Serialize)]
pub struct Table {
    pub slug: &'static str,
    pub title: &'static str,
    pub bars: Vec<Bar>,
}

/// The headline figures.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub reports: usize,
    pub stopped: usize,
    pub off_list_share: usize,
}

fn table(slug: &'static str, title: &'static str, counts: Vec<(String, usize)>) -> Table {
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    Table {
        slug,
        title,
        bars: counts
            .into_iter()
            .map(|(label, count)| Bar {
                width: count * 100 / max,
                label,
                count,
            })
            .collect(),
    }
}

fn position<T: PartialEq>(all: &[T], value: T) -> usize {
    all.iter().position(|v| *v == value).unwrap_or(0)
}

/// Largest first, then by label; at most `limit` rows (the rest summed as 其他).
fn ranked(m: BTreeMap<String, usize>, limit: usize) -> Vec<(String, usize)> {
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if v.len() > limit {
        let rest: usize = v[limit..].iter().map(|(_, n)| n).sum();
        v.truncate(limit);
        v.push(("其他".into(), rest));
    }
    v
}

/// The statistics of a desk's reports and cases. `districts` names every desk by code for the
/// city desk, which also gets a table by district (P11); `None` for a district desk.
pub fn compute(
    snapshot: &Snapshot,
    all_cases: &[StoredCase],
    districts: Option<&[(String, String)]>,
) -> (Summary, Vec<Table>) {
    let reports = &snapshot.reports;
    let labels = &snapshot.labels;
    // One pass over the reports that reads no string of theirs: department, township and
    // release day are counted by their numbers in the session's labels (`queue::Facets`).
    let mut by_label = [
        vec![0usize; labels.len()],
        vec![0usize; labels.len()],
        vec![0usize; labels.len()],
        vec![0usize; labels.len()],
    ];
    let mut by_category = [0usize; 32];
    let mut by_channel = [0usize; 16];
    let mut by_listed = [0usize; 4];
    for r in reports {
        let f = r.facets;
        for (counts, n) in by_label
            .iter_mut()
            .zip([f.day, f.department, f.township, f.desk])
        {
            if let Some(c) = counts.get_mut(n as usize) {
                *c += 1;
            }
        }
        by_category[position(Category::ALL, r.category)] += 1;
        by_channel[position(Channel::ALL, r.channel)] += 1;
        by_listed[position(Listed::ALL, r.listed)] += 1;
    }
    let [days, departments, townships, desks] = by_label.map(|counts| {
        counts
            .into_iter()
            .enumerate()
            .filter(|(_, n)| *n > 0)
            .map(|(i, n)| (labels.name(i as u32), n))
            .collect::<Vec<(&str, usize)>>()
    });
    let mut months = BTreeMap::new();
    let mut weeks = BTreeMap::new();
    for (day, n) in &days {
        if let Ok(d) = NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            *months.entry(d.format("%Y-%m").to_string()).or_insert(0) += n;
            let w = d.iso_week();
            *weeks
                .entry(format!("{}-W{:02}", w.year(), w.week()))
                .or_insert(0) += n;
        }
    }
    let labelled = |labels: Vec<&'static str>, counts: &[usize]| -> Vec<(String, usize)> {
        labels
            .into_iter()
            .zip(counts)
            .map(|(l, n)| (l.to_string(), *n))
            .collect()
    };
    let categories = labelled(
        Category::ALL.iter().map(|c| c.label()).collect(),
        &by_category,
    );
    let channels = labelled(
        Channel::ALL.iter().map(|c| c.label()).collect(),
        &by_channel,
    );
    let listed = labelled(Listed::ALL.iter().map(|c| c.label()).collect(), &by_listed);
    let owned = |m: Vec<(&str, usize)>| -> BTreeMap<String, usize> {
        m.into_iter()
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    };
    let departments = ranked(owned(departments), 20);
    let townships = ranked(owned(townships), 20);
    let outcomes = cases::OUTCOMES
        .iter()
        .map(|(code, label)| {
            (
                label.to_string(),
                all_cases.iter().filter(|c| c.outcome == *code).count(),
            )
        })
        .collect();
    let stopped = all_cases
        .iter()
        .filter(|c| matches!(c.outcome.as_str(), "stopped" | "adjusted"))
        .count();
    let off_list = by_listed[position(Listed::ALL, Listed::No)];
    let summary = Summary {
        reports: reports.len(),
        stopped,
        off_list_share: if reports.is_empty() {
            0
        } else {
            off_list * 100 / reports.len()
        },
    };
    let mut tables = vec![
        table("month", "按月（交付月份）", months.into_iter().collect()),
        table("week", "按周（交付周）", weeks.into_iter().collect()),
        table("category", "按类别", categories),
        table("channel", "按布置方式", channels),
        table("listed", "是否在准入清单内", listed),
        table("department", "按布置部门（前 20）", departments),
        table("township", "按乡镇（街道，前 20）", townships),
        table("outcome", "事项处理结果", outcomes),
    ];
    if let Some(names) = districts {
        tables.insert(
            2,
            table("district", "按区（县）", by_district(&desks, names)),
        );
    }
    (summary, tables)
}

/// The city desk's reports by the desk they were filed to (P11), in the order of `names`
/// (code, name): each district, then what it was kept from (只交市里), then the city-only
/// reports that named no district, then the city's own.
fn by_district(counts: &[(&str, usize)], names: &[(String, String)]) -> Vec<(String, usize)> {
    let count = |label: &str| {
        counts
            .iter()
            .filter(|(l, _)| *l == label)
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    let mut rows = Vec::new();
    for (code, name) in names {
        if code == crate::reference::CITY_DESK {
            continue;
        }
        rows.push((name.clone(), count(code)));
        let kept = count(&crate::queue::desk_facet(code, true));
        if kept > 0 {
            rows.push((format!("{name}（只交市里）"), kept));
        }
    }
    let unnamed = count(&crate::queue::desk_facet(crate::reference::CITY_DESK, true));
    if unnamed > 0 {
        rows.push((
            format!("{}（只交市里）", crate::queue::UNNAMED_DISTRICT),
            unnamed,
        ));
    }
    rows.push((
        "市级部门（直接交市里）".to_string(),
        count(crate::reference::CITY_DESK),
    ));
    rows
}

/// A table as CSV: label, count. Labels are what reporters typed (departments, townships):
/// P10, through the one safe writer.
pub fn to_csv(t: &Table) -> Result<String, crate::csv::CsvError> {
    let header = [t.title.to_string(), "count".to_string()];
    let rows = t
        .bars
        .iter()
        .map(|b| [b.label.clone(), b.count.to_string()]);
    crate::csv::to_string(std::iter::once(header).chain(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranked_keeps_the_largest_and_sums_the_rest() {
        let m: BTreeMap<String, usize> = [("a", 1), ("b", 2), ("c", 3)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(
            ranked(m, 2),
            vec![("c".into(), 3), ("b".into(), 2), ("其他".into(), 1)]
        );
    }

    #[test]
    fn widths_scale_to_the_largest() {
        let t = table(
            "x",
            "x",
            vec![("a".into(), 4), ("b".into(), 1), ("c".into(), 0)],
        );
        let w: Vec<usize> = t.bars.iter().map(|b| b.width).collect();
        assert_eq!(w, [100, 25, 0]);
    }
}
