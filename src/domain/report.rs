//! A report as the form sends it (`RawReport`, kept verbatim so nothing typed is lost) and as
//! it is sealed (`Report`, every field parsed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CardCode, Category, Channel, Listed, Month};
use crate::reference::Choices;

/// The longest account accepted, in characters (SPEC §3.2).
pub const BODY_MAX_CHARS: usize = 5000;
const BODY_MIN_CHARS: usize = 5;
const NAME_MAX_CHARS: usize = 60;

/// The form exactly as submitted. Zeroized on drop: it holds the card code.
#[derive(Default, Clone, Serialize, Zeroize, ZeroizeOnDrop)]
pub struct RawReport {
    pub token: String,
    pub category: String,
    pub channel: String,
    pub department: String,
    pub township: String,
    pub occurred: String,
    pub listed: String,
    pub body: String,
    pub certificate: String,
    pub admission_item: String,
    /// P11: the district desk's code, `city`, or empty (derived from the township).
    pub desk: String,
    /// P11: the district itself is involved: the city desk only.
    pub city_only: bool,
    pub confirm: bool,
}

impl std::fmt::Debug for RawReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // P4: reporter input never reaches a log.
        f.write_str("RawReport(..)")
    }
}

impl RawReport {
    /// Decodes `application/x-www-form-urlencoded`. Never fails: unknown fields are
    /// ignored, invalid UTF-8 is replaced, and a repeated field keeps its last value.
    pub fn from_form(bytes: &[u8]) -> RawReport {
        let mut raw = RawReport::default();
        for (k, v) in form_urlencoded::parse(bytes) {
            let slot = match k.as_ref() {
                "token" => &mut raw.token,
                "category" => &mut raw.category,
                "channel" => &mut raw.channel,
                "department" => &mut raw.department,
                "township" => &mut raw.township,
                "occurred" => &mut raw.occurred,
                "listed" => &mut raw.listed,
                "body" => &mut raw.body,
                "certificate" => &mut raw.certificate,
                "admission_item" => &mut raw.admission_item,
                "desk" => &mut raw.desk,
                "confirm" => {
                    raw.confirm = v == "1";
                    continue;
                }
                "city_only" => {
                    raw.city_only = v == "1";
                    continue;
                }
                _ => continue,
            };
            slot.zeroize();
            *slot = v.into_owned();
        }
        // Browsers send CRLF; count and store what the reporter sees.
        if raw.body.contains('\r') {
            raw.body = raw.body.replace("\r\n", "\n").replace('\r', "\n");
        }
        raw
    }

    /// Parses every field, collecting a message per bad field. `choices` are the reference
    /// lists the optional certificate and admission-item fields must come from.
    pub fn parse(
        &self,
        today: chrono::NaiveDate,
        choices: &Choices,
    ) -> Result<(CardCode, Report), FieldErrors> {
        let mut errors = FieldErrors::default();
        let token = CardCode::parse(&self.token)
            .map_err(|e| errors.add("token", e.message()))
            .ok();
        let category = Category::parse(&self.category)
            .ok_or(())
            .map_err(|_| errors.add("category", "请选择事项类别。"))
            .ok();
        let channel = Channel::parse(&self.channel)
            .ok_or(())
            .map_err(|_| errors.add("channel", "请选择布置方式。"))
            .ok();
        let listed = Listed::parse(&self.listed)
            .ok_or(())
            .map_err(|_| errors.add("listed", "请选择是否在准入清单内（不清楚也可以）。"))
            .ok();
        let occurred = Month::parse(&self.occurred, today)
            .map_err(|m| errors.add("occurred", m))
            .ok();
        let department = self.department.trim();
        if department.is_empty() {
            errors.add("department", "请填写布置任务的部门。");
        } else if department.chars().count() > NAME_MAX_CHARS {
            errors.add("department", "部门名称太长了（最多 60 字）。");
        }
        let township = self.township.trim();
        if township.chars().count() > NAME_MAX_CHARS {
            errors.add("township", "乡镇（街道）名称太长了（最多 60 字）。");
        }
        let body = self.body.trim();
        let body_chars = body.chars().count();
        if body_chars < BODY_MIN_CHARS {
            errors.add("body", "请写下发生了什么（至少几句话）。");
        } else if body_chars > BODY_MAX_CHARS {
            errors.add(
                "body",
                &format!("内容太长了：{body_chars} 字，最多 {BODY_MAX_CHARS} 字。"),
            );
        }
        let certificate = optional(&self.certificate);
        if certificate.is_some_and(|c| !choices.has_certificate(c)) {
            errors.add("certificate", "这项证明不在列表中了，请重新选择。");
        }
        let admission_item = optional(&self.admission_item);
        if admission_item.is_some_and(|c| !choices.has_admission_item(c)) {
            errors.add("admission_item", "这个清单事项不在列表中了，请重新选择。");
        }
        let route = self
            .route(township, choices)
            .map_err(|m| errors.add("desk", m))
            .ok();
        match (token, category, channel, listed, occurred, route) {
            (
                Some(token),
                Some(category),
                Some(channel),
                Some(listed),
                Some(occurred),
                Some((desk, city_only)),
            ) if errors.is_empty() => Ok((
                token,
                Report {
                    category,
                    channel,
                    department: department.to_string(),
                    township: township.to_string(),
                    occurred,
                    listed,
                    body: body.to_string(),
                    certificate: certificate.map(str::to_string),
                    admission_item: admission_item.map(str::to_string),
                    desk,
                    city_only,
                },
            )),
            _ => Err(errors),
        }
    }

