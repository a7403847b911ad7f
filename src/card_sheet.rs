//! A batch's card codes as handed to the admin — the only time they exist in the clear:
//! `txt` (one code per line as printed), `csv`, or the printable A4 `html` sheet.

use chrono::NaiveDate;
use tera::Context;

use crate::domain::CardCode;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardFormat {
    Txt,
    Csv,
    #[default]
    Html,
}

impl CardFormat {
    pub fn extension(self) -> &'static str {
        match self {
            CardFormat::Txt => "txt",
            CardFormat::Csv => "csv",
            CardFormat::Html => "html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            CardFormat::Txt => "text/plain; charset=utf-8",
            CardFormat::Csv => "text/csv; charset=utf-8",
            CardFormat::Html => "text/html; charset=utf-8",
        }
    }
}

/// What the sheet says about the batch.
pub struct Batch<'a> {
    pub id: i64,
    pub label: &'a str,
    pub expires: Option<NaiveDate>,
    pub entry_url: &'a str,
}

pub fn render(
    format: CardFormat,
    batch: &Batch<'_>,
    codes: &[CardCode],
) -> Result<String, tera::Error> {
    let grouped: Vec<String> = codes.iter().map(CardCode::grouped).collect();
    Ok(match format {
        CardFormat::Txt => grouped.iter().map(|c| format!("{c}\n")).collect(),
        CardFormat::Csv => {
            // P10: the one safe writer (the label is typed by an admin).
            let id = batch.id.to_string();
            let expires = batch.expires.map(|d| d.to_string()).unwrap_or_default();
            let header = ["batch", "label", "expires", "code"];
            let rows = grouped
                .iter()
                .map(|c| [id.as_str(), batch.label, expires.as_str(), c.as_str()]);
            crate::csv::to_string(std::iter::once(header).chain(rows))
                .map_err(|e| tera::Error::msg(e.to_string()))?
        }
        CardFormat::Html => {
            let mut ctx = Context::new();
            ctx.insert("codes", &grouped);
            ctx.insert("label", batch.label);
            ctx.insert("batch", &batch.id);
            ctx.insert("expires", &batch.expires.map(|d| d.to_string()));
            ctx.insert("entry_url", batch.entry_url);
            crate::templates::load()?.render("cards.html", &ctx)?
        }
    })
}
