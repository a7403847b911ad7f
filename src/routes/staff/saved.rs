//! The visible "已保存" after a staff action (issue 13): the action redirects with
//! `?saved=<codes>` and the page it lands on says what was done. The codes are fixed words
//! from the table below, never anything typed (P8: no report content in a URL); an unknown
//! code is ignored.

use std::collections::HashMap;

/// Triage fields a report page can save together, by code.
const FIELDS: &[(&str, &str)] = &[
    ("status", "状态"),
    ("assignee", "承办人"),
    ("case", "所属事项"),
    ("note", "笔记"),
];

/// Whole-page messages, by code.
const MESSAGES: &[(&str, &str)] = &[
    ("none", "已保存（没有改动）。"),
    ("case_info", "事项信息已保存。"),
    ("published", "已保存并公示。"),
    ("withdrawn", "已撤回公示。"),
    ("revoked", "已作废这一批中未用的凭证。"),
];

/// The query value for a triage save that changed these fields (`none` for no change).
pub fn fields(changed: &[&'static str]) -> String {
    if changed.is_empty() {
        "none".to_string()
    } else {
        changed.join(",")
    }
}

/// The message for a page's `saved` query value, if it names something.
pub fn notice(query: &HashMap<String, String>) -> Option<String> {
    let codes = query.get("saved")?;
    if let Some((_, message)) = MESSAGES.iter().find(|(c, _)| c == codes) {
        return Some(message.to_string());
    }
    let names: Vec<&str> = codes
        .split(',')
        .filter_map(|code| FIELDS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l))
        .collect();
    (!names.is_empty()).then(|| format!("已保存：{}。", names.join("、")))
}

/// Puts the notice, if any, into a page's context (`staff/base.html` shows it).
pub fn insert(ctx: &mut tera::Context, query: &HashMap<String, String>) {
    ctx.insert("saved", &notice(query));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(v: &str) -> HashMap<String, String> {
        HashMap::from([("saved".to_string(), v.to_string())])
    }

    #[test]
    fn fields_and_messages_read_as_sentences() {
        assert_eq!(
            notice(&query(&fields(&["status", "case"]))).as_deref(),
            Some("已保存：状态、所属事项。")
        );
        assert_eq!(
            notice(&query(&fields(&[]))).as_deref(),
            Some("已保存（没有改动）。")
        );
        assert_eq!(notice(&query("withdrawn")).as_deref(), Some("已撤回公示。"));
    }

    #[test]
    fn anything_else_shows_nothing() {
        assert_eq!(notice(&query("<b>x</b>")), None);
        assert_eq!(notice(&HashMap::new()), None);
    }
}