    /// P11: the district desk the report goes to besides the city's (`None`: the city desk
    /// only), and whether the reporter asked that the district not see it. The desk named in
    /// the form wins; without one, the township's desk; where district desks exist and neither
    /// names one, the reporter is asked to choose (the city desk itself is a choice).
    fn route(
        &self,
        township: &str,
        choices: &Choices,
    ) -> Result<(Option<String>, bool), &'static str> {
        let desk = self.desk.trim();
        let district = match desk {
            "" if choices.districts.is_empty() => None,
            "" => match choices.district_of_township(township) {
                Some(d) => Some(d.code.clone()),
                None if self.city_only => None,
                None => return Err("请选择任务所在的区（县）；市级部门直接布置的，选“市级部门”。"),
            },
            crate::reference::CITY_DESK => None,
            code => match choices.district(code) {
                Some(d) => Some(d.code.clone()),
                None => return Err("这个区（县）不在列表中了，请重新选择。"),
            },
        };
        // The tick is the reporter's statement that the district itself is involved: kept
        // even when they name no district (it then goes to the city desk alone anyway), so the
        // city desk reads it. Where no district desk exists the form has no such tick.
        let city_only = self.city_only && !choices.districts.is_empty();
        Ok((district, city_only))
    }
}

fn optional(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty())
}

/// A complete, valid report: what is sealed to the desk key.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Report {
    pub category: Category,
    pub channel: Channel,
    pub department: String,
    pub township: String,
    pub occurred: Month,
    pub listed: Listed,
    pub body: String,
    /// The cancelled certificate demanded, by name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The admission-list item the task was said to be (its screening code), or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission_item: Option<String>,
    /// P11: the district desk the report was filed to (its code); `None`: the city desk's
    /// own. Sealed, like everything the reporter chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk: Option<String>,
    /// P11: the reporter ticked that the district itself is involved: sent to the city desk
    /// only, kept from the district named in `desk` if one is named.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub city_only: bool,
}

impl Report {
    /// The desks that receive this report, by code: the district named (unless the reporter
    /// kept it out) and always the city's.
    pub fn recipients(&self) -> Vec<&str> {
        let mut desks = Vec::with_capacity(2);
        if let Some(d) = self.desk.as_deref().filter(|_| !self.city_only) {
            desks.push(d);
        }
        desks.push(crate::reference::CITY_DESK);
        desks
    }
}

impl std::fmt::Debug for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Report(..)")
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        self.department.zeroize();
        self.township.zeroize();
        self.body.zeroize();
        self.certificate.zeroize();
        self.admission_item.zeroize();
        self.desk.zeroize();
    }
}

/// A message per field, shown beside it.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: &str) {
        self.0.entry(field).or_insert_with(|| message.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn form(token: &str) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("category", "certificate")
            .append_pair("channel", "chat_group")
            .append_pair("department", "县民政局")
            .append_pair("occurred", "2026-10")
            .append_pair("listed", "no")
            .append_pair("body", "要求每户开具生活困难证明。\r\n第二行")
            .finish()
    }

    #[test]
    fn a_complete_form_parses() {
        let code = CardCode::generate(crate::domain::BatchNumber::new(1).unwrap(), &mut OsRng);
        let raw = RawReport::from_form(form(&code.grouped()).as_bytes());
        let (card, report) = raw.parse(today(), &Choices::default()).unwrap();
        assert_eq!(card.normalized(), code.normalized());
        assert_eq!(report.category, Category::Certificate);
        assert_eq!(report.body, "要求每户开具生活困难证明。\n第二行");
        assert_eq!(report.township, "");
    }

    #[test]
    fn every_bad_field_gets_its_own_message() {
        let raw = RawReport::from_form(b"category=nope&occurred=2030-01&body=x");
        let errors = raw.parse(today(), &Choices::default()).err().unwrap();
        for field in [
            "token",
            "category",
            "channel",
            "department",
            "occurred",
            "listed",
            "body",
        ] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        assert!(errors.get("township").is_none());
    }

    #[test]
    fn body_limit_counts_characters_not_bytes() {
        let code = CardCode::generate(crate::domain::BatchNumber::new(1).unwrap(), &mut OsRng);
        let mut raw = RawReport::from_form(form(&code.grouped()).as_bytes());
        raw.body = "减".repeat(BODY_MAX_CHARS);
        assert!(raw.parse(today(), &Choices::default()).is_ok());
        raw.body.push('负');
        assert!(raw
            .parse(today(), &Choices::default())
            .err()
            .unwrap()
            .get("body")
            .is_some());
    }

    #[test]
    fn malformed_bytes_never_panic() {
        let raw = RawReport::from_form(b"body=%ff%fe&token=%&&=&confirm=1");
        assert!(raw.confirm);
        assert!(raw.parse(today(), &Choices::default()).is_err());
    }
}
